package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"armbench/internal/atomicfile"
	"armbench/remote/artifact"
	"armbench/remote/install"
)

// installRecord is what armbench last knew of an installed binary
// (package install).
type installRecord = install.Record

// recordPath is where the record of name on this device lives, "" when
// records are off: one file per device, deploy_dir and name.
func (d *sshDevice) recordPath(name string) string {
	if d.o.StateDir == "" {
		return ""
	}
	key := sha256.Sum256([]byte(d.ep.Display() + "\x00" + d.t.DeployDir + "\x00" + name))
	return filepath.Join(d.o.StateDir, "installed-"+hex.EncodeToString(key[:16]))
}

// records returns the known records of names, or nil when records are
// off (then the device is not even asked for the files' status).
func (d *sshDevice) records(names []string) []installRecord {
	if d.o.StateDir == "" {
		return nil
	}
	rs := make([]installRecord, len(names))
	for i, n := range names {
		b, err := os.ReadFile(d.recordPath(n))
		if err != nil {
			continue // none yet, or unreadable: the device hashes
		}
		fp, sha, _ := strings.Cut(strings.TrimRight(string(b), "\n"), "\n")
		if artifact.ValidSHA256(sha) {
			rs[i] = installRecord{FP: fp, SHA: sha}
		}
	}
	return rs
}

// remember stores the record of name, best effort: a record that cannot
// be written only costs the next deploy a hash on the device.
func (d *sshDevice) remember(name string, r installRecord) {
	path := d.recordPath(name)
	if path == "" || r.FP == "" || strings.ContainsAny(r.FP, "\n\x00") {
		return
	}
	if old := d.records([]string{name}); len(old) == 1 && old[0] == r {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	_ = atomicfile.Write(path, []byte(r.FP+"\n"+r.SHA+"\n"), 0o644)
}
