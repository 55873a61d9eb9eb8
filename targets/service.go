package targets

import (
	"regexp"
	"slices"
	"strings"
)

// Service is a target's systemd mode: watch installs the program as a
// unit on the device, restarts it on every redeploy and follows its
// journal, so it keeps running after armbench (and the user) leave.
type Service struct {
	Unit  string // unit name without ".service"; "" = armbench-<binary name>
	Scope string // "user" (systemctl --user, the default) or "system" (systemctl, through sudo -n unless the login is root)
}

// Service scopes.
const (
	ServiceUser   = "user"
	ServiceSystem = "system"
)

var (
	serviceKeys = []string{"unit", "scope"}
	unitRE      = regexp.MustCompile(`^[A-Za-z0-9:_.@-]{1,200}$`)
)

// service reads `service = true` or a [target.service] table. It needs
// the target's host and runner, which targetKeys lists before it.
func (c *checker) service(e entry, path []string, t Target) *Service {
	var s *Service
	switch v := e.val.(type) {
	case bool:
		if !v {
			return nil
		}
		s = &Service{Scope: ServiceUser}
	case map[string]any:
		s = &Service{Scope: ServiceUser}
		for _, k := range sortedKeys(v) {
			ke := c.entry("service."+k, v[k], append(slices.Clone(path), k)...)
			switch k {
			case "unit":
				if u, ok := c.str(ke); ok {
					u = strings.TrimSuffix(u, ".service")
					if !unitRE.MatchString(u) || strings.HasPrefix(u, "-") {
						c.add(ke.vpos, ke.key, "%q is not a unit name: letters, digits and : _ . @ -", u)
					}
					s.Unit = u
				}
			case "scope":
				if sc, ok := c.str(ke); ok {
					if sc != ServiceUser && sc != ServiceSystem {
						c.add(ke.vpos, ke.key, `%q is not a scope: "user" (systemctl --user) or "system" (systemctl as root, through sudo -n unless you log in as root)`, sc)
					}
					s.Scope = sc
				}
			default:
				c.unknown(ke.pos, k, serviceKeys, "[target.service]")
			}
		}
	default:
		c.add(e.vpos, e.key, `must be true or a table such as { unit = "myapp", scope = "user" }, got %s`, describe(e.val))
		return nil
	}
	switch {
	case t.IsLocal():
		c.add(e.pos, e.key, "needs a device with systemd: a local target runs its programs itself")
	case t.Runner != "":
		c.add(e.pos, e.key, "runs the program under the device's systemd, which cannot use runner %q: remove one of them", t.Runner)
	}
	return s
}
