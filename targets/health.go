package targets

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Health is how a rolling deploy decides that a device took its new
// binary well: a shell command that must exit 0 on the device, or an HTTP
// URL (as the device sees it) that must answer 2xx. A failing check rolls
// the device back to NAME.prev.
type Health struct {
	Command  string        // run by sh on the device, in deploy_dir; $ARMBENCH_BINARY is the installed binary
	URL      string        // http:// or https://, dialled from the device's side (through the SSH connection)
	Timeout  time.Duration // per attempt
	Retries  int           // further attempts after a failed one
	Interval time.Duration // pause between attempts

	Pos Position // where the health table (or key) was written
}

// Health defaults: a check gets a few seconds to come up, as a restarted
// service needs.
const (
	DefaultHealthTimeout  = 10 * time.Second
	DefaultHealthRetries  = 3
	DefaultHealthInterval = time.Second
)

// Attempts is how many times the check runs before it counts as failed.
func (h Health) Attempts() int { return h.Retries + 1 }

// String is the check as a user wrote it, for logs and plans.
func (h Health) String() string {
	if h.URL != "" {
		return "GET " + h.URL
	}
	return h.Command
}

var healthKeys = []string{"command", "url", "timeout", "retries", "interval"}

const maxHealthDuration = time.Hour

// health reads a [target.health] or [profile.health] table, where names
// the table in messages. It returns nil when the table is unusable.
func (c *checker) health(e entry, path []string, where string) *Health {
	m, ok := e.val.(map[string]any)
	if !ok {
		c.add(e.vpos, e.key, `must be a table such as { command = "systemctl is-active myapp", timeout = "5s" }, got %s`, describe(e.val))
		return nil
	}
	before := len(c.errs)
	h := &Health{Timeout: DefaultHealthTimeout, Retries: DefaultHealthRetries, Interval: DefaultHealthInterval, Pos: e.pos}
	for _, k := range sortedKeys(m) {
		ke := c.entry(e.key+"."+k, m[k], append(slices.Clone(path), k)...)
		switch k {
		case "command":
			if s, ok := c.str(ke); ok {
				if strings.TrimSpace(s) == "" || strings.ContainsRune(s, 0) {
					c.add(ke.vpos, ke.key, "must be a shell command, e.g. %q", `"$ARMBENCH_BINARY" -selftest`)
				}
				h.Command = s
			}
		case "url":
			if s, ok := c.str(ke); ok {
				c.healthURL(ke, s)
				h.URL = s
			}
		case "timeout":
			h.Timeout = c.duration(ke, time.Millisecond, h.Timeout)
		case "interval":
			h.Interval = c.duration(ke, 0, h.Interval)
		case "retries":
			h.Retries, _ = c.integer(ke, 0, 100)
		default:
			c.unknown(ke.pos, k, healthKeys, where)
		}
	}
	_, hasCmd := m["command"]
	_, hasURL := m["url"]
	switch {
	case hasCmd && hasURL:
		c.add(e.pos, e.key, "has both command and url: a check is one or the other")
	case !hasCmd && !hasURL:
		c.add(e.pos, e.key, `needs command = "…" (run on the device, must exit 0) or url = "http://…" (fetched from the device's side, must answer 2xx)`)
	}
	if len(c.errs) > before {
		return nil
	}
	return h
}

func (c *checker) healthURL(e entry, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.add(e.vpos, e.key, "%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		c.add(e.vpos, e.key, "%q must start with http:// or https://", s)
	case u.Host == "" || u.Hostname() == "":
		c.add(e.vpos, e.key, "%q has no host; write e.g. \"http://localhost:8080/healthz\" (localhost is the device)", s)
	}
}

// duration reads a Go duration string such as "5s" or "500ms", at least
// lo and at most an hour; def when it is not usable.
func (c *checker) duration(e entry, lo, def time.Duration) time.Duration {
	s, ok := e.val.(string)
	if !ok {
		c.add(e.vpos, e.key, `must be a duration such as "5s" or "500ms", got %s`, describe(e.val))
		return def
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		c.add(e.vpos, e.key, `%q is not a duration; write e.g. "5s", "500ms" or "1m30s"`, s)
	case d < lo || d > maxHealthDuration:
		c.add(e.vpos, e.key, "%s is out of range; allowed: %s to %s", s, lo, maxHealthDuration)
	default:
		return d
	}
	return def
}
