package remote

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"armbench/internal/shell"
	"armbench/remote/sshconn"
	"armbench/targets"
)

// preparedMaxAge bounds how old a prewarmed answer a deploy trusts: long
// enough for the build it overlapped, short enough that a device changed
// by someone else meanwhile is asked again.
const preparedMaxAge = time.Minute

// prepared is what the device said about one binary name before a deploy:
// the installed binary's sha256 ("" when none, or no hash tool), whether
// NAME.prev exists, and the free space of deploy_dir (-1: unknown).
type prepared struct {
	sha     string
	fp      string // the installed file's status (statFormat), "" unknown
	hasPrev bool
	availKB int64
	at      time.Time
}

// prepareLines, run in deploy_dir with HashFuncs defined, sweeps the
// temporary files interrupted deploys of each name left and prints, per
// name i, `sha i HEX` (or `sha i -`) and `prev i` when NAME.prev exists,
// then `avail KB` and `prepared`. Names are numbered, not printed: a name
// may hold any character but a slash, NUL or newline.
//
// With fingerprints (records, one per name, may be nil), it also prints
// `fp i STATUS` of each installed binary, and when STATUS is the one
// recorded, the recorded sha256 instead of hashing the file again: inode,
// size, and modification and change times to the nanosecond do not stay
// the same through a write or a rename.
func prepareLines(names []string, records []installRecord) string {
	q := shell.Quote
	var b strings.Builder
	for i, name := range names {
		n := strconv.Itoa(i)
		b.WriteString(`for f in ./` + q(tmpPrefix(name)) + `*; do
	if [ -e "$f" ] || [ -L "$f" ]; then rm -f -- "$f"; fi
done
`)
		file := "./" + q(name)
		switch {
		case records == nil:
			b.WriteString(`if [ -f ` + file + ` ]; then printf 'sha ` + n + ` '; h ` + file + `; else echo 'sha ` + n + ` -'; fi
`)
		default:
			known := "[ -n \"$k\" ] && [ \"$k\" = " + q(records[i].fp) + " ]"
			if records[i].fp == "" || len(records[i].sha) != 64 || !hexSHA.MatchString(records[i].sha) {
				known = "false"
			}
			b.WriteString(`if [ -f ` + file + ` ]; then
	k=$(stat -c ` + q(statFormat) + ` ` + file + ` 2>/dev/null) || k=
	[ -z "$k" ] || printf 'fp ` + n + ` %s\n' "$k"
	if ` + known + `; then echo 'sha ` + n + ` ` + records[i].sha + `'; else printf 'sha ` + n + ` '; h ` + file + `; fi
else echo 'sha ` + n + ` -'; fi
`)
		}
		b.WriteString(`if [ -e ./` + q(name+".prev") + ` ]; then echo 'prev ` + n + `'; fi
`)
	}
	b.WriteString(`df -Pk . 2>/dev/null | { read -r _ || :; read -r _ _ _ a _ || :; echo "avail ${a:-?}"; }
echo prepared
`)
	return b.String()
}

// prepareScript, in one round trip before an upload: creates deploy_dir
// (dir, already resolved by the probe) and runs prepareLines in it.
func prepareScript(dir string, names []string, records []installRecord) string {
	return "set -e\n" + HashFuncs + mkdirCd(shell.Quote(dir)) + prepareLines(names, records)
}

// probeScript resolves deploy_dir and finds the decompressors, once per
// connection. With names, the same round trip also prepares their deploys
// (prepareLines in a subshell whose failure the probe ignores: the deploy
// then asks again on its own and reports the error with its step).
func probeScript(deployDir string, names []string, records []installRecord) string {
	dir := dirWord(deployDir)
	s := `printf 'dir %s\n' ` + dir + `
for t in zstd gzip; do if command -v "$t" >/dev/null 2>&1; then printf 'tool %s\n' "$t"; fi; done
`
	if len(names) == 0 {
		return s
	}
	// Not `( … ) || :`: on the left of || the shell ignores set -e, also
	// inside the subshell.
	return s + "(\nset -e\n" + HashFuncs + mkdirCd(dir) + prepareLines(names, records) + ") 2>/dev/null\n:\n"
}

// mkdirCd enters the directory word dir, creating it only when missing: a
// process fewer in the common case, where each costs a slow device (or a
// busy one) milliseconds.
func mkdirCd(dir string) string {
	return "[ -d " + dir + " ] || mkdir -p -- " + dir + "\ncd -- " + dir + "\n"
}

// parsePrepared reads prepareLines' answer for n names; ok is false unless
// the answer is complete.
func parsePrepared(out []byte, n int, at time.Time) (ps []prepared, ok bool) {
	ps = make([]prepared, n)
	avail := int64(-1)
	for _, line := range strings.Split(string(out), "\n") {
		k, rest, _ := strings.Cut(line, " ")
		switch k {
		case "sha", "prev", "fp":
			idx, v, _ := strings.Cut(rest, " ")
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= n {
				continue
			}
			switch k {
			case "sha":
				ps[i].sha = hexSHA.FindString(v)
			case "prev":
				ps[i].hasPrev = true
			case "fp":
				ps[i].fp = v
			}
		case "avail":
			if kb, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				avail = kb
			}
		case "prepared":
			ok = true
		}
	}
	for i := range ps {
		ps[i].availKB, ps[i].at = avail, at
	}
	return ps, ok
}

