package detect

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"armbench/internal/testenv"
	"armbench/remote"
)

// shDevice runs Exec snippets with the local /bin/sh: the probe script is
// real shell, and this checks it against a real shell and real /proc, the
// part of detection that recorded boards cannot cover.
type shDevice struct {
	remote.Device // only Exec is used
	env           []string
}

func (d shDevice) Exec(ctx context.Context, script string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Env = d.env
	return cmd.Output()
}

func TestGatherLocalShell(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Missing(t, "the probe reads /proc: Linux only")
	}
	f, err := Gather(context.Background(), shDevice{env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); f.Machine != want || f.OS != "Linux" || f.Kernel == "" {
		t.Errorf("uname: got %q %q %q, want machine %q", f.OS, f.Kernel, f.Machine, want)
	}
	if f.NProc < 1 || f.MemTotal < 1<<20 || len(f.CPUInfo.Processors) < 1 {
		t.Errorf("facts = nproc %d, memtotal %d, %d processors", f.NProc, f.MemTotal, len(f.CPUInfo.Processors))
	}
	wantBits := 64
	if strings.HasSuffix(runtime.GOARCH, "32") || runtime.GOARCH == "386" || runtime.GOARCH == "arm" {
		wantBits = 32
	}
	if f.ELFClass != wantBits {
		t.Errorf("ELF class of /bin/sh = %d, want %d", f.ELFClass, wantBits)
	}
}

// A device without dpkg, getconf, nproc and od: the probe must still
// finish and report what it could.
func TestGatherMissingTools(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Missing(t, "the probe reads /proc: Linux only")
	}
	bin := t.TempDir()
	for _, tool := range []string{"sh", "uname", "cat", "tr", "head", "printf"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			continue // a shell builtin (printf) needs no link
		}
		if err := os.Symlink(p, bin+"/"+tool); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Gather(context.Background(), shDevice{env: []string{"PATH=" + bin}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine == "" || f.DpkgArch != "" || f.LongBit != 0 || f.NProc != 0 {
		t.Errorf("facts = %+v", f)
	}
	if f.ELFClass == 0 {
		t.Errorf("ELF class not read through the head -c fallback")
	}
}
