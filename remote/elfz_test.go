package remote

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/internal/elfz/codec"
	"armbench/internal/shell"
	"armbench/internal/testdevice"
	"armbench/remote/artifact"
	"armbench/remote/install"
	"armbench/targets"
)

// elfzBuilds are what the elfz tests deploy, built once: the test
// program's default-profile arm64 build (plain go build, DWARF
// compressed by the linker), the same after a one-line change, and the
// delta helper built as internal/elfz builds it.
type elfzBuilds struct {
	once           sync.Once
	v1, v2, helper string
	dir            string
	err            error
}

var elfzBins elfzBuilds

func buildELFZ(t *testing.T) (v1, v2, helper string) {
	t.Helper()
	b := &elfzBins
	b.once.Do(func() { b.err = b.build() })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.v1, b.v2, b.helper
}

func (b *elfzBuilds) build() error {
	dir, err := os.MkdirTemp("", "armbench-elfz-test")
	if err != nil {
		return err
	}
	b.dir = dir
	goBuild := func(out, pkgDir string, args ...string) error {
		cmd := exec.Command("go", append(append([]string{"build"}, args...), "-o", out, ".")...)
		cmd.Dir = pkgDir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return errors.New("go build " + pkgDir + ": " + err.Error() + "\n" + string(out))
		}
		return nil
	}
	pkg := filepath.Join(dir, "src")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(pkg, "go.mod"), []byte("module armtest\n\ngo 1.21\n"), 0o644); err != nil {
		return err
	}
	changed := strings.Replace(armProgram, "func main() {\n", "func main() {\n\tif len(os.Args) > 99 { println(\"one line changed\") }\n", 1)
	// The same package edited in place, as a developer does.
	for i, src := range []string{armProgram, changed} {
		if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(src), 0o644); err != nil {
			return err
		}
		if err := goBuild(filepath.Join(dir, "app"+strconv.Itoa(i+1)), pkg); err != nil {
			return err
		}
	}
	b.v1, b.v2 = filepath.Join(dir, "app1"), filepath.Join(dir, "app2")
	b.helper = filepath.Join(dir, "helper")
	return goBuild(b.helper, "../internal/elfz/helper", "-trimpath", "-ldflags=-s -w")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if elfzBins.dir != "" {
		os.RemoveAll(elfzBins.dir)
	}
	os.Exit(code)
}

// helperFile serves path as the delta helper.
func helperFile(path string) func(context.Context, targets.Target) (File, error) {
	return func(context.Context, targets.Target) (File, error) { return artifact.Resolve(File{Path: path}) }
}

