package cli

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"armbench/targets"
)

// resolveTargets turns a --target value into targets, in order and
// without repeats: a target, a group (its members), or, where lists are
// allowed, a comma-separated list of either. fleet says it named more
// than one device or a group.
func (w *workspace) resolveTargets(list string, lists bool) (ts []targets.Target, fleet bool, err error) {
	if !lists && strings.Contains(list, ",") {
		return nil, false, usagef("--target takes one target or group here, not %q", list)
	}
	if strings.TrimSpace(list) == "" {
		t, err := w.target("")
		return []targets.Target{t}, false, err
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		members, group, ok := w.cfg.Resolve(name)
		if !ok {
			return nil, false, w.unknownTarget(name)
		}
		fleet = fleet || group != ""
		for _, t := range members {
			if !seen[t.Name] {
				seen[t.Name] = true
				ts = append(ts, t)
			}
		}
	}
	if len(ts) == 0 {
		return nil, false, usagef("--target %q names no target", list)
	}
	return ts, fleet || len(ts) > 1, nil
}

// unknownTarget says that name is neither a target nor a group, with the
// nearest of either when one is close.
func (w *workspace) unknownTarget(name string) error {
	var groups []string
	for _, g := range w.cfg.Groups {
		groups = append(groups, g.Name)
	}
	msg := fmt.Sprintf("unknown target %q in %s", name, w.cfg.Path)
	best, bestD := "", 3
	for _, n := range append(w.targetNames(), groups...) {
		if d := targets.EditDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	msg += " (targets: " + strings.Join(w.targetNames(), ", ")
	if len(groups) > 0 {
		msg += "; groups: " + strings.Join(groups, ", ")
	}
	return usagef("%s)", msg)
}

// eachTarget runs fn for every target a --target value names, one after
// the other. With several, each gets a copy of c whose output lines say
// which device they are from: "NAME: " before text lines, a "device" key
// in JSON lines. It goes on after a failure and reports them together.
func (c *cli) eachTarget(w *workspace, list string, fn func(c *cli, t targets.Target) error) error {
	ts, fleet, err := w.resolveTargets(list, false)
	if err != nil {
		return err
	}
	if !fleet {
		return fn(c, ts[0])
	}
	var failed []string
	var last error
	for _, t := range ts {
		dc := *c
		out, errOut := c.devicePrefix(c.stdout, t.Name), c.devicePrefix(c.stderr, t.Name)
		dc.stdout, dc.stderr = out, errOut
		err := fn(&dc, t)
		out.flush()
		errOut.flush()
		if err != nil {
			fmt.Fprintf(c.stderr, "%s: armbench: %v\n", t.Name, err)
			failed, last = append(failed, t.Name), err
		}
	}
	switch {
	case len(failed) == 1 && len(ts) == 1:
		return last
	case len(failed) > 0:
		return fmt.Errorf("failed on %d of %d devices: %s", len(failed), len(ts), strings.Join(failed, ", "))
	}
	return nil
}

func (c *cli) devicePrefix(w io.Writer, name string) *linePrefixer {
	if c.json {
		return &linePrefixer{w: w, json: `"device":` + strconv.Quote(name)}
	}
	return &linePrefixer{w: w, text: name + ": "}
}

// linePrefixer marks each whole line written through it as coming from
// one device.
type linePrefixer struct {
	w    io.Writer
	text string // put before text lines
	json string // put first in JSON objects
	mu   sync.Mutex
	buf  []byte
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := p.w.Write(p.mark(p.buf[:i+1])); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
}

func (p *linePrefixer) mark(line []byte) []byte {
	if p.json != "" && bytes.HasPrefix(line, []byte("{")) {
		sep := ","
		if bytes.HasPrefix(line, []byte("{}")) {
			sep = ""
		}
		return append([]byte("{"+p.json+sep), line[1:]...)
	}
	return append([]byte(p.text), line...)
}

// flush writes a last line that had no newline.
func (p *linePrefixer) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.w.Write(p.mark(append(p.buf, '\n')))
		p.buf = nil
	}
}
