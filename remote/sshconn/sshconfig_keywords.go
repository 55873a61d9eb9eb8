package sshconn

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// honoured are the keywords armbench follows: the first value wins,
// except for the lists (IdentityFile, CertificateFile).
var honoured = map[string]bool{
	"hostname": true, "user": true, "port": true, "identityfile": true, "proxyjump": true,
	"proxycommand": true, "hostkeyalias": true, "userknownhostsfile": true, "globalknownhostsfile": true,
	"hashknownhosts": true, "stricthostkeychecking": true, "identitiesonly": true, "identityagent": true,
	"certificatefile": true, "serveraliveinterval": true, "serveralivecountmax": true, "connecttimeout": true,
	"ignoreunknown": true,
}

// inert are keywords with no bearing on what armbench does (it never
// opens a terminal, forwards nothing, keeps its own connection per device
// and always checks host keys), so following them or not is the same.
var inert = map[string]bool{
	"sendenv": true, "forwardx11": true, "forwardx11trusted": true, "forwardagent": true, "requesttty": true,
	"loglevel": true, "visualhostkey": true, "escapechar": true, "addkeystoagent": true, "usekeychain": true,
	"controlmaster": true, "controlpath": true, "controlpersist": true, "gssapiauthentication": true,
	"gssapidelegatecredentials": true, "passwordauthentication": true, "kbdinteractiveauthentication": true,
	"challengeresponseauthentication": true, "batchmode": true, "checkhostip": true, "tcpkeepalive": true,
	"updatehostkeys": true, "permitlocalcommand": true, "hashknownhostsfile": true, "compression": true,
}

// set records a keyword of an applying block: the first value wins.
func (r *resolver) set(file string, line int, kw string, args []string) {
	switch {
	case kw == "identityfile" && len(args) > 0:
		if !slices.Contains(r.cfg.identity, args[0]) { // ssh drops duplicates
			r.cfg.identity = append(r.cfg.identity, args[0])
		}
		return
	case kw == "certificatefile" && len(args) > 0:
		if !slices.Contains(r.cfg.certs, args[0]) {
			r.cfg.certs = append(r.cfg.certs, args[0])
		}
		return
	case kw == "proxycommand" || kw == "proxyjump":
		// They compete: whichever comes first keeps the other out.
		if r.cfg.vals["proxycommand"] != nil || r.cfg.vals["proxyjump"] != nil {
			return
		}
	case honoured[kw]:
	case inert[kw]:
		return
	default:
		if ig := r.cfg.get("ignoreunknown"); ig != "" && matchList(kw, strings.ToLower(ig)) {
			return
		}
		r.cfg.warn(file, line, "armbench does not follow %s: this line has no effect on armbench's connections", kw)
		return
	}
	if len(args) == 0 {
		r.cfg.warn(file, line, "%s without a value", kw)
		return
	}
	if _, ok := r.cfg.vals[kw]; !ok {
		r.cfg.vals[kw] = args
		r.cfg.where[kw] = Warning{File: file, Line: line}
	}
}

// splitLine splits a line into its lower-cased keyword and arguments:
// whitespace or one '=' after the keyword, double or single quotes
// around arguments, and a '#' starting an argument ends the line.
func splitLine(line string) (string, []string, error) {
	s := strings.TrimSpace(line)
	if s == "" || s[0] == '#' {
		return "", nil, nil
	}
	i := strings.IndexAny(s, " \t=")
	if i < 0 {
		return strings.ToLower(s), nil, nil
	}
	kw := strings.ToLower(s[:i])
	rest := strings.TrimLeft(s[i:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	if kw == "proxycommand" || kw == "localcommand" || kw == "remotecommand" {
		// The shell reads these: keep them as written.
		if rest = strings.TrimRight(rest, " \t"); rest == "" {
			return kw, nil, nil
		}
		return kw, []string{rest}, nil
	}
	args, err := splitArgs(rest)
	return kw, args, err
}

func splitArgs(s string) ([]string, error) {
	var args []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == '#' {
			return args, nil
		}
		var b strings.Builder
		var quote byte
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case quote == 0 && (c == ' ' || c == '\t'):
				goto done
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\'' || s[i+1] == '\\') && quote != '\'':
				i++
				b.WriteByte(s[i])
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case c == quote:
				quote = 0
			default:
				b.WriteByte(c)
			}
		}
	done:
		if quote != 0 {
			return args, errors.New("unterminated quote")
		}
		args = append(args, b.String())
		s = s[i:]
	}
}

// tokenMap is the %-tokens OpenSSH knows: %C %d %h %i %k %L %l %n %p %r
// %u (and %j, the ProxyJump).
func tokenMap(orig, host, port, usr, alias, jump, home string, l localInfo) map[byte]string {
	short := l.host
	if i := strings.IndexByte(short, '.'); i >= 0 {
		short = short[:i]
	}
	k := alias
	if k == "" {
		k = orig
	}
	sum := sha1.Sum([]byte(l.host + host + port + usr))
	return map[byte]string{
		'%': "%", 'C': hex.EncodeToString(sum[:]), 'd': home, 'h': host, 'i': l.uid, 'k': k,
		'L': short, 'l': l.host, 'n': orig, 'p': port, 'r': usr, 'u': l.user, 'j': jump,
	}
}

