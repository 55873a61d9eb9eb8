package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"armbench/remote"
	"armbench/targets"
)

type replaceResultJSON struct {
	Type        string   `json:"type"` // result
	Target      string   `json:"target"`
	Host        string   `json:"host"`
	KeyType     string   `json:"key_type"`
	Fingerprint string   `json:"fingerprint"`
	Key         string   `json:"key"`
	Old         []string `json:"old"` // fingerprints known_hosts had
	Removed     []string `json:"removed"`
	File        string   `json:"known_hosts"`
	Replaced    bool     `json:"replaced"`
}

// replaceOne swaps the host key of a re-flashed board: it shows both
// fingerprints, asks the user to type the target's name (or --yes), then
// removes every entry for the host (hashed, aliased, with a port) and
// adds the key the board now has. A host whose key did not change is
// left alone; an unknown one goes through the ordinary trust.
func (c *cli) replaceOne(ctx context.Context, t targets.Target, yes bool) error {
	o := c.trustOptions()
	key, err := remote.ScanHostKey(ctx, t, o)
	var ce *remote.HostKeyChangedError
	var ue *remote.UnknownHostError
	switch {
	case err == nil:
		if !c.json {
			fmt.Fprintf(c.stdout, "%s (%s) is already trusted: %s key %s; nothing to replace\n", t.Name, key.Host, key.KeyType, key.Fingerprint)
			return nil
		}
		c.printJSON(replaceResultJSON{Type: "result", Target: t.Name, Host: key.Host, KeyType: key.KeyType, Fingerprint: key.Fingerprint, File: key.File})
		return nil
	case errors.As(err, &ue):
		return c.trustOne(ctx, t, yes)
	case !errors.As(err, &ce):
		return withHint(err)
	}
	res := replaceResultJSON{Type: "result", Target: t.Name, Host: ce.Host, KeyType: ce.KeyType, Fingerprint: ce.Fingerprint,
		Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ce.Key))), Old: ce.Known}
	if !yes {
		if c.json {
			return usagef("trust --replace --json needs --yes (it cannot ask)")
		}
		if !c.confirmReplace(t, ce) {
			return fmt.Errorf("trust --replace %s: %w: known_hosts unchanged", t.Name, remote.ErrNotTrusted)
		}
	}
	r, err := remote.ReplaceHostKey(t, o, ce.Key)
	for _, x := range r.Removed {
		res.Removed = append(res.Removed, fmt.Sprintf("%s:%d %s", x.File, x.Line, x.Fingerprint))
	}
	if err != nil {
		return fmt.Errorf("trust --replace %s: %w", t.Name, err)
	}
	res.File, res.Replaced = r.Added.File, true
	if c.json {
		c.printJSON(res)
		return nil
	}
	for _, x := range r.Removed {
		form := "entry"
		if x.Hashed {
			form = "hashed entry"
		}
		fmt.Fprintf(c.stdout, "removed %s %s:%d (%s)\n", form, x.File, x.Line, x.Fingerprint)
	}
	fmt.Fprintf(c.stdout, "added %s key %s for %s to %s\n", ce.KeyType, ce.Fingerprint, r.Added.Host, r.Added.File)
	return nil
}

// confirmReplace shows both keys and asks for the target's name, typed:
// a changed key may be an attack, so a reflexive "y" is not enough.
func (c *cli) confirmReplace(t targets.Target, ce *remote.HostKeyChangedError) bool {
	fmt.Fprintf(c.stderr, "The host key of %s (%s) has changed.\n  known_hosts has: %s (%s:%d)\n  the host sent:   %s key %s\n"+
		"Re-flashing the board is the usual cause (a fresh system makes a new host key). If you did not\n"+
		"re-flash or reinstall it, stop: someone may be intercepting the connection.\n"+
		"Type the target's name (%s) to remove the old key and trust the new one: ",
		t.Name, ce.Host, strings.Join(ce.Known, ", "), ce.File, ce.Line, ce.KeyType, ce.Fingerprint, t.Name)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	return strings.TrimSpace(line) == t.Name
}

// trustOptions are the remote options with ssh_config's warnings on
// this command's stderr.
func (c *cli) trustOptions() remote.Options {
	o := c.remoteOptions()
	o.SSHWarn = func(w remote.SSHWarning) { fmt.Fprintf(c.stderr, "armbench: warning: %s\n", w) }
	return o
}
