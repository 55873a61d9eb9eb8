package sshconn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"

	"armbench/internal/atomicfile"
)

// khLine is one entry of a known_hosts file.
type khLine struct {
	File   string
	N      int    // line number, from 1
	Marker string // "", "@cert-authority" or "@revoked"
	Hosts  string // the host field as written (patterns or |1| hashes)
	Key    ssh.PublicKey
}

// parseKnownHosts reads the entries of a known_hosts file; lines it
// cannot parse are skipped (as OpenSSH does).
func parseKnownHosts(file string, b []byte) []khLine {
	var out []khLine
	for i, raw := range bytes.Split(b, []byte("\n")) {
		l, ok := parseKnownHostsLine(string(raw))
		if ok {
			l.File, l.N = file, i+1
			out = append(out, l)
		}
	}
	return out
}

func parseKnownHostsLine(s string) (khLine, bool) {
	f := strings.Fields(s)
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return khLine{}, false
	}
	var l khLine
	if f[0] == "@cert-authority" || f[0] == "@revoked" {
		l.Marker, f = f[0], f[1:]
	}
	if len(f) < 3 {
		return khLine{}, false
	}
	l.Hosts = f[0]
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.Join(f[1:], " ")))
	if err != nil {
		return khLine{}, false
	}
	l.Key = key
	return l, true
}

// names reports whether the host field of an entry names name exactly:
// a plain name in its comma-separated list, or a |1| hash of it.
// Wildcard patterns are not exact names and do not count.
func (l khLine) names(name string) bool {
	for _, p := range strings.Split(l.Hosts, ",") {
		if strings.HasPrefix(p, "|1|") {
			if hashedIs(p, name) {
				return true
			}
			continue
		}
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// hashedIs checks a |1|salt|hash entry against name (HMAC-SHA1).
func hashedIs(entry, name string) bool {
	parts := strings.Split(entry, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	want, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return hmac.Equal(m.Sum(nil), want)
}

// knownHostsName is the name an entry has for host at port: [host]:port
// unless the port is 22.
func knownHostsName(host string, port int) string {
	if port == 22 || port == 0 {
		return strings.ToLower(host)
	}
	return fmt.Sprintf("[%s]:%d", strings.ToLower(host), port)
}

// removeKnownHosts rewrites file without the plain (not @-marked) entries
// naming any of names, hashed or not, as ssh-keygen -R does; it returns
// the entries removed. The file keeps its mode; a missing file has
// nothing to remove.
func removeKnownHosts(file string, names []string) ([]khLine, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(b), "\n")
	var keep strings.Builder
	var removed []khLine
	for i, raw := range lines {
		l, ok := parseKnownHostsLine(raw)
		if ok && l.Marker == "" && namesAny(l, names) {
			l.File, l.N = file, i+1
			removed = append(removed, l)
			continue
		}
		keep.WriteString(raw)
	}
	if len(removed) == 0 {
		return nil, nil
	}
	mode := fs.FileMode(0o600) // keep the file's mode
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	return removed, atomicfile.Write(file, []byte(keep.String()), mode)
}

func namesAny(l khLine, names []string) bool {
	for _, n := range names {
		if l.names(n) {
			return true
		}
	}
	return false
}
