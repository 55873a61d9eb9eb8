package targets

import (
	"strings"
	"testing"
)

func TestServiceKey(t *testing.T) {
	cfg := mustParse(t, "t.toml", []byte(`
[[target]]
name = "a"
host = "pi.local"
goarch = "arm64"
service = true

[[target]]
name = "b"
host = "pi.local"
goarch = "arm64"
[target.service]
unit = "my-app.service"
scope = "system"

[[target]]
name = "c"
host = "pi.local"
goarch = "arm64"
service = false
`))
	a, _ := cfg.Lookup("a")
	b, _ := cfg.Lookup("b")
	c, _ := cfg.Lookup("c")
	if a.Service == nil || *a.Service != (Service{Scope: ServiceUser}) {
		t.Errorf("service = true: %+v", a.Service)
	}
	if b.Service == nil || *b.Service != (Service{Unit: "my-app", Scope: ServiceSystem}) {
		t.Errorf("[target.service]: %+v", b.Service)
	}
	if c.Service != nil {
		t.Errorf("service = false: %+v", c.Service)
	}
}

func TestServiceKeyErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"host = 'local'\nservice = true", "5:1: service: needs a device with systemd"},
		{"host = 'h'\nrunner = 'qemu-aarch64'\nservice = true", `6:1: service: runs the program under the device's systemd, which cannot use runner "qemu-aarch64"`},
		{"host = 'h'\nservice = 'yes'", `5:11: service: must be true or a table`},
		{"host = 'h'\n[target.service]\nscope = 'root'", `6:9: service.scope: "root" is not a scope`},
		{"host = 'h'\n[target.service]\nunit = 'a b'", `6:8: service.unit: "a b" is not a unit name`},
		{"host = 'h'\n[target.service]\nunits = 'a'", `6:1: units: unknown key in [target.service] (did you mean "unit"?)`},
	} {
		_, err := Parse("t.toml", []byte("[[target]]\nname = 'a'\ngoarch = 'arm64'\n"+tc.src+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v\nwant %s", tc.src, err, tc.want)
		}
	}
}
