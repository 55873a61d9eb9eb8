package delta

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"armbench/internal/atomicfile"
	"armbench/remote/artifact"
	"armbench/remote/install"
)

// DefaultCacheDir is where copies of deployed artifacts are kept when
// remote.Options.DeltaCache is empty.
const DefaultCacheDir = ".armbench/deployed"

// cacheKeep is how many deployed artifacts the cache keeps: enough
// for a few targets and profiles iterating at once, and bounded so a day
// of redeploys does not fill the disk.
const cacheKeep = 8

// maxDeltaWindowLog bounds the zstd window (old plus new binary) at 1 GiB:
// zstd on 32-bit ARM cannot decode larger windows, and such binaries are
// better sent whole than held twice in a Pi's memory.
const maxDeltaWindowLog = 30

// defaultDecoderWindowLog is the largest window `zstd -d` accepts without
// --long or --memory.
const defaultDecoderWindowLog = 27

// Cache holds copies of deployed artifacts by sha256.
type Cache struct{ dir string }

// NewCache is the cache kept in dir (DefaultCacheDir when "").
func NewCache(dir string) *Cache {
	if dir == "" {
		dir = DefaultCacheDir
	}
	return &Cache{dir: dir}
}

// Dir is the folder the cache is kept in.
func (c *Cache) Dir() string { return c.dir }

// Path is where the copy whose sha256 is sum is kept.
func (c *Cache) Path(sum string) string { return filepath.Join(c.dir, sum) }

// load returns the cached artifact with this sha256, checked against it:
// a copy damaged on disk must not become the base of a delta.
func (c *Cache) Load(sum string) ([]byte, error) {
	if !artifact.ValidSHA256(sum) {
		return nil, fmt.Errorf("invalid sha256 %q", sum)
	}
	b, err := os.ReadFile(c.Path(sum))
	if err != nil {
		return nil, err
	}
	got := sha256.Sum256(b)
	if hex.EncodeToString(got[:]) != sum {
		os.Remove(c.Path(sum))
		return nil, fmt.Errorf("local copy %s is damaged (sha256 %x): removed", c.Path(sum), got)
	}
	return b, nil
}

// store keeps a copy of data (whose sha256 is sum) for the next delta. It
// writes a temporary file and renames it, so a reader never sees half a
// copy, and refreshes the mtime of a copy already there, which is what
// prune goes by. A copy, not a link: the build rewrites its output file.
//
// It also records sum as what target has as name, the guess that lets the
// next deploy start its delta before the device answers.
func (c *Cache) Store(data []byte, sum, target, name string) error {
	if err := c.StoreCopy(data, sum); err != nil {
		return err
	}
	if err := c.SetLast(target, name, sum); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	return nil
}

// storeCopy is store without the record of what is installed: a deploy
// writes its copy while the device installs, and records it once the
// device has it.
func (c *Cache) StoreCopy(data []byte, sum string) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	dst := c.Path(sum)
	if st, err := os.Stat(dst); err == nil && st.Size() == int64(len(data)) {
		now := time.Now()
		return os.Chtimes(dst, now, now)
	}
	tmp, err := os.CreateTemp(c.dir, "."+sum+install.TmpMarker+"*")
	if err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("delta cache: %w", err)
	}
	return c.Prune(cacheKeep)
}

// Expanded forms (package codec) of installed copies are kept in
// expandedDir as SUM.XSUM, the sha256 of the copy and of the form: the
// next elfz delta's base, without expanding the copy again. They are
// large (an inflated cmd/go is 26 MB), so only the newest few stay.
const (
	expandedDir  = "expanded"
	expandedKeep = 2
)

// expanded returns the kept expanded form of the copy sum and its path,
// checked against its name; nil when there is none (or it was damaged,
// and is removed).
func (c *Cache) Expanded(sum string) (string, []byte) {
	paths, _ := filepath.Glob(filepath.Join(c.dir, expandedDir, sum+".*"))
	for _, p := range paths {
		_, want, _ := strings.Cut(filepath.Base(p), ".")
		if !artifact.ValidSHA256(want) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			os.Remove(p)
			continue
		}
		return p, b
	}
	return "", nil
}

// storeExpanded keeps x as the expanded form of the copy sum, and prunes
// the older ones. Like store, through a temporary file.
func (c *Cache) StoreExpanded(x []byte, sum string) error {
	dir := filepath.Join(c.dir, expandedDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	xs := sha256.Sum256(x)
	dst := filepath.Join(dir, sum+"."+hex.EncodeToString(xs[:]))
	if _, err := os.Stat(dst); err != nil {
		tmp, err := writeTemp(dir, "."+sum+install.TmpMarker+"*", x)
		if err != nil {
			return fmt.Errorf("delta cache: %w", err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("delta cache: %w", err)
		}
	} else if err := os.Chtimes(dst, time.Now(), time.Now()); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	if err := keepNewest(dir, expandedKeep, func(string) bool { return true }); err != nil {
		return fmt.Errorf("delta cache: %w", err)
	}
	return nil
}

// prune keeps the keep most recently stored copies and removes leftovers
// of interrupted stores.
func (c *Cache) Prune(keep int) error {
	return keepNewest(c.dir, keep, func(name string) bool { return artifact.ValidSHA256(name) })
}

// keepNewest keeps the keep most recently written files of dir that
// count (by name), and removes leftovers of interrupted writes (an hour
// old: another armbench may be writing).
func keepNewest(dir string, keep int, counts func(name string) bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type copyInfo struct {
		name string
		mod  int64
	}
	var copies []copyInfo
	for _, e := range ents {
		name := e.Name()
		if strings.Contains(name, install.TmpMarker) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(dir, name))
			}
			continue
		}
		if e.IsDir() || !counts(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		copies = append(copies, copyInfo{name, info.ModTime().UnixNano()})
	}
	slices.SortFunc(copies, func(a, b copyInfo) int { return cmp.Compare(b.mod, a.mod) })
	for _, old := range copies[min(keep, len(copies)):] {
		os.Remove(filepath.Join(dir, old.name))
	}
	return nil
}

// lastPath is the file naming the sha256 last installed as name on target.
// Target and binary names cannot hold a slash or be "." or ".." (targets
// and install.CheckName refuse them).
func (c *Cache) lastPath(target, name string) string {
	return filepath.Join(c.dir, "last", target, name)
}

func (c *Cache) SetLast(target, name, sum string) error {
	p := c.lastPath(target, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(p, []byte(sum+"\n"), 0o644)
}

func (c *Cache) Last(target, name string) string {
	b, err := os.ReadFile(c.lastPath(target, name))
	if err != nil {
		return ""
	}
	sum := strings.TrimSpace(string(b))
	if !artifact.ValidSHA256(sum) {
		return ""
	}
	return sum
}

// writeTemp writes data to a new temporary file in dir.
func writeTemp(dir, pattern string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
