package fleet

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"armbench/remote"
	"armbench/state"
	"armbench/targets"
)

// Binary is one binary a device has in its deploy_dir.
type Binary struct {
	Name     string
	SHA256   string // as the device computed it
	Size     int64
	Modified time.Time // the file's modification time on the device
	// Record is armbench's own record of installing this very binary
	// (same sha256) on this target: its profile and time. nil when there
	// is none, e.g. it was built or copied by other means.
	Record *state.Record
}

// DeviceStatus is what one device has.
type DeviceStatus struct {
	Target   string
	Addr     string
	Dir      string
	Binaries []Binary // the names asked for that exist, in that order
	Err      error
}

// Status asks every target, all at once, which of names its deploy_dir
// holds, with their sha256 (one command per device, over the pool's
// connection), and names each from h's install records.
func Status(ctx context.Context, pool *remote.Pool, ts []targets.Target, names []string, h state.History) []DeviceStatus {
	out := make([]DeviceStatus, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = deviceStatus(ctx, pool, t, names, h)
		}()
	}
	wg.Wait()
	return out
}

func deviceStatus(ctx context.Context, pool *remote.Pool, t targets.Target, names []string, h state.History) DeviceStatus {
	st := DeviceStatus{Target: t.Name, Addr: t.Host}
	dev, err := pool.Get(ctx, t)
	if err != nil {
		st.Err = err
		return st
	}
	st.Addr, st.Dir = addr(dev, t), dev.DeployDir()
	out, err := dev.Exec(ctx, statusScript(st.Dir, names))
	if err != nil {
		st.Err = err
		return st
	}
	st.Binaries, err = parseStatus(string(out), names)
	if err != nil {
		st.Err = fmt.Errorf("status %s (%s): %w", t.Name, st.Addr, err)
	}
	for i, b := range st.Binaries {
		if r, ok := h.Find(t.Name, b.SHA256); ok {
			st.Binaries[i].Record = &r
		}
	}
	return st
}

var (
	statusLine = regexp.MustCompile(`^bin (\d+) (\d+) (\d+) (.*)$`)
	sha256Hex  = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
)

// parseStatus reads statusScript's answer.
func parseStatus(out string, names []string) ([]Binary, error) {
	var bs []Binary
	for _, line := range strings.Split(out, "\n") {
		m := statusLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(names) {
			continue
		}
		size, _ := strconv.ParseInt(m[2], 10, 64)
		mtime, _ := strconv.ParseInt(m[3], 10, 64)
		sum := sha256Hex.FindString(m[4])
		if sum == "" {
			return bs, fmt.Errorf("no sha256 tool on the device (sha256sum, shasum, openssl or busybox): %q", m[4])
		}
		bs = append(bs, Binary{Name: names[i], SHA256: sum, Size: size, Modified: time.Unix(mtime, 0)})
	}
	return bs, nil
}
