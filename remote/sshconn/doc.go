// Package sshconn is the SSH transport to a device: the target resolved
// through ssh_config (HostName, Port, User, IdentityFile, ProxyJump),
// the keys offered (ssh-agent, then key files, asking a passphrase only
// for a key the server accepts), host keys checked strictly against
// known_hosts, jump hosts, the dial and handshake, and the live
// connection with its keepalives and the helpers that run scripts over
// it.
package sshconn