// expandTokens replaces %x tokens; an unknown one is an error, as in
// OpenSSH.
func expandTokens(s string, tok map[byte]string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return s, fmt.Errorf("%q ends with a lone %%", s)
		}
		i++
		v, ok := tok[s[i]]
		if !ok {
			return s, fmt.Errorf("unknown token %%%c in %q", s[i], s)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// expandTilde expands a leading ~ (or ~/) to home.
func expandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// homeDir is where ~ is: $HOME, as for the rest of armbench. OpenSSH
// reads the password database instead; the two differ only when HOME is
// changed.
func homeDir() (string, error) { return os.UserHomeDir() }

func currentUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	name := u.Username
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:] // Windows: DOMAIN\user
	}
	return name, nil
}

// settings is the resolved view of a hostConfig: what armbench uses.
type settings struct {
	host, user, port        string
	identity, certs         []string // as written (IdentityFile, CertificateFile)
	proxyCommand, proxyJump string   // as written; ProxyCommand's tokens expand when it runs
	hostKeyAlias            string
	userKnownHosts          []string // ~ and tokens expanded
	globalKnownHosts        []string
	hashKnownHosts          bool
	strict                  string // yes, no, ask, accept-new (OpenSSH's default: ask)
	identitiesOnly          bool
	identityAgent           string // ~ and tokens expanded; "" = SSH_AUTH_SOCK
	aliveInterval, aliveMax int
	connectTimeout          int // seconds, 0 = none
	warnings                []Warning
	tokens                  map[byte]string
}

// finish applies what ssh does once the files are read: HostName's %h,
// the defaults, and the tokens of the keywords that take them.
func (r *resolver) finish() settings {
	c := r.cfg
	s := settings{host: strings.ToLower(r.currentHost()), user: r.currentUser(), port: r.currentPort(),
		identity: c.identity, certs: c.certs, hostKeyAlias: c.get("hostkeyalias"),
		strict: "ask", aliveMax: 3}
	s.tokens = tokenMap(r.orig, s.host, s.port, s.user, s.hostKeyAlias, c.get("proxyjump"), r.home, r.local)
	if v := c.get("proxycommand"); v != "" && v != "none" {
		s.proxyCommand = v
	}
	if v := c.get("proxyjump"); v != "" && v != "none" {
		s.proxyJump = v
	}
	s.userKnownHosts = r.files("userknownhostsfile", "~/.ssh/known_hosts ~/.ssh/known_hosts2", s.tokens)
	s.globalKnownHosts = r.files("globalknownhostsfile", "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2", s.tokens)
	s.hashKnownHosts = r.yes("hashknownhosts")
	s.identitiesOnly = r.yes("identitiesonly")
	switch v := strings.ToLower(c.get("stricthostkeychecking")); v {
	case "yes", "true":
		s.strict = "yes"
	case "no", "false", "off":
		s.strict = "no"
	case "ask", "accept-new":
		s.strict = v
	case "":
	default:
		r.warnValue("stricthostkeychecking", v)
	}
	if v := c.get("identityagent"); v != "" {
		s.identityAgent = r.expand("identityagent", expandTilde(v, r.home), s.tokens)
	}
	s.aliveInterval = r.seconds("serveraliveinterval", 0)
	s.aliveMax = r.seconds("serveralivecountmax", 3)
	if c.get("connecttimeout") != "none" {
		s.connectTimeout = r.seconds("connecttimeout", 0)
	}
	s.warnings = c.warnings
	return s
}

func (r *resolver) yes(kw string) bool {
	switch v := strings.ToLower(r.cfg.get(kw)); v {
	case "yes", "true":
		return true
	case "", "no", "false":
	default:
		r.warnValue(kw, v)
	}
	return false
}

func (r *resolver) seconds(kw string, def int) int {
	v := r.cfg.get(kw)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.warnValue(kw, v)
		return def
	}
	return n
}

func (r *resolver) warnValue(kw, v string) {
	w := r.cfg.where[kw]
	r.cfg.warn(w.File, w.Line, "%s: bad value %q, ignored", kw, v)
}

func (r *resolver) expand(kw, v string, tok map[byte]string) string {
	out, err := expandTokens(v, tok)
	if err != nil {
		w := r.cfg.where[kw]
		r.cfg.warn(w.File, w.Line, "%s: %v", kw, err)
	}
	return out
}

// files is a list of known_hosts files, ~ and tokens expanded.
func (r *resolver) files(kw, def string, tok map[byte]string) []string {
	args := r.cfg.vals[kw]
	if args == nil {
		args = strings.Fields(def)
	}
	var out []string
	for _, a := range args {
		if a == "none" {
			continue
		}
		out = append(out, r.expand(kw, expandTilde(a, r.home), tok))
	}
	return out
}
