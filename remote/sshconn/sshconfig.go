package sshconn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// This file resolves ssh_config the way OpenSSH's readconf.c does, since
// the ssh_config library armbench used knows neither Match exec, user and
// originalhost, nor Match on the HostName set so far, nor conditional
// Include: files are read in order (the given one, or ~/.ssh/config then
// /etc/ssh/ssh_config), the first value of a keyword wins, Host and Match
// blocks apply when they match, and Include reads other files in place.

// Warning is a line of ssh_config armbench cannot honour (or could not
// read), with where it is.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }

// hostConfig is what ssh_config says about one host.
type hostConfig struct {
	vals     map[string][]string // first value of each single-valued keyword (lower case)
	where    map[string]Warning  // the file and line each value came from
	identity []string            // IdentityFile, raw, in order
	certs    []string            // CertificateFile, raw, in order
	warnings []Warning
	seenWarn map[string]bool
}

func (h *hostConfig) get(k string) string {
	if v := h.vals[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h *hostConfig) warn(file string, line int, format string, args ...any) {
	w := Warning{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	if !h.seenWarn[w.String()] {
		h.seenWarn[w.String()] = true
		h.warnings = append(h.warnings, w)
	}
}

// resolver holds the state of one resolution: the host as given
// (originalhost), what the command line (targets.toml) set, and where
// ~ is.
type resolver struct {
	orig  string // the host as given (originalhost, %n)
	host  string // what Host lines match: orig, then in the final pass the resolved host
	final bool   // the final pass (Match final and canonical hold)
	again bool   // a Match final asked for a final pass
	home  string
	local localInfo
	cfg   *hostConfig
	depth int
}

// localInfo is this machine's side of the tokens.
type localInfo struct{ user, uid, host string }

func currentLocal() localInfo {
	l := localInfo{uid: strconv.Itoa(os.Getuid())}
	if u, err := currentUser(); err == nil {
		l.user = u
	}
	l.host, _ = os.Hostname()
	return l
}

// resolveConfig reads the ssh_config files for alias. pre holds what the
// command line set (user, port), which wins and which Match user sees.
func resolveConfig(alias string, pre map[string]string, o Config) (settings, error) {
	home, _ := homeDir()
	r := &resolver{orig: alias, host: alias, home: home, local: currentLocal(),
		cfg: &hostConfig{vals: map[string][]string{}, where: map[string]Warning{}, seenWarn: map[string]bool{}}}
	for k, v := range pre {
		if v != "" {
			r.cfg.vals[k] = []string{v}
		}
	}
	files := []string{o.SSHConfig}
	if o.SSHConfig == "" {
		files = []string{filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"}
		if runtime.GOOS == "windows" {
			files[1] = filepath.Join(os.Getenv("ProgramData"), "ssh", "ssh_config")
		}
	}
	if err := r.readFiles(files, o.SSHConfig == ""); err != nil {
		return settings{}, err
	}
	if r.again {
		// As ssh: the final pass matches Host against the host resolved
		// so far, which becomes the HostName.
		r.final = true
		r.host = strings.ToLower(r.currentHost())
		r.cfg.vals["hostname"] = []string{strings.ReplaceAll(r.host, "%", "%%")}
		if err := r.readFiles(files, o.SSHConfig == ""); err != nil {
			return settings{}, err
		}
	}
	return r.finish(), nil
}

// readFiles reads the config files in order; the default ones may be
// missing.
func (r *resolver) readFiles(files []string, defaults bool) error {
	for i, f := range files {
		err := r.readFile(f, true, defaults && i == 1)
		if err != nil && !(defaults && errors.Is(err, fs.ErrNotExist)) {
			return fmt.Errorf("ssh_config: %w", err)
		}
	}
	return nil
}

// readFile reads one file; active says whether the Include that named it
// (or the top level) applies. system resolves relative Includes under
// /etc/ssh rather than ~/.ssh.
func (r *resolver) readFile(path string, active, system bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if r.depth > 16 {
		return fmt.Errorf("%s: Include nested too deeply", path)
	}
	r.depth++
	defer func() { r.depth-- }()
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	blockActive := active
	for n := 1; sc.Scan(); n++ {
		kw, args, err := splitLine(sc.Text())
		if err != nil {
			r.cfg.warn(path, n, "%v", err)
			continue
		}
		if kw == "" {
			continue
		}
		switch kw {
		case "host":
			blockActive = active && matchHostLine(r.host, args)
		case "match":
			blockActive = active && r.matchLine(path, n, args)
		case "include":
			if blockActive {
				r.include(path, n, args, system)
			}
		default:
			if blockActive {
				r.set(path, n, kw, args)
			}
		}
	}
	return sc.Err()
}

// include reads the files an Include names (globs, ~, relative to ~/.ssh
// or /etc/ssh) in place, in sorted order as glob(3) gives them.
func (r *resolver) include(file string, line int, args []string, system bool) {
	for _, a := range args {
		p := expandTilde(a, r.home)
		if !filepath.IsAbs(p) {
			base := filepath.Join(r.home, ".ssh")
			if system {
				base = "/etc/ssh"
			}
			p = filepath.Join(base, p)
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			r.cfg.warn(file, line, "Include %s: %v", a, err)
			continue
		}
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				continue
			}
			if err := r.readFile(m, true, system); err != nil {
				r.cfg.warn(file, line, "Include %s: %v", m, err)
			}
		}
	}
}

// matchHostLine is a Host line: any pattern matching and no negated one.
func matchHostLine(host string, patterns []string) bool {
	ok := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if globMatch(p, host) {
			if neg {
				return false
			}
			ok = true
		}
	}
	return ok
}

