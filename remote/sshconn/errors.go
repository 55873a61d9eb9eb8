package sshconn

import (
	"fmt"

	"golang.org/x/crypto/ssh"

	"armbench/internal/shell"
)

// HostKey is a device's host key as shown to a user before trusting it.
type HostKey struct {
	Host        string // known_hosts form: "host" or "[host]:port"
	KeyType     string // e.g. ssh-ed25519
	Fingerprint string // SHA256:…
	Key         ssh.PublicKey
	File        string // known_hosts file it is (or would be) in
	Line        string // the known_hosts line
	Added       bool   // Trust appended it (false: it was already known)
}

// UnknownHostError refuses a host whose key is not in known_hosts.
type UnknownHostError struct {
	Host        string // known_hosts form
	KeyType     string
	Fingerprint string
	Key         ssh.PublicKey
	File        string // the known_hosts file consulted (where Trust appends)
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("the authenticity of host %s can't be established: %s key fingerprint is %s; not in %s (accept it with `armbench trust`)",
		e.Host, keyTypeName(e.KeyType), e.Fingerprint, e.File)
}

// HostKeyChangedError is a host presenting a different key than the one
// known_hosts has for it: possibly a man-in-the-middle. Never bypassed.
type HostKeyChangedError struct {
	Host        string
	KeyType     string
	Fingerprint string // of the key the host sent
	Key         ssh.PublicKey
	File        string // known_hosts file with the offending line
	Line        int
	Known       []string // fingerprints known_hosts has for the host
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s! IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY! "+
		"Someone could be eavesdropping on you right now (man-in-the-middle attack)! It is also possible that a host key has just been changed. "+
		"The fingerprint for the %s key sent by the remote host is %s. Offending key in %s:%d. "+
		"Host key verification failed; if the change is expected, remove the old key with `ssh-keygen -R %s -f %s`",
		e.Host, keyTypeName(e.KeyType), e.Fingerprint, e.File, e.Line, shell.Quote(e.Host), shell.Quote(e.File))
}

// Warning is the text OpenSSH prints for the same situation, for front
// ends that show it in full.
func (e *HostKeyChangedError) Warning() string {
	bar := "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@"
	return bar + "\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n" + bar + "\n" +
		"IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n" +
		"Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n" +
		"It is also possible that a host key has just been changed.\n" +
		"The fingerprint for the " + keyTypeName(e.KeyType) + " key sent by the remote host is\n" +
		e.Fingerprint + ".\n" +
		"Please contact your system administrator.\n" +
		fmt.Sprintf("Offending key in %s:%d\n", e.File, e.Line) +
		"Host key for " + e.Host + " has changed and armbench verifies host keys strictly.\n" +
		"Host key verification failed."
}

// keyTypeName turns "ssh-ed25519" into "ED25519", as OpenSSH words it.
func keyTypeName(t string) string {
	switch t {
	case ssh.KeyAlgoED25519:
		return "ED25519"
	case ssh.KeyAlgoRSA:
		return "RSA"
	case ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return "ECDSA"
	case ssh.KeyAlgoSKED25519:
		return "ED25519-SK"
	case ssh.KeyAlgoSKECDSA256:
		return "ECDSA-SK"
	}
	return t
}
