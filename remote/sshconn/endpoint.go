package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os/user"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"

	"armbench/remote/fault"
	"armbench/targets"
)

// Endpoint is a target resolved through ~/.ssh/config: where to connect,
// as whom, with which keys.
type Endpoint struct {
	name       string // target name, for errors
	alias      string // the host as written in targets.toml
	host       string // HostName
	port       int
	user       string
	identities []string // key files to try, in order
	jump       string   // ProxyJump, "" = direct
}

func (e Endpoint) hostport() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// display is user@host:port as errors show it.
func (e Endpoint) Display() string { return e.user + "@" + e.hostport() }

func (e Endpoint) OpErr(op, step string, err error) error {
	if err == nil {
		return nil
	}
	var oe *fault.OpError
	if errors.As(err, &oe) && oe.Target == e.name && oe.Op == op {
		return err
	}
	return &fault.OpError{Op: op, Target: e.name, Addr: e.Display(), Step: step, Err: err}
}

// Resolve merges the target with ssh_config: values in
// targets.toml win, then the config for the host alias, then defaults.
func Resolve(t targets.Target, o Config) (Endpoint, error) {
	return resolveAlias(t.Name, t.Host, t.User, t.Port, t.Identity, o)
}

func resolveAlias(name, alias, usr string, port int, identity string, o Config) (Endpoint, error) {
	us := &ssh_config.UserSettings{IgnoreErrors: true}
	if o.SSHConfig != "" {
		us.ConfigFinder(func() string { return o.SSHConfig })
	}
	e := Endpoint{name: name, alias: alias, host: alias, port: port, user: usr}
	if h := us.Get(alias, "HostName"); h != "" {
		e.host = strings.ReplaceAll(h, "%h", alias)
	}
	if e.port == 0 {
		if p, err := strconv.Atoi(us.Get(alias, "Port")); err == nil && p > 0 {
			e.port = p
		} else {
			e.port = 22
		}
	}
	if e.user == "" {
		e.user = us.Get(alias, "User")
	}
	if e.user == "" {
		u, err := user.Current()
		if err != nil {
			return e, fmt.Errorf("no user for %s: set user in targets.toml: %w", alias, err)
		}
		e.user = u.Username
	}
	if identity != "" {
		e.identities = append(e.identities, identity)
	}
	for _, f := range us.GetAll(alias, "IdentityFile") {
		e.identities = append(e.identities, sshTokens(f, e))
	}
	if !o.NoDefaultKeys {
		for _, f := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			e.identities = append(e.identities, "~/.ssh/"+f)
		}
	}
	if j := us.Get(alias, "ProxyJump"); j != "" && !strings.EqualFold(j, "none") {
		e.jump = j
	}
	return e, nil
}

// sshTokens expands the %-tokens ssh_config allows in IdentityFile.
func sshTokens(s string, e Endpoint) string {
	r := strings.NewReplacer("%h", e.host, "%r", e.user, "%p", strconv.Itoa(e.port), "%%", "%")
	return r.Replace(s)
}