// matchList is OpenSSH's match_pattern_list: a comma-separated list of
// patterns, '!' negating.
func matchList(s, list string) bool {
	return matchHostLine(s, strings.Split(list, ","))
}

// globMatch matches OpenSSH's patterns: * and ? only.
func globMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

// matchLine evaluates a Match line's criteria, all of which must hold.
func (r *resolver) matchLine(file string, line int, args []string) bool {
	if len(args) == 0 {
		r.cfg.warn(file, line, "Match without criteria never matches")
		return false
	}
	result := true
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		neg := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		var ok bool
		switch crit {
		case "all":
			ok = true
		case "canonical", "final":
			// Both hold in the final pass only (armbench does not
			// canonicalize host names: CanonicalizeHostname is warned about).
			r.again = r.again || crit == "final"
			ok = r.final
		case "host", "originalhost", "user", "localuser", "exec":
			if i+1 >= len(args) {
				r.cfg.warn(file, line, "Match %s needs an argument", crit)
				return false
			}
			i++
			ok = r.matchCriterion(file, line, crit, args[i])
		default:
			r.cfg.warn(file, line, "Match %s is not supported by armbench: the block is not applied", crit)
			return false
		}
		if ok == neg {
			result = false
		}
	}
	return result
}

func (r *resolver) matchCriterion(file string, line int, crit, arg string) bool {
	switch crit {
	case "host":
		return matchList(r.currentHost(), arg)
	case "originalhost":
		return matchList(r.orig, arg)
	case "user":
		return matchList(r.currentUser(), arg)
	case "localuser":
		return matchList(r.local.user, arg)
	}
	cmd, err := expandTokens(arg, r.tokens())
	if err != nil {
		r.cfg.warn(file, line, "Match exec: %v", err)
		return false
	}
	return runMatchExec(cmd)
}

// runMatchExec runs a Match exec command in the shell: exit status 0
// matches.
func runMatchExec(cmd string) bool {
	var c *exec.Cmd
	if runtime.GOOS == "windows" {
		c = exec.Command("cmd", "/C", cmd)
	} else {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		c = exec.Command(sh, "-c", cmd)
	}
	return c.Run() == nil
}

// currentHost is %h as Match sees it: HostName (as set so far) with %h
// the original host.
func (r *resolver) currentHost() string {
	if h := r.cfg.get("hostname"); h != "" {
		return strings.NewReplacer("%h", r.orig, "%%", "%").Replace(h)
	}
	return r.orig
}

func (r *resolver) currentUser() string {
	if u := r.cfg.get("user"); u != "" {
		return u
	}
	return r.local.user
}

func (r *resolver) currentPort() string {
	if p := r.cfg.get("port"); p != "" {
		return p
	}
	return "22"
}

// tokens are the %-tokens as they stand now (for Match exec, and once
// resolution is over for the keywords that take tokens).
func (r *resolver) tokens() map[byte]string {
	return tokenMap(r.orig, r.currentHost(), r.currentPort(), r.currentUser(), r.cfg.get("hostkeyalias"), r.cfg.get("proxyjump"), r.home, r.local)
}