func TestSSHELFZDeltaRedeploy(t *testing.T) {
	requireTool(t, "zstd")
	v1, v2, helper := buildELFZ(t)
	td := testdevice.Start(t)
	o, sent := deltaOpts(t)
	o.ELFZHelper = helperFile(helper)
	dev := openT(t, td.Target, o)
	size := fileSize(t, v2)

	if _, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil); err != nil {
		t.Fatal(err)
	}
	// The first delta also installs the helper.
	inst, err := dev.Deploy(context.Background(), File{Path: v2}, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !inst.Delta || inst.DeltaKind != DeltaELFZ || inst.NoDelta != "" {
		t.Fatalf("redeploy: delta %v kind %q note %q", inst.Delta, inst.DeltaKind, inst.NoDelta)
	}
	if got := devSHA(t, dev, inst.Path); got != sha(t, v2) {
		t.Fatalf("device has %s, want %s", got, sha(t, v2))
	}
	if got := devSHA(t, dev, td.Target.DeployDir+"/"+elfzName); got != sha(t, helper) {
		t.Fatalf("helper on the device has sha256 %s", got)
	}
	// The change back, with the helper in place: everything on TCP, the
	// scripts and SSH framing included, is a small part of the binary.
	before := sent.Load()
	back, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	onTCP := sent.Load() - before
	t.Logf("binary %d bytes: elfz deltas %d and %d bytes, %d bytes on TCP", size, inst.WireBytes, back.WireBytes, onTCP)
	if !back.Delta || back.DeltaKind != DeltaELFZ || devSHA(t, dev, back.Path) != sha(t, v1) {
		t.Fatalf("change back: delta %v kind %q note %q", back.Delta, back.DeltaKind, back.NoDelta)
	}
	if inst.WireBytes > size*15/100 || onTCP > size*15/100 {
		t.Errorf("%d and %d bytes for a one-line change of a %d-byte binary (want ≤ 15%%)", inst.WireBytes, onTCP, size)
	}
	noTempLeft(t, td.Target.DeployDir)
	// The expanded form of what is installed is kept for the next delta,
	// and only that one.
	kept, _ := filepath.Glob(filepath.Join(td.Target.DeployDir, ".app.elfz-*"))
	if len(kept) != 1 || filepath.Base(kept[0]) != install.ELFZBase("app", sha(t, v1)) {
		t.Fatalf("kept bases %v", kept)
	}
	// A kept base that went bad costs a delta, not the binary.
	writeFile(t, kept[0], "damaged", 0o644)
	bad, err := dev.Deploy(context.Background(), File{Path: v2}, "app", nil)
	if err != nil || bad.Delta || !strings.Contains(bad.NoDelta, "elfz") || devSHA(t, dev, bad.Path) != sha(t, v2) {
		t.Fatalf("damaged base: delta %v note %q: %v", bad.Delta, bad.NoDelta, err)
	}
	// That whole upload kept no expanded form, and left none behind.
	if kept, _ := filepath.Glob(filepath.Join(td.Target.DeployDir, ".app.elfz-*")); len(kept) != 0 {
		t.Errorf("after a whole upload the device still keeps %v", kept)
	}

	// Without the helper the same change is a plain delta, and larger:
	// the compressed DWARF differs from the change on.
	o2, _ := deltaOpts(t)
	plain := openT(t, td.Target, o2)
	if _, err := plain.Deploy(context.Background(), File{Path: v2}, "plain", nil); err != nil {
		t.Fatal(err)
	}
	p, err := plain.Deploy(context.Background(), File{Path: v1}, "plain", nil)
	if err != nil || p.DeltaKind != DeltaPatch {
		t.Fatalf("plain delta: kind %q note %q: %v", p.DeltaKind, p.NoDelta, err)
	}
	if p.WireBytes <= back.WireBytes {
		t.Errorf("plain delta %d bytes, elfz %d: elfz gained nothing", p.WireBytes, back.WireBytes)
	}
}

// The device's side of an elfz delta starts before the delta is made,
// from sizes the binaries' headers give. A binary whose headers say
// otherwise (here .debug_info's compression header claims a byte more
// than it holds, which nothing but debuggers reads) gets a delta that
// does not fit that script: the early install is abandoned without
// touching the device, and the delta goes the ordinary way.
func TestSSHELFZEarlyInstallAbandoned(t *testing.T) {
	requireTool(t, "zstd")
	v1, v2, helper := buildELFZ(t)
	b, err := os.ReadFile(v2)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	info := f.Section(".debug_info")
	if info == nil || info.Flags&elf.SHF_COMPRESSED == 0 {
		t.Fatal("the test program has no compressed .debug_info")
	}
	at := info.Offset + 8 // Chdr64.Size
	binary.LittleEndian.PutUint64(b[at:], binary.LittleEndian.Uint64(b[at:])+1)
	lying := writeFile(t, filepath.Join(t.TempDir(), "app"), string(b), 0o755)
	claimed, err := codec.ExpandedSize(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if x, err := codec.Expand(b); err != nil || int64(len(x)) == claimed {
		t.Fatalf("the tampered header still tells the expanded size (%d): %v", claimed, err)
	}

	td := testdevice.Start(t)
	o, _ := deltaOpts(t)
	o.ELFZHelper = helperFile(helper)
	dev := openT(t, td.Target, o)
	for _, p := range []string{v1, lying, v1} {
		inst, err := dev.Deploy(context.Background(), File{Path: p}, "app", nil)
		if err != nil {
			t.Fatal(err)
		}
		if p != v1 && inst.DeltaKind != DeltaELFZ {
			t.Fatalf("%s: kind %q note %q", p, inst.DeltaKind, inst.NoDelta)
		}
		if got := devSHA(t, dev, inst.Path); got != sha(t, p) {
			t.Fatalf("device has %s, want %s", got, sha(t, p))
		}
		noTempLeft(t, td.Target.DeployDir)
	}
}

// A helper that fails on the device costs that deploy its delta, not its
// binary: the whole file follows, and later deltas on the connection are
// plain ones.
func TestSSHELFZBrokenHelperFallsBack(t *testing.T) {
	requireTool(t, "zstd")
	v1, v2, _ := buildELFZ(t)
	td := testdevice.Start(t)
	o, _ := deltaOpts(t)
	broken := writeFile(t, filepath.Join(t.TempDir(), "helper"), "#!/bin/sh\necho helper broken >&2\nexit 1\n", 0o755)
	o.ELFZHelper = helperFile(broken)
	tg := td.Target
	tg.Runner = "" // the script runs as it is
	dev := openT(t, tg, o)
	if _, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil); err != nil {
		t.Fatal(err)
	}
	inst, err := dev.Deploy(context.Background(), File{Path: v2}, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Delta || !strings.Contains(inst.NoDelta, "elfz") || !strings.Contains(inst.NoDelta, "helper broken") {
		t.Errorf("broken helper: delta %v, note %q", inst.Delta, inst.NoDelta)
	}
	if got := devSHA(t, dev, inst.Path); got != sha(t, v2) {
		t.Fatalf("device has %s, want %s", got, sha(t, v2))
	}
	again, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil)
	if err != nil || !again.Delta || again.DeltaKind != DeltaPatch || devSHA(t, dev, again.Path) != sha(t, v1) {
		t.Fatalf("next deploy: delta %v kind %q note %q: %v", again.Delta, again.DeltaKind, again.NoDelta, err)
	}
	noTempLeft(t, td.Target.DeployDir)
}

