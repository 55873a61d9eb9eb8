package lab

import (
	"context"
	"os/exec"
	"path/filepath"
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

// Images builds (or finds cached) the images of arches, at the same time.
func Images(t testing.TB, arches ...string) []Image {
	t.Helper()
	imgs := make([]Image, len(arches))
	errs := make([]error, len(arches))
	var wg sync.WaitGroup
	for i, arch := range arches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			imgs[i], errs[i] = BuildImage(ctx, arch, func(line string) { t.Log(line) })
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return imgs
}

// BootAll boots a board of each image at the same time, each on a fresh
// overlay in a temporary directory, and powers them off when t ends.
func BootAll(t testing.TB, imgs ...Image) []*Machine {
	t.Helper()
	ms := make([]*Machine, len(imgs))
	errs := make([]error, len(imgs))
	var wg sync.WaitGroup
	for i, img := range imgs {
		m, err := New(img, filepath.Join(t.TempDir(), img.Arch))
		if err != nil {
			t.Fatal(err)
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
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, m := range ms {
			wg.Add(1)
			go func() { defer wg.Done(); m.Shutdown(context.Background()) }()
		}
		wg.Wait()
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ms
}
