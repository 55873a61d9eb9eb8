// Package sshconn is the SSH transport to a device: the target resolved
// through ssh_config as OpenSSH resolves it (Host and Match blocks,
// Include, tokens, first value wins; lines armbench cannot honour are
// warned about with their file and line), the keys offered (ssh-agent or
// IdentityAgent, IdentitiesOnly, key files and certificates, asking a
// passphrase only for a key the server accepts), host keys checked
// strictly against known_hosts (hashed entries, HostKeyAlias,
// @cert-authority, @revoked), direct, ProxyJump or ProxyCommand dials,
// and the live connection with its keepalives and the helpers that run
// scripts over it.
package sshconn
