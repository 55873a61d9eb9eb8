package detect

import (
	"strings"
	"testing"
)

func TestTargetFor(t *testing.T) {
	tests := []struct {
		spec, user, host string
		port             int
		err              string
	}{
		{spec: "raspberrypi.local", host: "raspberrypi.local"},
		{spec: "pi@raspberrypi.local", user: "pi", host: "raspberrypi.local"},
		{spec: "pi@10.0.0.7:2222", user: "pi", host: "10.0.0.7", port: 2222},
		{spec: "[::1]:2222", host: "::1", port: 2222},
		{spec: "me@[fe80::1%eth0]", user: "me", host: "fe80::1%eth0"},
		{spec: "fe80::1", host: "fe80::1"},
		{spec: "pi4", host: "pi4"},
		{spec: "a@b@host", user: "a@b", host: "host", err: "not a login name"},
		{spec: "", err: "no host"},
		{spec: "pi@", err: "no host"},
		{spec: "@host", err: "empty user"},
		{spec: "host:0", err: "port"},
		{spec: "host:", err: "port"},
		{spec: "host:ssh", err: "port"},
		{spec: "[::1", err: "missing ]"},
		{spec: "[::1]2222", err: "expected :PORT"},
		{spec: "-oProxyCommand=x", err: "not a host name"},
		{spec: "h;rm -rf", err: "not a host name"},
		{spec: "[:]", err: "not an IPv6 address"},
		{spec: "a:b:c", err: "not an IPv6 address"},
		{spec: "::", host: "::"},
	}
	for _, tt := range tests {
		got, err := TargetFor(tt.spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("TargetFor(%q) err = %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("TargetFor(%q): %v", tt.spec, err)
			continue
		}
		if got.User != tt.user || got.Host != tt.host || got.Port != tt.port {
			t.Errorf("TargetFor(%q) = %q %q %d, want %q %q %d", tt.spec, got.User, got.Host, got.Port, tt.user, tt.host, tt.port)
		}
		if a := addr(got); !strings.Contains(a, tt.host) {
			t.Errorf("addr = %q", a)
		}
	}
}
