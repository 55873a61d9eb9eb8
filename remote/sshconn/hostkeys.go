package sshconn

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
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

// HostKeys checks server keys against known_hosts files: the first is
// where Trust appends.
type HostKeys struct {
	files []string // existing files consulted, primary first
	file  string   // primary (may not exist yet)
	cb    ssh.HostKeyCallback
}

// knownHostsFile is the file a target's keys are checked against and
// added to: the target's own, else the options', else ~/.ssh/known_hosts.
func knownHostsFile(t targets.Target, o Config) (string, bool, error) {
	switch {
	case t.KnownHosts != "":
		p, err := expandHome(t.KnownHosts)
		return p, false, err
	case o.KnownHosts != "":
		p, err := expandHome(o.KnownHosts)
		return p, false, err
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", false, fmt.Errorf("known_hosts: %w", err)
	}
	return filepath.Join(home, ".ssh", "known_hosts"), true, nil
}

func expandHome(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, p[1:]), nil
	}
	return p, nil
}

func LoadHostKeys(t targets.Target, o Config) (*HostKeys, error) {
	file, isDefault, err := knownHostsFile(t, o)
	if err != nil {
		return nil, err
	}
	hk := &HostKeys{file: file}
	candidates := []string{file}
	if isDefault {
		candidates = append(candidates, "/etc/ssh/ssh_known_hosts")
	}
	for _, f := range candidates {
		_, err := os.Stat(f)
		switch {
		case err == nil:
			hk.files = append(hk.files, f)
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

// check is the ssh.HostKeyCallback: unknown and changed keys become
// *UnknownHostError and *HostKeyChangedError.
func (hk *HostKeys) check(hostport string, remote net.Addr, key ssh.PublicKey) error {
	host := knownhosts.Normalize(hostport)
	var err error
	if hk.cb != nil {
		err = hk.cb(hostport, remote, key)
	} else {
		err = &knownhosts.KeyError{}
	}
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("host key %s of %s is marked @revoked in %s:%d", ssh.FingerprintSHA256(key), host, re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return &UnknownHostError{Host: host, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: hk.file}
	case errors.As(err, &ke):
		ce := &HostKeyChangedError{Host: host, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key,
			File: ke.Want[0].Filename, Line: ke.Want[0].Line}
		for _, w := range ke.Want {
			ce.Known = append(ce.Known, ssh.FingerprintSHA256(w.Key))
		}
		return ce
	}
	return err
}

// algorithms returns the host key algorithms to ask for: those of the keys
// known_hosts has for hostport. Without it a server offering a key type
// the file does not list for the host (say ed25519 when ecdsa was
// recorded) would look like a changed key.
func (hk *HostKeys) algorithms(hostport string) []string {
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
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}
	var ke *knownhosts.KeyError
	if !errors.As(hk.cb(hostport, addr, signer.PublicKey()), &ke) || len(ke.Want) == 0 {
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
	for _, w := range ke.Want {
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
	line := knownhosts.Line([]string{host}, key)
	hk := HostKey{Host: host, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: file, Line: line}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return hk, fmt.Errorf("known_hosts: %w", err)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return hk, fmt.Errorf("known_hosts: %w", err)
	}
	// Start on a fresh line even when the file lacks a final newline.
	prefix := ""
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, st.Size()-1); err == nil && b[0] != '\n' {
			prefix = "\n"
		}
	}
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
func ScanHostKey(ctx context.Context, t targets.Target, o Config) (HostKey, error) {
	ep, err := Resolve(t, o)
	if err != nil {
		return HostKey{}, &fault.OpError{Op: "trust", Target: t.Name, Addr: t.Host, Err: err}
	}
	hk, err := LoadHostKeys(t, o)
	if err != nil {
		return HostKey{}, ep.OpErr("trust", "known_hosts", err)
	}
	var got HostKey
	var verdict error
	cfg := &ssh.ClientConfig{
		User: ep.user,
		HostKeyCallback: func(hostport string, remote net.Addr, key ssh.PublicKey) error {
			got = HostKey{Host: knownhosts.Normalize(hostport), KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), Key: key, File: hk.file}
			verdict = hk.check(hostport, remote, key)
			return errHostKeySeen
		},
		HostKeyAlgorithms: hk.algorithms(ep.hostport()),
		Timeout:           o.Timeout(),
	}
	client, err := ep.handshake(ctx, cfg, o)
	if client != nil {
		client.Close()
	}
	if got.Key == nil {
		return HostKey{}, ep.OpErr("trust", "connect", err)
	}
	if verdict == nil {
		got.Line = knownhosts.Line([]string{got.Host}, got.Key)
		return got, nil
	}
	return got, ep.OpErr("trust", "host key", verdict)
}

// Trust fetches t's host key and, unless known_hosts already has it,
// appends it (after o.ConfirmHostKey says yes, when set). A changed key is
// refused: the old line must be removed by hand, as with OpenSSH.
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
// *UnknownHostError) to the target's known_hosts, without reconnecting.
func TrustKey(t targets.Target, o Config, e *UnknownHostError) (HostKey, error) {
	file := e.File
	if file == "" {
		f, _, err := knownHostsFile(t, o)
		if err != nil {
			return HostKey{}, err
		}
		file = f
	}
	return AddKnownHost(file, e.Host, e.Key)
}