// keepPrepared stores a prewarmed answer for the next deploy of each name
// on this connection.
func (c *sshConn) keepPrepared(names []string, ps []prepared) {
	c.prepMu.Lock()
	defer c.prepMu.Unlock()
	if c.prepared == nil {
		c.prepared = map[string]prepared{}
	}
	for i, name := range names {
		c.prepared[name] = ps[i]
	}
}

// takePrepared hands a fresh prewarmed answer for name to one deploy: the
// deploy changes what it describes.
func (c *sshConn) takePrepared(name string) (prepared, bool) {
	c.prepMu.Lock()
	defer c.prepMu.Unlock()
	p, ok := c.prepared[name]
	delete(c.prepared, name)
	return p, ok && time.Since(p.at) < preparedMaxAge
}

// forgetPrepared drops prewarmed answers an action may have made wrong:
// those of names, or all of them when names is empty.
func (c *sshConn) forgetPrepared(names ...string) {
	c.prepMu.Lock()
	defer c.prepMu.Unlock()
	if len(names) == 0 {
		clear(c.prepared)
	}
	for _, n := range names {
		delete(c.prepared, n)
	}
}

// prepare returns what the device says about name before a deploy: the
// prewarmed answer when there is a fresh one, else a round trip now.
func (d *sshDevice) prepare(ctx context.Context, c *sshConn, name string) (prepared, error) {
	if p, ok := c.takePrepared(name); ok {
		return p, nil
	}
	names := []string{name}
	out, stderr, err := c.Exec(ctx, prepareScript(c.dir, names, d.records(names)), nil, nil)
	if err != nil {
		return prepared{}, sshconn.ScriptErr(err, stderr)
	}
	ps, ok := parsePrepared(out, 1, time.Now())
	if !ok {
		return prepared{}, fmt.Errorf("the device's answer to the prepare step was cut short: %q", strings.TrimSpace(string(out)))
	}
	return ps[0], nil
}

// prewarm prepares the deploys of names now, in the round trip that
// connects when there is no connection yet. Names being deployed right now
// are left alone: their temporary files are in use.
func (d *sshDevice) prewarm(ctx context.Context, names []string) error {
	for _, n := range names {
		if err := checkName(n); err != nil {
			return d.ep.OpErr("prewarm", "", err)
		}
	}
	d.mu.Lock()
	var mine []string
	for _, n := range names {
		if d.deploying[n] == 0 && d.prewarming[n] == nil && !slices.Contains(mine, n) {
			mine = append(mine, n)
		}
	}
	names = mine
	done := make(chan struct{})
	for _, n := range names {
		d.prewarming[n] = done
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		for _, n := range names {
			delete(d.prewarming, n)
		}
		d.mu.Unlock()
		close(done)
	}()
	c, fresh, err := d.connectFor(ctx, names)
	if err != nil || fresh || len(names) == 0 {
		return err
	}
	out, _, err := c.Exec(ctx, prepareScript(c.dir, names, d.records(names)), nil, nil)
	if err != nil {
		return d.ep.OpErr("prewarm", "", err)
	}
	if ps, ok := parsePrepared(out, len(names), time.Now()); ok {
		c.keepPrepared(names, ps)
	}
	return nil
}

// prewarmer is a device that can do a deploy's first round trip ahead.
type prewarmer interface {
	prewarm(ctx context.Context, names []string) error
}

// Prewarm connects dev when it is not connected yet and asks the device
// now what a deploy of each name asks first (the installed binary's
// sha256, leftovers to sweep, free space), in the same round trip as the
// connection's own probe when it is the one connecting. A Deploy of one of
// the names within a minute uses that answer instead of asking again: call
// Prewarm when a build whose result will be deployed starts, so the
// handshake and the round trip overlap the build. Errors are worth showing
// but not fatal: the deploy asks again and reports its own. Devices with no
// round trips to save (the local target) do nothing.
func Prewarm(ctx context.Context, dev Device, names ...string) error {
	if p, ok := dev.(prewarmer); ok {
		return p.prewarm(ctx, names)
	}
	return nil
}

// OpenForDeploy is Open followed by Prewarm(names), in one round trip
// after the handshake instead of two.
func OpenForDeploy(ctx context.Context, t targets.Target, o Options, names ...string) (Device, error) {
	if t.IsLocal() {
		return openLocal(t)
	}
	for _, n := range names {
		if err := checkName(n); err != nil {
			return nil, &OpError{Op: "connect", Target: t.Name, Addr: t.Host, Err: err}
		}
	}
	return openSSH(ctx, t, o, names)
}
