package lab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"armbench/internal/testenv"
)

// Needs stops t when this machine cannot build or boot the lab: a failure
// under CI=true, a skip elsewhere (see testenv). It also skips under
// -short outside CI: a boot takes half a minute and more.
func Needs(t testing.TB) {
	t.Helper()
	testenv.Slow(t, "boots ARM systems under qemu-system")
	for _, tool := range []struct{ name, pkg string }{
		{"qemu-system-aarch64", "qemu-system-arm"},
		{"qemu-system-arm", "qemu-system-arm"},
		{"qemu-img", "qemu-utils"},
		{"debootstrap", "debootstrap"},
		{"mkfs.ext4", "e2fsprogs"},
		{"ssh", "openssh-client"},
	} {
		if _, err := exec.LookPath(tool.name); err != nil {
			testenv.Missing(t, "%s is not installed (apt-get install %s)", tool.name, tool.pkg)
		}
	}
	for _, goarch := range []string{"arm64", "arm"} {
		if !testenv.Binfmt(goarch) {
			testenv.Missing(t, "binfmt_misc runs no %s binaries: the image recipe needs it (install qemu-user-static and register it)", goarch)
		}
	}
}

// buildImages builds (or finds cached) the images of arches, at the same
// time.
func buildImages(arches []string, log func(string)) ([]Image, error) {
	imgs := make([]Image, len(arches))
	errs := make([]error, len(arches))
	var wg sync.WaitGroup
	for i, arch := range arches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			imgs[i], errs[i] = BuildImage(ctx, arch, log)
		}()
	}
	wg.Wait()
	return imgs, errors.Join(errs...)
}

// bootAll boots a board of each image at the same time, each on a fresh
// overlay in a directory of its own, and says what failed.
func bootAll(t testing.TB, imgs []Image) ([]*Machine, string) {
	ms := make([]*Machine, len(imgs))
	errs := make([]error, len(imgs))
	var wg sync.WaitGroup
	for i, img := range imgs {
		dir, err := os.MkdirTemp("", "armbench-lab-"+img.Arch+"-")
		if err != nil {
			return nil, err.Error()
		}
		m, err := New(img, dir)
		if err != nil {
			return nil, err.Error()
		}
		ms[i] = m
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			start := time.Now()
			errs[i] = m.Boot(ctx)
			t.Logf("lab %s: booted in %v", img.Arch, time.Since(start).Round(time.Second))
		}()
	}
	wg.Wait()
	var msg []string
	for _, err := range errs {
		if err != nil {
			msg = append(msg, err.Error())
		}
	}
	return ms, strings.Join(msg, "\n")
}

// Shared is a set of booted boards that several tests of a package use,
// since a boot of an emulated board costs a minute and more: the first
// test to ask builds the images and boots them, and the package's
// TestMain powers them off with Close. Each test leaves them booted.
type Shared struct {
	once     sync.Once
	machines []*Machine
	err      string
	skipped  bool
}

// Boards returns the shared boards, booting them on first use; t stops
// (see Needs) when the machine cannot run the lab.
func (s *Shared) Boards(t *testing.T) []*Machine {
	t.Helper()
	Needs(t)
	s.once.Do(func() {
		imgs, err := buildImages(Arches(), func(line string) { t.Log(line) })
		if err != nil {
			s.err = err.Error()
			return
		}
		s.machines, s.err = bootAll(t, imgs)
	})
	if s.err != "" {
		t.Fatal(s.err)
	}
	return s.machines
}

// Close powers the boards off.
func (s *Shared) Close() {
	var wg sync.WaitGroup
	for _, m := range s.machines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Shutdown(context.Background())
			os.RemoveAll(m.Dir)
		}()
	}
	wg.Wait()
}
