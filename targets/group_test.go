package targets

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGroupsAndHealth(t *testing.T) {
	cfg := mustParse(t, "g.toml", readTestdata(t, "valid_groups.toml"))
	if len(cfg.Groups) != 2 {
		t.Fatalf("groups %+v", cfg.Groups)
	}
	edge, lab := cfg.Groups[0], cfg.Groups[1]
	// The [[group]] list comes first, then targets joining by their
	// groups key, in file order, without repeats.
	if edge.Name != "edge" || !edge.Declared || edge.Description != "the shop floor" || !slices.Equal(edge.Targets, []string{"pi-c", "pi-a", "pi-b"}) || edge.Pos.Line != 27 {
		t.Errorf("edge = %+v", edge)
	}
	if lab.Name != "lab" || lab.Declared || !slices.Equal(lab.Targets, []string{"pi-b"}) || lab.Pos.String() != "g.toml:16:10" {
		t.Errorf("lab = %+v", lab)
	}
	ts, group, ok := cfg.Resolve("edge")
	if !ok || group != "edge" || len(ts) != 3 || ts[0].Name != "pi-c" || ts[2].Name != "pi-b" {
		t.Errorf("Resolve(edge) = %v %q %v", ts, group, ok)
	}
	if ts, group, ok := cfg.Resolve("pi-a"); !ok || group != "" || len(ts) != 1 || ts[0].Name != "pi-a" {
		t.Errorf("Resolve(pi-a) = %v %q %v", ts, group, ok)
	}
	if _, _, ok := cfg.Resolve("nope"); ok {
		t.Error("Resolve(nope) found something")
	}

	a, _ := cfg.Lookup("pi-a")
	b, _ := cfg.Lookup("pi-b")
	if a.Health == nil || a.Health.Command != "systemctl is-active --quiet myapp" || a.Health.Timeout != DefaultHealthTimeout ||
		a.Health.Retries != DefaultHealthRetries || a.Health.Interval != DefaultHealthInterval {
		t.Errorf("health from [defaults] = %+v", a.Health)
	}
	want := Health{URL: "http://localhost:8080/healthz", Timeout: 2 * time.Second, Retries: 0, Interval: 250 * time.Millisecond}
	if h := b.Health; h == nil || h.URL != want.URL || h.Command != "" || h.Timeout != want.Timeout || h.Retries != 0 || h.Interval != want.Interval || h.Attempts() != 1 {
		t.Errorf("[target.health] = %+v", b.Health)
	}
	p := cfg.Profiles[0]
	if p.Health == nil || p.Health.Command != `"$ARMBENCH_BINARY" -selftest` || p.Health.Timeout != 30*time.Second {
		t.Errorf("[profile.health] = %+v", p.Health)
	}
}

func TestGroupErrors(t *testing.T) {
	_, err := Parse("g.toml", readTestdata(t, "invalid_groups.toml"))
	l := errorList(t, err)
	var got []string
	for _, e := range l {
		got = append(got, e.Error())
	}
	want := []string{
		`g.toml:5:11: groups: group "edg" is named only here (did you mean "edge"?)`,
		`g.toml:5:18: groups: "pi-b" is a target, not a group`,
		`g.toml:11:9: health: has both command and url`,
		`g.toml:14:11: health.timeout: "soon" is not a duration`,
		`g.toml:18:20: targets: unknown target "pi-bb" (did you mean "pi-b"?); targets: pi-a, pi-b`,
		`g.toml:18:29: targets: must be an array of target names, element 3 is integer 3`,
		`g.toml:19:1: members: unknown key in [[group]]; allowed: name, description, targets`,
		`g.toml:22:8: name: duplicate group name "edge" (first defined at line 16)`,
		`g.toml:26:8: name: "pi-a" is already a target`,
		`g.toml:29:1: group: "lonely" has no targets`,
	}
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
}

func TestHealthErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"health = true", "5:10: health: must be a table"},
		{"[target.health]\ntimeout = '1s'", "5:9: health: needs command"},
		{"[target.health]\nurl = 'ftp://x/'", `6:7: health.url: "ftp://x/" must start with http://`},
		{"[target.health]\nurl = 'http:///x'", `6:7: health.url: "http:///x" has no host`},
		{"[target.health]\ncommand = ' '", `6:11: health.command: must be a shell command`},
		{"[target.health]\ncommand = 'true'\nretries = -1", `7:11: health.retries: -1 is out of range`},
		{"[target.health]\ncommand = 'true'\ninterval = '2h'", `7:12: health.interval: 2h is out of range`},
		{"[target.health]\ncommand = 'true'\ntimeout = 5", `7:11: health.timeout: must be a duration such as "5s"`},
		{"[target.health]\ncommand = 'true'\nretires = 1", `7:1: retires: unknown key in [target.health] (did you mean "retries"?)`},
	} {
		_, err := Parse("t.toml", []byte("[[target]]\nname = 'a'\ngoarch = 'arm64'\nhost = 'h'\n"+tc.src+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v\nwant %s", tc.src, err, tc.want)
		}
	}
	_, err := Parse("t.toml", []byte("[[target]]\nname = 'a'\ngoarch = 'arm64'\nhost = 'h'\n[[profile]]\nname = 'p'\n[profile.health]\nurl = 'http://x'\nwait = '1s'\n"))
	if err == nil || !strings.Contains(err.Error(), "t.toml:9:1: wait: unknown key in [profile.health]") {
		t.Errorf("profile health: %v", err)
	}
}
