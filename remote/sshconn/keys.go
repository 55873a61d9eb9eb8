package sshconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"armbench/remote/fault"
)

// signers loads what to offer, in order: ssh-agent, then key files.
// Encrypted keys ask for their passphrase only when the server accepts
// their public key.
func (e Endpoint) signers(o Config) (func() ([]ssh.Signer, error), []string, io.Closer) {
	var tried []string
	var closer io.Closer
	var agentSigners func() ([]ssh.Signer, error)
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !o.NoAgent {
		if c, err := net.Dial("unix", sock); err == nil {
			closer = c
			agentSigners = agent.NewClient(c).Signers
			tried = append(tried, "ssh-agent")
		}
	}
	var files []ssh.Signer
	seen := map[string]bool{}
	for _, f := range e.identities {
		p, err := expandHome(f)
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		s, err := loadKey(p, o)
		if err != nil {
			// A default key that is absent is noise, but one that exists
			// and cannot be used (encrypted, corrupt) is why a login
			// fails: name it in the error.
			switch {
			case !errors.Is(err, os.ErrNotExist):
				tried = append(tried, p+" ("+err.Error()+")")
			case f == e.identities[0]:
				tried = append(tried, p+" (missing)")
			}
			continue
		}
		tried = append(tried, p)
		files = append(files, s)
	}
	return func() ([]ssh.Signer, error) {
		var all []ssh.Signer
		if agentSigners != nil {
			if s, err := agentSigners(); err == nil {
				all = append(all, s...)
			}
		}
		return append(all, files...), nil
	}, tried, closer
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
