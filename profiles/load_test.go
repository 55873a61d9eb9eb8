package profiles

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"armbench/targets"
)

const oneTarget = "[[target]]\nname = \"t\"\nhost = \"local\"\ngoarch = \"arm64\"\n"

func parse(t *testing.T, src string) *targets.Config {
	t.Helper()
	cfg, err := targets.Parse("p.toml", []byte(oneTarget+src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestBuiltins(t *testing.T) {
	ps, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"default", "debug", "release", "speed", "lowmem", "single-core", "cgo-static"}
	if got := Names(ps); !slices.Equal(got, want) {
		t.Fatalf("built-ins = %v, want %v", got, want)
	}
	for _, p := range ps {
		if !p.Builtin || p.Description == "" || strings.Contains(p.Description, "\n") {
			t.Errorf("%s: builtin %v description %q", p.Name, p.Builtin, p.Description)
		}
	}
	release := mustFind(t, ps, "release")
	if release.Build.CGO || !release.Build.Trimpath || release.Build.Ldflags != "-s -w" {
		t.Errorf("release = %+v", release.Build)
	}
	speed := mustFind(t, ps, "speed")
	if speed.Build.PGO != "auto" || speed.Run.GOGC != "200" || !speed.Build.Trimpath || speed.Build.Ldflags != "-s -w" {
		t.Errorf("speed = %+v", speed)
	}
	lowmem := mustFind(t, ps, "lowmem")
	if lowmem.Run.GOGC != "50" || lowmem.Run.GOMEMLIMIT != "auto" || !lowmem.Build.Trimpath {
		t.Errorf("lowmem = %+v", lowmem)
	}
	if sc := mustFind(t, ps, "single-core"); sc.Run.GOMAXPROCS != 1 {
		t.Errorf("single-core = %+v", sc)
	}
	if d := mustFind(t, ps, "debug"); d.Build.Gcflags != "all=-N -l" {
		t.Errorf("debug = %+v", d)
	}
	cs := mustFind(t, ps, "cgo-static")
	if !cs.Build.CGO || !cs.Build.Static || !slices.Equal(cs.Build.Env, []EnvVar{{"CGO_CFLAGS", "-O2"}}) {
		t.Errorf("cgo-static = %+v", cs)
	}
	// Builtins returns fresh values: changing one must not leak.
	ps[2].Build.Ldflags = "changed"
	if again, _ := Load(nil); mustFind(t, again, "release").Build.Ldflags != "-s -w" {
		t.Error("built-ins share state between calls")
	}
}

func TestLoadExtends(t *testing.T) {
	cfg := parse(t, `
[[profile]]
name = "tuned"
extends = "lean"
run.gomaxprocs = 2
build.env.CGO_CFLAGS = "-O3"

[[profile]]
name = "lean"
description = "release, lazier GC"
extends = "release"
[profile.build]
ldflags = "-s -w -X main.v=1"
tags = ["netgo"]
env = { GOAMD64 = "v1", CGO_CFLAGS = "-O1" }
[profile.run]
gogc = "400"
env = { A = "1" }

[[profile]]
name = "fresh"
build.cgo = true
`)
	ps, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := Names(ps)[7:]; !slices.Equal(got, []string{"tuned", "lean", "fresh"}) {
		t.Fatalf("user profiles = %v (file order expected)", got)
	}
	lean := mustFind(t, ps, "lean")
	if lean.Builtin || lean.Extends != "release" || lean.Description != "release, lazier GC" ||
		!lean.Build.Trimpath || lean.Build.Ldflags != "-s -w -X main.v=1" || lean.Run.GOGC != "400" ||
		!slices.Equal(lean.Build.Tags, []string{"netgo"}) {
		t.Errorf("lean = %+v", lean)
	}
	tuned := mustFind(t, ps, "tuned")
	if tuned.Run.GOMAXPROCS != 2 || tuned.Run.GOGC != "400" || tuned.Build.Ldflags != "-s -w -X main.v=1" || !tuned.Build.Trimpath {
		t.Errorf("tuned = %+v", tuned)
	}
	if want := []EnvVar{{"CGO_CFLAGS", "-O3"}, {"GOAMD64", "v1"}}; !slices.Equal(tuned.Build.Env, want) {
		t.Errorf("tuned env = %v, want %v (merged, child wins, sorted)", tuned.Build.Env, want)
	}
	if !strings.Contains(tuned.Description, "lean") {
		t.Errorf("default description %q does not name the parent", tuned.Description)
	}
	fresh := mustFind(t, ps, "fresh")
	if !fresh.Build.CGO || fresh.Build.Trimpath || fresh.Build.Ldflags != "" {
		t.Errorf("fresh (no extends = on top of default) = %+v", fresh)
	}
}

func TestLoadErrors(t *testing.T) {
	cfg := parse(t, `
[[profile]]
name = "a"
extends = "b"

[[profile]]
name = "b"
extends = "a"

[[profile]]
name = "c"
extends = "relase"

[[profile]]
name = "release"

[[profile]]
name = "self"
extends = "self"

[[profile]]
name = "downstream"
extends = "a"
`)
	_, err := Load(cfg)
	var l targets.ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error %T %v, want targets.ErrorList", err, err)
	}
	want := []string{
		`p.toml:12:11: extends: cycle: a → b → a`,
		`p.toml:16:11: extends: unknown profile "relase" (did you mean "release"?); known profiles: default, debug`,
		`p.toml:19:8: name: "release" is a built-in profile; choose another name and write extends = "release"`,
		`p.toml:23:11: extends: cycle: self → self`,
	}
	if len(l) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(l), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(l[i].Error(), w) {
			t.Errorf("error %d = %q\nwant prefix %q", i, l[i].Error(), w)
		}
	}
}

func TestFind(t *testing.T) {
	ps, _ := Load(nil)
	if p, ok := Find(ps, "lowmem"); !ok || p.Name != "lowmem" {
		t.Errorf("Find lowmem = %v %v", p.Name, ok)
	}
	if _, ok := Find(ps, "nope"); ok {
		t.Error("found a profile that does not exist")
	}
}
