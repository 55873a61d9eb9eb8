package sshconn

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"armbench/remote/fault"
	"armbench/targets"
)

// HostKeys checks a host's key against its known_hosts files, under the
// name OpenSSH looks it up by (HostKeyAlias, host, or [host]:port), and
// adds new keys the way the user's ssh_config says (hashed or not).
type HostKeys struct {
	files  []string // existing files consulted, primary first
	file   string   // primary: where new keys are added (may not exist yet)
	cb     ssh.HostKeyCallback
	name   string // the known_hosts name of the host
	hash   bool   // HashKnownHosts: add hashed entries
	strict string // StrictHostKeyChecking
	target string
	ca     map[string]bool // "file:line" of @cert-authority entries
	warn   func([]Warning)
}

// knownHostsFiles are the files a target's keys are checked against, the
// first being where keys are added: the target's own, else the
// options', else ssh_config's UserKnownHostsFile and
// GlobalKnownHostsFile (OpenSSH's defaults: ~/.ssh/known_hosts,
// ~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts, …2).
func knownHostsFiles(t targets.Target, o Config, e Endpoint) ([]string, error) {
	switch {
	case t.KnownHosts != "":
		p, err := expandHome(t.KnownHosts)
		return []string{p}, err
	case o.KnownHosts != "":
		p, err := expandHome(o.KnownHosts)
		return []string{p}, err
	}
	files := append(append([]string{}, e.knownHosts...), e.globalKnownHosts...)
	if len(e.knownHosts) == 0 {
		home, err := homeDir()
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		files = append([]string{filepath.Join(home, ".ssh", "known_hosts")}, files...)
	}
	return files, nil
}

func expandHome(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := homeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, p[1:]), nil
	}
	return p, nil
}

// LoadHostKeys reads the known_hosts files for t (resolved through
// ssh_config).
func LoadHostKeys(t targets.Target, o Config) (*HostKeys, error) {
	quiet := o
	quiet.Warn = func(Warning) {} // Resolve reported them
	e, err := Resolve(t, quiet)
	if err != nil {
		return nil, err
	}
	return e.loadHostKeys(t, o)
}

