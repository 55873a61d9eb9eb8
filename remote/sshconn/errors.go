package sshconn

import (
	"fmt"
	"strings"

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
	LineNo      int    // its number in File, when Trust added it
	Added       bool   // Trust appended it (false: it was already known)
}

// UnknownHostError refuses a host whose key is not in known_hosts.
type UnknownHostError struct {
	Host        string // known_hosts form
	KeyType     string
	Fingerprint string
	Key         ssh.PublicKey
	File        string // the known_hosts file consulted (where Trust appends)
	Hashed      bool   // HashKnownHosts: Trust adds the entry hashed
	Target      string // the target's name, when known
}

func (e *UnknownHostError) Error() string {
	cmd := "armbench trust"
	if e.Target != "" {
		cmd += " " + shell.Quote(e.Target)
	}
	return fmt.Sprintf("the authenticity of host %s can't be established: %s key fingerprint is %s; not in %s (accept it with `%s`)",
		e.Host, keyTypeName(e.KeyType), e.Fingerprint, e.File, cmd)
}

// HostKeyChangedError is a host presenting a different key than the one
// known_hosts has for it: possibly a man-in-the-middle, more often a
// re-flashed board. Never bypassed; ReplaceHostKey swaps the key once the
// user says so.
type HostKeyChangedError struct {
	Host        string // the known_hosts name (HostKeyAlias, host or [host]:port)
	KeyType     string
	Fingerprint string // of the key the host sent
	Key         ssh.PublicKey
	File        string // known_hosts file with the offending line
	Line        int
	Known       []string // fingerprints known_hosts has for the host
	Target      string   // the target's name, when known
}

// replaceCommand is the command that swaps the key.
func (e *HostKeyChangedError) replaceCommand() string {
	if e.Target == "" {
		return "armbench trust --replace TARGET"
	}
	return "armbench trust --replace " + shell.Quote(e.Target)
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s! known_hosts has %s (%s:%d) but the host sent the %s key %s. "+
		"Re-flashing the board's SD card is the usual cause (a fresh system makes a new host key); otherwise someone could be "+
		"eavesdropping on you (man-in-the-middle attack). Host key verification failed; if you re-flashed or reinstalled it, "+
		"replace the key with `%s`",
		e.Host, strings.Join(e.Known, ", "), e.File, e.Line, keyTypeName(e.KeyType), e.Fingerprint, e.replaceCommand())
}

// Warning is the text OpenSSH prints for the same situation, with both
// fingerprints and what to do, for front ends that show it in full.
func (e *HostKeyChangedError) Warning() string {
	bar := "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@"
	known := ""
	if len(e.Known) > 0 {
		known = "known_hosts has for " + e.Host + ":\n" + strings.Join(e.Known, "\n") + "\n"
	}
	return bar + "\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n" + bar + "\n" +
		"IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n" +
		"Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n" +
		"It is also possible that a host key has just been changed.\n" +
		"The fingerprint for the " + keyTypeName(e.KeyType) + " key sent by the remote host is\n" +
		e.Fingerprint + ".\n" +
		known +
		fmt.Sprintf("Offending key in %s:%d\n", e.File, e.Line) +
		"Re-flashing the board (a new SD card image) is the usual cause: the new\n" +
		"system made a new host key. If that is what happened, replace the key:\n" +
		"  " + e.replaceCommand() + "\n" +
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
