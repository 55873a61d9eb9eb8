// Package state owns what armbench keeps about devices on this host,
// under the project's .armbench/state: the install history that status
// reads (which binary went where, built with which profile, and when),
// and the folder remote keeps its knowledge of installed files in.
package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"armbench/internal/atomicfile"
)

// Record is one install armbench made: which binary (by sha256) it put
// on a target under which name, built with which profile, and when. The
// device knows only the file; these records, kept locally, let status
// name the profile and the time of what a device runs.
type Record struct {
	Target  string    `json:"target"`
	Name    string    `json:"name"`
	Profile string    `json:"profile"`
	SHA256  string    `json:"sha256"`
	Time    time.Time `json:"time"`
}

// Dir is the state folder of the project rooted at project.
func Dir(project string) string { return filepath.Join(project, ".armbench", "state") }

// History is the install records under a state folder
// (Dir/deploys/TARGET.jsonl), one JSON line per install. Every deploy
// adds one, whichever front end made it.
type History struct{ Dir string }

// historyKeep bounds each target's file: the records status can need are
// those of binaries still on the device, a few per profile at most.
const historyKeep = 200

func (h History) path(target string) string {
	return filepath.Join(h.Dir, "deploys", target+".jsonl")
}

// Add appends r to its target's records; the file is cut back to the
// newest historyKeep records once it holds twice as many.
func (h History) Add(r Record) error {
	if h.Dir == "" {
		return nil
	}
	p := h.path(r.Target)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("install records: %w", err)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("install records: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("install records: %w", err)
	}
	return h.trim(p)
}

func (h History) trim(p string) error {
	rs := h.read(p)
	if len(rs) < 2*historyKeep {
		return nil
	}
	var b bytes.Buffer
	for _, r := range rs[len(rs)-historyKeep:] {
		line, _ := json.Marshal(r)
		b.Write(append(line, '\n'))
	}
	if err := atomicfile.Write(p, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("install records: %w", err)
	}
	return nil
}

// read returns a file's records, oldest first, skipping unreadable lines.
func (h History) read(p string) []Record {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.SHA256 != "" {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the newest record of target installing the binary sum.
func (h History) Find(target, sum string) (Record, bool) {
	if h.Dir == "" {
		return Record{}, false
	}
	rs := h.read(h.path(target))
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].SHA256 == sum {
			return rs[i], true
		}
	}
	return Record{}, false
}