func (e Endpoint) loadHostKeys(t targets.Target, o Config) (*HostKeys, error) {
	files, err := knownHostsFiles(t, o, e)
	if err != nil {
		return nil, err
	}
	// HashKnownHosts governs the files ssh_config names (the user's
	// own); a file armbench was given (targets.toml, an option) is
	// armbench's and stays plain, readable and diffable.
	ownFile := t.KnownHosts != "" || o.KnownHosts != ""
	hk := &HostKeys{file: files[0], name: e.knownHostsName(), hash: e.hashKnownHosts && !ownFile, strict: e.strict,
		target: e.name, ca: map[string]bool{}, warn: func(w []Warning) { reportWarnings(w, o) }}
	for _, f := range files {
		b, err := os.ReadFile(f)
		switch {
		case err == nil:
			hk.files = append(hk.files, f)
			for _, l := range parseKnownHosts(f, b) {
				if l.Marker == "@cert-authority" {
					hk.ca[fmt.Sprintf("%s:%d", l.File, l.N)] = true
				}
			}
		case !errors.Is(err, fs.ErrNotExist):
			// Unreadable is not empty: every host would look unknown.
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	if len(hk.files) > 0 {
		if hk.cb, err = knownhosts.New(hk.files...); err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	return hk, nil
}

// knownHostsName is the name known_hosts has the host under:
// HostKeyAlias as written (no port, as OpenSSH), else host or
// [host]:port.
func (e Endpoint) knownHostsName() string {
	if e.hostKeyAlias != "" {
		return strings.ToLower(e.hostKeyAlias)
	}
	return knownHostsName(e.host, e.port)
}

// lookup is the name as the knownhosts package wants it (host:port).
func (hk *HostKeys) lookup() string {
	if i := strings.LastIndex(hk.name, "]:"); strings.HasPrefix(hk.name, "[") && i > 0 {
		return net.JoinHostPort(hk.name[1:i], hk.name[i+2:])
	}
	return net.JoinHostPort(hk.name, "22")
}

// known is what known_hosts says of key: nil (known), *UnknownHostError,
// *HostKeyChangedError, or a revocation.
func (hk *HostKeys) check(_ string, _ net.Addr, key ssh.PublicKey) error {
	var err error = &knownhosts.KeyError{}
	if hk.cb != nil {
		err = hk.cb(hk.lookup(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, key)
	}
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("host key %s of %s is marked @revoked in %s:%d", ssh.FingerprintSHA256(key), hk.name, re.Revoked.Filename, re.Revoked.Line)
	case !errors.As(err, &ke):
		return err
	}
	want := hk.plain(ke.Want)
	if len(want) == 0 {
		return &UnknownHostError{Host: hk.name, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: hk.file, Hashed: hk.hash, Target: hk.target}
	}
	ce := &HostKeyChangedError{Host: hk.name, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key,
		File: want[0].Filename, Line: want[0].Line, Target: hk.target}
	for _, w := range want {
		ce.Known = append(ce.Known, ssh.FingerprintSHA256(w.Key))
	}
	return ce
}

// plain drops the @cert-authority entries: a CA is not the host's key.
func (hk *HostKeys) plain(ks []knownhosts.KnownKey) []knownhosts.KnownKey {
	var out []knownhosts.KnownKey
	for _, k := range ks {
		if !hk.ca[fmt.Sprintf("%s:%d", k.Filename, k.Line)] {
			out = append(out, k)
		}
	}
	return out
}

// verify is check with StrictHostKeyChecking applied: accept-new (and
// no, which armbench reads as accept-new) adds an unknown key, with a
// warning saying so. A changed key is refused whatever the setting.
func (hk *HostKeys) verify(hostport string, remote net.Addr, key ssh.PublicKey) error {
	err := hk.check(hostport, remote, key)
	var ue *UnknownHostError
	if !errors.As(err, &ue) || (hk.strict != "accept-new" && hk.strict != "no") {
		return err
	}
	added, aerr := appendKnownHost(hk.file, hk.name, hk.hash, key)
	if aerr != nil {
		return fmt.Errorf("StrictHostKeyChecking %s: %w", hk.strict, aerr)
	}
	hk.warn([]Warning{{File: added.File, Line: added.LineNo,
		Msg: fmt.Sprintf("permanently added %s key %s for %s (StrictHostKeyChecking %s)", keyTypeName(key.Type()), added.Fingerprint, hk.name, hk.strict)}})
	return nil
}

// algorithms returns the host key algorithms to ask for: those of the keys
// known_hosts has for the host (certificates first when a
// @cert-authority covers it). Without it a server offering a key type
// the file does not list for the host (say ed25519 when ecdsa was
// recorded) would look like a changed key.
func (hk *HostKeys) algorithms() []string {
	if hk.cb == nil {
		return nil
	}
	_, probe, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	signer, err := ssh.NewSignerFromKey(probe)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(hk.cb(hk.lookup(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, signer.PublicKey()), &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				algos = append(algos, x)
			}
		}
	}
	plain := hk.plain(ke.Want)
	if len(plain) < len(ke.Want) {
		add(ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
			ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01)
		if len(plain) == 0 {
			// A host without a certificate is then unknown, not changed.
			add(ssh.SupportedAlgorithms().HostKeys...)
		}
	}
	for _, w := range plain {
		switch typ := w.Key.Type(); typ {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(typ)
		}
	}
	return algos
}

// AddKnownHost appends key for host ("host" or "[host]:port", or a
// host:port to normalise) to file in OpenSSH's format, creating the file
// (0600) and its directory (0700) when needed.
func AddKnownHost(file, host string, key ssh.PublicKey) (HostKey, error) {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = knownhosts.Normalize(host)
	}
	return appendKnownHost(file, host, false, key)
}

// appendKnownHost appends key under name, hashed when hash is set (as
// HashKnownHosts yes does).
func appendKnownHost(file, name string, hash bool, key ssh.PublicKey) (HostKey, error) {
	field := name
	if hash {
		field = knownhosts.HashHostname(name)
	}
	line := field + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	hk := HostKey{Host: name, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: file, Line: line}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return hk, fmt.Errorf("known_hosts: %w", err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return hk, fmt.Errorf("known_hosts: %w", err)
	}
	old, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return hk, fmt.Errorf("known_hosts %s: %w", file, err)
	}
	// Start on a fresh line even when the file lacks a final newline.
	prefix := ""
	if len(old) > 0 && old[len(old)-1] != '\n' {
		prefix = "\n"
	}
	hk.LineNo = bytes.Count(old, []byte("\n")) + 1 + len(prefix)
	if _, err := f.WriteString(prefix + line + "\n"); err != nil {
		f.Close()
		return hk, fmt.Errorf("known_hosts %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return hk, fmt.Errorf("known_hosts %s: %w", file, err)
	}
	hk.Added = true
	return hk, nil
}

// errHostKeySeen stops a handshake once Trust has the key it came for.
var errHostKeySeen = errors.New("host key received")

// ScanHostKey connects to t only far enough to receive its host key and
// reports it with what known_hosts says: nil error (already trusted),
// *UnknownHostError (the key, ready to show), or *HostKeyChangedError.
// It writes nothing, whatever StrictHostKeyChecking says.
func ScanHostKey(ctx context.Context, t targets.Target, o Config) (HostKey, error) {
	ep, err := Resolve(t, o)
	if err != nil {
		return HostKey{}, &fault.OpError{Op: "trust", Target: t.Name, Addr: t.Host, Err: err}
	}
	hk, err := ep.loadHostKeys(t, o)
	if err != nil {
		return HostKey{}, ep.OpErr("trust", "known_hosts", err)
	}
	var got HostKey
	var verdict error
	cfg := &ssh.ClientConfig{
		User: ep.user,
		HostKeyCallback: func(hostport string, remote net.Addr, key ssh.PublicKey) error {
			got = HostKey{Host: hk.name, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: hk.file}
			verdict = hk.check(hostport, remote, key)
			return errHostKeySeen
		},
		HostKeyAlgorithms: hk.algorithms(),
		Timeout:           ep.connectTimeout(o),
	}
	client, err := ep.handshake(ctx, cfg, o)
	if client != nil {
		client.Close()
	}
	if got.Key == nil {
		return HostKey{}, ep.OpErr("trust", "connect", err)
	}
	if verdict == nil {
		got.Line = hk.name + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(got.Key)))
		return got, nil
	}
	return got, ep.OpErr("trust", "host key", verdict)
}

