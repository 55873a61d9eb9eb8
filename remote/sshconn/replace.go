package sshconn

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/ssh"

	"armbench/targets"
)

// Removed is a known_hosts entry ReplaceHostKey took out.
type Removed struct {
	File        string
	Line        int
	Fingerprint string
	Hashed      bool
}

// Replaced is what ReplaceHostKey did.
type Replaced struct {
	Removed []Removed
	Added   HostKey
}

// ReplaceHostKey makes key t's only host key: it removes every entry
// naming the host in the known_hosts files armbench writes (hashed or
// not, under its HostKeyAlias, its HostName, the host as targets.toml
// writes it, with or without [ ]:port), as ssh-keygen -R would for each
// form, then adds key the way ssh_config says. key must be the one the
// user was shown (a *HostKeyChangedError's). @cert-authority and @revoked
// lines stay; an old key left in a file armbench does not write (the
// system's) is an error.
func ReplaceHostKey(t targets.Target, o Config, key ssh.PublicKey) (Replaced, error) {
	var r Replaced
	o.Warn = func(Warning) {}
	e, err := Resolve(t, o)
	if err != nil {
		return r, err
	}
	hk, err := e.loadHostKeys(t, o)
	if err != nil {
		return r, err
	}
	files, err := knownHostsFiles(t, o, e)
	if err != nil {
		return r, err
	}
	names := e.knownHostsNames()
	for _, f := range files {
		if slices.Contains(e.globalKnownHosts, f) {
			continue
		}
		gone, err := removeKnownHosts(f, names)
		if err != nil {
			return r, fmt.Errorf("known_hosts %s: %w", f, err)
		}
		for _, l := range gone {
			r.Removed = append(r.Removed, Removed{File: l.File, Line: l.N, Fingerprint: ssh.FingerprintSHA256(l.Key), Hashed: l.Hosts[0] == '|'})
		}
	}
	if r.Added, err = appendKnownHost(hk.file, hk.name, hk.hash, key); err != nil {
		return r, err
	}
	after, err := e.loadHostKeys(t, o)
	if err != nil {
		return r, err
	}
	var ce *HostKeyChangedError
	if err := after.check("", nil, key); errors.As(err, &ce) {
		return r, fmt.Errorf("the old key is still in %s:%d, which armbench does not edit: remove it there", ce.File, ce.Line)
	} else if err != nil {
		return r, err
	}
	return r, nil
}

// knownHostsNames are every name known_hosts may have the host under.
func (e Endpoint) knownHostsNames() []string {
	var names []string
	for _, n := range []string{e.knownHostsName(), knownHostsName(e.host, e.port), knownHostsName(e.alias, e.port)} {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}
