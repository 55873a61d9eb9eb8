package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"armbench/remote/fault"
	"armbench/targets"
)

// Endpoint is a target resolved through ssh_config: where to connect,
// how, as whom, with which keys, and where its host key is.
type Endpoint struct {
	name       string // target name, for errors
	alias      string // the host as written in targets.toml
	host       string // HostName
	port       int
	user       string
	identities []string // key files to try, in order
	certs      []string // CertificateFile
	jump       string   // ProxyJump, "" = direct
	proxyCmd   string   // ProxyCommand, tokens not expanded yet

	hostKeyAlias     string
	knownHosts       []string // UserKnownHostsFile: the first is where keys are added
	globalKnownHosts []string
	hashKnownHosts   bool
	strict           string // StrictHostKeyChecking: yes, no, ask, accept-new

	identitiesOnly bool
	identityAgent  string // "" = SSH_AUTH_SOCK, "none" = no agent
	aliveInterval  time.Duration
	aliveMax       int
	timeout        time.Duration // ConnectTimeout, 0 = none set
	tokens         map[byte]string
	warnings       []Warning
}

func (e Endpoint) hostport() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// Display is user@host:port as errors show it.
func (e Endpoint) Display() string { return e.user + "@" + e.hostport() }

// Warnings are the lines of ssh_config that applied to this host and
// that armbench could not honour.
func (e Endpoint) Warnings() []Warning { return e.warnings }

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

// Resolve merges the target with ssh_config as ssh does with its command
// line: values in targets.toml win (as -l, -p and -i would), then the
// first value ssh_config gives, then the defaults.
func Resolve(t targets.Target, o Config) (Endpoint, error) {
	return resolveAlias(t.Name, t.Host, t.User, t.Port, t.Identity, o)
}

func resolveAlias(name, alias, usr string, port int, identity string, o Config) (Endpoint, error) {
	pre := map[string]string{"user": usr}
	if port > 0 {
		pre["port"] = strconv.Itoa(port)
	}
	s, err := resolveConfig(alias, pre, o)
	if err != nil {
		return Endpoint{name: name, alias: alias, host: alias, port: port, user: usr}, err
	}
	e := Endpoint{name: name, alias: alias, host: s.host, user: s.user, jump: s.proxyJump, proxyCmd: s.proxyCommand,
		hostKeyAlias: s.hostKeyAlias, knownHosts: s.userKnownHosts, globalKnownHosts: s.globalKnownHosts,
		hashKnownHosts: s.hashKnownHosts, strict: s.strict, identitiesOnly: s.identitiesOnly, identityAgent: s.identityAgent,
		aliveInterval: time.Duration(s.aliveInterval) * time.Second, aliveMax: s.aliveMax,
		timeout: time.Duration(s.connectTimeout) * time.Second, tokens: s.tokens, warnings: s.warnings}
	if e.port, err = strconv.Atoi(s.port); err != nil || e.port <= 0 || e.port > 65535 {
		return e, fmt.Errorf("ssh_config: bad Port %q for %s", s.port, alias)
	}
	if e.user == "" {
		return e, fmt.Errorf("no user for %s: set user in targets.toml", alias)
	}
	home, _ := homeDir()
	if identity != "" {
		e.identities = append(e.identities, identity)
	}
	for _, f := range s.identity {
		e.identities = append(e.identities, e.expandPath(f, home))
	}
	if len(e.identities) == 0 && !o.NoDefaultKeys {
		// As ssh: the default keys only when none is named.
		for _, f := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			e.identities = append(e.identities, filepath.Join(home, ".ssh", f))
		}
	}
	for _, f := range s.certs {
		e.certs = append(e.certs, e.expandPath(f, home))
	}
	reportWarnings(e.warnings, o)
	return e, nil
}

// expandPath expands ~ and the %-tokens of a file name (IdentityFile,
// CertificateFile); an unknown token leaves it as written, warned about.
func (e *Endpoint) expandPath(p, home string) string {
	out, err := expandTokens(expandTilde(p, home), e.tokens)
	if err != nil {
		e.warnings = append(e.warnings, Warning{File: "ssh_config", Msg: err.Error()})
	}
	return out
}

// printed are the warnings already written to stderr by this process.
var printed sync.Map

// reportWarnings hands warnings to o.Warn, or prints each once to
// stderr when the caller gave no Warn.
func reportWarnings(ws []Warning, o Config) {
	for _, w := range ws {
		if o.Warn != nil {
			o.Warn(w)
			continue
		}
		if _, dup := printed.LoadOrStore(w.String(), true); !dup {
			fmt.Fprintf(os.Stderr, "armbench: warning: %s\n", w)
		}
	}
}

// sshTokens expands the %-tokens of a ProxyCommand or IdentityAgent.
func (e Endpoint) sshTokens(s string) (string, error) { return expandTokens(s, e.tokens) }