// Trust fetches t's host key and, unless known_hosts already has it,
// appends it (after o.ConfirmHostKey says yes, when set). A changed key is
// refused: ReplaceHostKey is for that.
func Trust(ctx context.Context, t targets.Target, o Config) (HostKey, error) {
	key, err := ScanHostKey(ctx, t, o)
	var ue *UnknownHostError
	if err == nil {
		return key, nil // already trusted
	}
	if !errors.As(err, &ue) {
		return key, err
	}
	if o.ConfirmHostKey != nil && !o.ConfirmHostKey(key) {
		return key, &fault.OpError{Op: "trust", Target: t.Name, Addr: key.Host, Err: fmt.Errorf("%w: %s key %s declined", fault.ErrNotTrusted, key.KeyType, key.Fingerprint)}
	}
	added, err := TrustKey(t, o, ue)
	if err != nil {
		return added, &fault.OpError{Op: "trust", Target: t.Name, Addr: key.Host, Err: err}
	}
	return added, nil
}

// TrustKey appends the exact key a user was shown (from an
// *UnknownHostError) to the target's known_hosts, without reconnecting,
// under the name and in the form (hashed or not) ssh_config asks for.
func TrustKey(t targets.Target, o Config, e *UnknownHostError) (HostKey, error) {
	file := e.File
	if file == "" {
		ep, err := Resolve(t, o)
		if err != nil {
			return HostKey{}, err
		}
		files, err := knownHostsFiles(t, o, ep)
		if err != nil {
			return HostKey{}, err
		}
		file = files[0]
	}
	return appendKnownHost(file, e.Host, e.Hashed, e.Key)
}
