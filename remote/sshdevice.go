package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"armbench/internal/shell"
	"armbench/remote/install"
	"armbench/remote/sshconn"
	"armbench/targets"
)

// sshDevice is a device over one SSH connection, re-established on the
// next action after it drops.
type sshDevice struct {
	t  targets.Target
	o  Options
	ep sshconn.Endpoint

	mu     sync.Mutex
	conn   *sshConn
	closed bool
	// lastDrop is why the previous connection ended; reported once by the
	// action that reconnects.
	lastDrop error
	// deploying counts the deploys in flight per name, which a prewarm
	// must not sweep the temporary files of; prewarming is closed when the
	// prewarm in flight for a name is done, which a deploy of that name
	// waits for instead of asking the same question again.
	deploying  map[string]int
	prewarming map[string]chan struct{}
}

// sshConn is one live connection and what was learnt about the device
// through it.
type sshConn struct {
	*sshconn.Conn
	dir   string   // absolute deploy_dir
	tools []string // decompressors found: "zstd", "gzip"

	prepMu   sync.Mutex
	prepared map[string]prepared // prewarmed answers, by binary name
	// noPatch: the device's zstd lacks --patch-from; send whole files.
	noPatch atomic.Bool
	// noELFZ: the delta helper failed on this device; plain deltas only.
	noELFZ atomic.Bool
	// elfzSHA is the sha256 of the delta helper installed through this
	// connection (a string), so later deltas skip checking it.
	elfzSHA atomic.Value
}

// openSSH connects to t; names are binaries about to be deployed, whose
// prepare step rides on the connection's probe.
func openSSH(ctx context.Context, t targets.Target, o Options, names []string) (Device, error) {
	ep, err := sshconn.Resolve(t, o.transport())
	if err != nil {
		return nil, &OpError{Op: "connect", Target: t.Name, Addr: t.Host, Err: err}
	}
	d := &sshDevice{t: t, o: o, ep: ep, deploying: map[string]int{}, prewarming: map[string]chan struct{}{}}
	if _, _, _, err := d.connect(ctx, names, false); err != nil {
		return nil, err
	}
	return d, nil
}

// Addr is user@host:port, as errors name the device.
func (d *sshDevice) Addr() string { return d.ep.Display() }

// get returns the live connection, connecting when there is none; a
// reconnection after a drop is reported to emit (when not nil).
func (d *sshDevice) get(ctx context.Context) (*sshConn, error) {
	return d.getEmit(ctx, nil)
}

func (d *sshDevice) getEmit(ctx context.Context, emit func(Event)) (*sshConn, error) {
	c, dropped, _, err := d.connect(ctx, nil, true)
	if err == nil && dropped != nil && emit != nil {
		emit(Reconnected{Time: time.Now(), Cause: dropped})
	}
	return c, err
}

// connectFor returns the live connection, or opens one whose probe also
// prepares the deploys of names (fresh says it did).
func (d *sshDevice) connectFor(ctx context.Context, names []string) (c *sshConn, fresh bool, err error) {
	c, _, fresh, err = d.connect(ctx, names, false)
	return c, fresh, err
}

// connect returns the live connection, or opens one, preparing the
// deploys of names in its probe, and says why the previous one ended (nil
// for the first, or when takeDrop is false: the next action that reports
// it will).
func (d *sshDevice) connect(ctx context.Context, names []string, takeDrop bool) (c *sshConn, dropped error, fresh bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, nil, false, d.ep.OpErr("connect", "", errors.New("device closed"))
	}
	if d.conn != nil && d.conn.Alive() {
		if takeDrop && d.lastDrop != nil {
			// A prewarm reconnected after the drop: this action is the
			// first to report it.
			dropped, d.lastDrop = d.lastDrop, nil
		}
		return d.conn, dropped, false, nil
	}
	if d.conn != nil {
		d.lastDrop = d.conn.Err()
		d.conn = nil
	}
	hk, err := sshconn.LoadHostKeys(d.t, d.o.transport())
	if err != nil {
		return nil, nil, false, d.ep.OpErr("connect", "known_hosts", err)
	}
	client, err := d.ep.Connect(ctx, d.o.transport(), hk)
	if err != nil {
		return nil, nil, false, d.ep.OpErr("connect", "", err)
	}
	c = &sshConn{Conn: sshconn.NewConn(client)}
	// A login shell whose rc files hang would otherwise hang every action.
	pctx, cancel := context.WithTimeout(ctx, max(2*d.o.transport().Timeout(), 20*time.Second))
	defer cancel()
	if err := d.probe(pctx, c, names); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("%w: the device accepted the login but a shell command did not finish (slow or blocking shell startup files?)", ErrTimeout)
		}
		client.Close()
		return nil, nil, false, d.ep.OpErr("connect", "probe", err)
	}
	go c.Watch(d.o.transport().KeepAliveEvery())
	d.conn = c
	if takeDrop {
		dropped = d.lastDrop
		d.lastDrop = nil
	}
	return c, dropped, true, nil
}

// probe resolves deploy_dir and finds the decompressors, once per
// connection, and prepares the deploys of names in the same round trip.
func (d *sshDevice) probe(ctx context.Context, c *sshConn, names []string) error {
	at := time.Now()
	if len(names) > 0 && d.o.ELFZHelper != nil && !slices.Contains(names, elfzName) {
		// A redeploy of a default-profile binary first makes sure the
		// delta helper is there: that question rides along too.
		names = append(slices.Clip(names), elfzName)
	}
	out, stderr, err := c.Exec(ctx, install.ProbeScript(d.t.DeployDir, names, d.records(names)), nil, nil)
	if err != nil {
		return sshconn.ScriptErr(err, stderr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "dir":
			c.dir = v
		case "tool":
			c.tools = append(c.tools, v)
		}
	}
	if c.dir == "" {
		return fmt.Errorf("could not resolve deploy_dir %q on the device", d.t.DeployDir)
	}
	if len(names) > 0 {
		if ps, ok := install.ParsePrepared(out, len(names), at); ok {
			c.keepPrepared(names, ps)
		}
	}
	return nil
}

func (d *sshDevice) DeployDir() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		return d.conn.dir
	}
	return d.t.DeployDir
}

func (d *sshDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.conn != nil {
		err := d.conn.Client.Close()
		d.conn = nil
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

func (d *sshDevice) Exec(ctx context.Context, script string) ([]byte, error) {
	c, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	// Whatever the script changes, prewarmed answers may no longer hold.
	c.forgetPrepared()
	// Like the local device: in deploy_dir when it exists.
	out, stderr, err := c.Exec(ctx, "cd -- "+shell.Quote(c.dir)+" 2>/dev/null\n"+script, nil, nil)
	if err != nil {
		return out, d.ep.OpErr("exec", "", sshconn.ScriptErr(err, stderr))
	}
	return out, nil
}