// Cancelling while the device rebuilds the binary leaves the old one, and
// the files of the delta (the expanded forms) go with the rest.
func TestSSHELFZCancelled(t *testing.T) {
	requireTool(t, "zstd")
	v1, v2, helper := buildELFZ(t)
	td := testdevice.Start(t)
	o, _ := deltaOpts(t)
	dir := t.TempDir()
	mark := filepath.Join(dir, "contracting")
	// The device is this machine: the wrapper runs the real helper, but
	// holds contract until the test lets it go.
	runner := strings.Join(append(quoteAll(strings.Fields(td.Target.Runner)), shell.Quote(helper)), " ")
	wrapper := writeFile(t, filepath.Join(dir, "helper"), "#!/bin/sh\nif [ \"$1\" = contract ] && [ -e "+shell.Quote(dir+"/hold")+" ]; then\n\ttouch "+shell.Quote(mark)+
		"\n\twhile [ -e "+shell.Quote(dir+"/hold")+" ]; do sleep 0.05; done\nfi\nexec "+runner+" \"$@\"\n", 0o755)
	o.ELFZHelper = helperFile(wrapper)
	tg := td.Target
	tg.Runner = ""
	dev := openT(t, tg, o)
	if _, err := dev.Deploy(context.Background(), File{Path: v1}, "app", nil); err != nil {
		t.Fatal(err)
	}
	// A first elfz delta through the wrapper works, and installs it.
	if inst, err := dev.Deploy(context.Background(), File{Path: v2}, "app", nil); err != nil || inst.DeltaKind != DeltaELFZ {
		t.Fatalf("through the wrapper: kind %q note %q: %v", inst.DeltaKind, inst.NoDelta, err)
	}
	writeFile(t, filepath.Join(dir, "hold"), "", 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := dev.Deploy(ctx, File{Path: v1}, "app", nil)
		errc <- err
	}()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(mark); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the device never started contracting")
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled elfz delta: %v", err)
	}
	os.Remove(filepath.Join(dir, "hold"))
	// The script sees its input end, fails, and removes its files.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if !tempLeft(td.Target.DeployDir) {
			break
		}
		if time.Now().After(deadline) {
			noTempLeft(t, td.Target.DeployDir)
			break
		}
	}
	if got := devSHA(t, dev, td.Target.DeployDir+"/app"); got != sha(t, v2) {
		t.Fatalf("the binary was replaced: %s", got)
	}
}

func quoteAll(words []string) []string {
	for i, w := range words {
		words[i] = shell.Quote(w)
	}
	return words
}

func tempLeft(dir string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), install.TmpMarker) {
			return true
		}
	}
	return false
}
