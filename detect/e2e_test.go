package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"armbench/internal/testdevice"
	"armbench/remote"
)

// harnessTarget is the provisional target `armbench detect` builds for the
// sshd harness, with the harness's key and known_hosts.
func harnessTarget(t *testing.T, d *testdevice.Device) (spec string, o remote.Options) {
	spec = fmt.Sprintf("%s@%s:%d", d.User, d.Host, d.Port)
	return spec, remote.Options{KnownHosts: d.KnownHosts, NoAgent: true, NoDefaultKeys: true, ConnectTimeout: 20 * time.Second}
}

// The sshd harness is this x86-64 machine: detection must say so plainly
// and invent no ARM target.
func TestDetectOverSSH(t *testing.T) {
	d := testdevice.Start(t)
	spec, o := harnessTarget(t, d)
	tg, err := TargetFor(spec)
	if err != nil {
		t.Fatal(err)
	}
	tg.Identity = d.KeyPath
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Probe(ctx, tg, o)
	if err != nil {
		t.Fatalf("Probe %s: %v\n%s", spec, err, d.Log())
	}
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	machine := strings.TrimSpace(string(out))
	switch machine {
	case "aarch64":
		// The harness on an ARM machine is an ARM device.
		if !r.OK() || r.Target.GOARCH == "" || r.Target.Host != d.Host || r.Target.Port != d.Port {
			t.Errorf("result on an aarch64 host: %+v", r)
		}
	default:
		var nae *NotARMError
		if !errors.As(r.Err, &nae) {
			t.Fatalf("Err = %v, want *NotARMError; target %+v", r.Err, r.Target)
		}
		want := machine + ": not an ARM device; armbench targets arm and arm64"
		if r.Err.Error() != want {
			t.Errorf("Err = %q, want %q", r.Err, want)
		}
		if r.Target.GOARCH != "" || r.Target.Host != "" || r.OK() {
			t.Errorf("a non-ARM device got a target: %+v", r.Target)
		}
		if len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0].Why, "the device reports "+machine+" (Linux ") {
			t.Errorf("reasons = %v", r.Reasons)
		}
	}
}

// An unknown host is refused with its fingerprint, exactly as for deploy.
func TestDetectUnknownHost(t *testing.T) {
	d := testdevice.Start(t)
	spec, o := harnessTarget(t, d)
	o.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(o.KnownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tg, _ := TargetFor(spec)
	tg.Identity = d.KeyPath
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Probe(ctx, tg, o)
	var unknown *remote.UnknownHostError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want *remote.UnknownHostError", err)
	}
	if !strings.HasPrefix(unknown.Fingerprint, "SHA256:") || !strings.Contains(err.Error(), spec) {
		t.Errorf("err = %v (fingerprint %q)", err, unknown.Fingerprint)
	}
}
