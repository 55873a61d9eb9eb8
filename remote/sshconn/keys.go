package sshconn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"armbench/remote/fault"
)

// signers loads what to offer, in order: certificates (CertificateFile,
// or a key's -cert.pub), the agent's keys (IdentityAgent, else
// SSH_AUTH_SOCK; with IdentitiesOnly only those of the named key files),
// then key files. Encrypted keys ask for their passphrase only when the
// server accepts their public key.
func (e Endpoint) signers(o Config) (func() ([]ssh.Signer, error), []string, io.Closer) {
	var tried []string
	var closer io.Closer
	var agentSigners func() ([]ssh.Signer, error)
	if addr := e.agentAddr(o); addr != "" {
		if c, err := dialAgent(addr); err == nil {
			closer = c
			agentSigners = agent.NewClient(c).Signers
			tried = append(tried, "ssh-agent")
		} else if e.identityAgent != "" {
			tried = append(tried, "IdentityAgent "+addr+" ("+err.Error()+")")
		}
	}
	files, pubs, fileTried := e.fileSigners(o)
	tried = append(tried, fileTried...)
	certs := e.certificates()
	for _, c := range certs {
		tried = append(tried, "certificate "+c.path)
	}
	return func() ([]ssh.Signer, error) {
		var agentKeys []ssh.Signer
		if agentSigners != nil {
			if s, err := agentSigners(); err == nil {
				agentKeys = s
			}
		}
		if e.identitiesOnly {
			agentKeys = onlyKeys(agentKeys, pubs)
		}
		var all []ssh.Signer
		for _, c := range certs {
			if s := c.signer(append(append([]ssh.Signer{}, agentKeys...), files...)); s != nil {
				all = append(all, s)
			}
		}
		all = append(all, agentKeys...)
		return append(all, files...), nil
	}, tried, closer
}

// agentAddr is where the agent listens: IdentityAgent ("none", a path,
// SSH_AUTH_SOCK or $VAR), else $SSH_AUTH_SOCK, else on Windows the pipe
// of OpenSSH for Windows' agent.
func (e Endpoint) agentAddr(o Config) string {
	if o.NoAgent {
		return ""
	}
	switch a := e.identityAgent; {
	case a == "none":
		return ""
	case a == "SSH_AUTH_SOCK":
		return os.Getenv("SSH_AUTH_SOCK")
	case strings.HasPrefix(a, "$"):
		return os.Getenv(strings.Trim(a[1:], "{}"))
	case a != "":
		return a
	}
	if s := os.Getenv("SSH_AUTH_SOCK"); s != "" {
		return s
	}
	return defaultAgent
}

// fileSigners loads the identity files, and says which public keys they
// name (for IdentitiesOnly: a key whose private half is only in the
// agent still counts, through its .pub).
func (e Endpoint) fileSigners(o Config) ([]ssh.Signer, []ssh.PublicKey, []string) {
	var files []ssh.Signer
	var pubs []ssh.PublicKey
	var tried []string
	seen := map[string]bool{}
	for i, f := range e.identities {
		p, err := expandHome(f)
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		if pb, err := os.ReadFile(p + ".pub"); err == nil {
			if pub, _, _, _, err := ssh.ParseAuthorizedKey(pb); err == nil {
				pubs = append(pubs, pub)
			}
		}
		s, err := loadKey(p, o)
		if err != nil {
			// A default key that is absent is noise, but one that exists
			// and cannot be used (encrypted, corrupt) is why a login
			// fails: name it in the error.
			switch {
			case !errors.Is(err, os.ErrNotExist):
				tried = append(tried, p+" ("+err.Error()+")")
			case i == 0:
				tried = append(tried, p+" (missing)")
			}
			continue
		}
		tried = append(tried, p)
		files = append(files, s)
		pubs = append(pubs, s.PublicKey())
	}
	return files, pubs, tried
}

// onlyKeys keeps the signers whose public key is among pubs.
func onlyKeys(ss []ssh.Signer, pubs []ssh.PublicKey) []ssh.Signer {
	var out []ssh.Signer
	for _, s := range ss {
		for _, p := range pubs {
			if bytes.Equal(s.PublicKey().Marshal(), p.Marshal()) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// certFile is a certificate to offer with the key it certifies.
type certFile struct {
	path string
	cert *ssh.Certificate
}

// certificates reads CertificateFile entries and the -cert.pub beside
// each identity file, as ssh does.
func (e Endpoint) certificates() []certFile {
	var out []certFile
	seen := map[string]bool{}
	paths := append([]string{}, e.certs...)
	for _, f := range e.identities {
		paths = append(paths, f+"-cert.pub")
	}
	for _, f := range paths {
		p, err := expandHome(f)
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if c, ok := pub.(*ssh.Certificate); err == nil && ok {
			out = append(out, certFile{path: p, cert: c})
		}
	}
	return out
}

// signer pairs the certificate with the signer of its key, nil when none
// has it.
func (c certFile) signer(ss []ssh.Signer) ssh.Signer {
	for _, s := range ss {
		if bytes.Equal(s.PublicKey().Marshal(), c.cert.Key.Marshal()) {
			cs, err := ssh.NewCertSigner(c.cert, s)
			if err == nil {
				return cs
			}
		}
	}
	return nil
}

func loadKey(path string, o Config) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	var pm *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &pm):
		pub := pm.PublicKey
		if pub == nil {
			// Old PEM keys keep the public half only in the .pub file.
			if pb, err := os.ReadFile(path + ".pub"); err == nil {
				pub, _, _, _, _ = ssh.ParseAuthorizedKey(pb)
			}
		}
		switch {
		case o.Passphrase == nil:
			return nil, fmt.Errorf("encrypted, and nothing here can ask for its passphrase: load it into ssh-agent (ssh-add %s)", path)
		case pub == nil:
			return nil, fmt.Errorf("encrypted, and no %s.pub to offer before asking for its passphrase: load it into ssh-agent (ssh-add %s)", path, path)
		}
		return &lazySigner{path: path, pem: b, pub: pub, ask: o.Passphrase}, nil
	}
	return nil, err
}

// lazySigner asks for a key's passphrase the first time it must sign,
// which only happens once the server said it accepts the key.
type lazySigner struct {
	path string
	pem  []byte
	pub  ssh.PublicKey
	ask  func(string) ([]byte, error)

	mu     sync.Mutex
	signer ssh.Signer
}

func (l *lazySigner) PublicKey() ssh.PublicKey { return l.pub }

func (l *lazySigner) load() (ssh.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.signer != nil {
		return l.signer, nil
	}
	pass, err := l.ask(l.path)
	if err != nil {
		return nil, fmt.Errorf("passphrase for %s: %w", l.path, err)
	}
	s, err := ssh.ParsePrivateKeyWithPassphrase(l.pem, pass)
	for i := range pass {
		pass[i] = 0
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %v", fault.ErrAuth, l.path, err)
	}
	l.signer = s
	return s, nil
}

func (l *lazySigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	return s.Sign(r, data)
}

func (l *lazySigner) SignWithAlgorithm(r io.Reader, data []byte, algo string) (*ssh.Signature, error) {
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	if as, ok := s.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(r, data, algo)
	}
	return s.Sign(r, data)
}
