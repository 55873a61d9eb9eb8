package sweep

import (
	"slices"
	"strings"
	"testing"

	"armbench/profiles"
	"armbench/targets"
)

func TestParseKnob(t *testing.T) {
	for _, tc := range []struct {
		in     string
		name   string
		values []string
		build  bool
	}{
		{"GOGC=25,100,400", "GOGC", []string{"25", "100", "400"}, false},
		{"gogc=OFF, 0200", "GOGC", []string{"off", "200"}, false},
		{"GOMAXPROCS=1,2,unset", "GOMAXPROCS", []string{"1", "2", "unset"}, false},
		{"GOMEMLIMIT=off,256MiB,auto", "GOMEMLIMIT", []string{"off", "256MiB", "auto"}, false},
		{"GODEBUG:madvdontneed=0,1", "GODEBUG:madvdontneed", []string{"0", "1"}, false},
		{"env:MY_VAR=a,\"b,c\",\"\"", "env:MY_VAR", []string{"a", "b,c", ""}, false},
		{"goarm64=v8.0,v8.2+lse,\"v9.0,crypto\"", "goarm64", []string{"v8.0", "v8.2,lse", "v9.0,crypto"}, true},
		{"goarm=6,7", "goarm", []string{"6", "7"}, true},
		{"gcflags=none,\"all=-N -l\",-l", "gcflags", []string{"none", "all=-N -l", "-l"}, true},
		{"pgo=on,off", "pgo", []string{"on", "off"}, true},
		{"tags=none,osusergo+netgo", "tags", []string{"none", "netgo+osusergo"}, true},
	} {
		k, err := ParseKnob(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if k.Name != tc.name || !slices.Equal(k.Values, tc.values) || k.Build() != tc.build {
			t.Errorf("%s: got %s %q build=%v, want %s %q build=%v", tc.in, k.Name, k.Values, k.Build(), tc.name, tc.values, tc.build)
		}
	}
}

func TestParseKnobErrorsNameKnobAndValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GOGC", "NAME=V1,V2"},
		{"GOGC=", "no values"},
		{"GOGC=25,lots", `knob GOGC: value "lots"`},
		{"GOGC=25,25", `"25" is listed twice`},
		{"GOGC=25,,100", "empty value"},
		{"GOCG=25", `unknown knob "GOCG" (did you mean GOGC?)`},
		{"MYVAR=1", "env:MYVAR"},
		{"GODEBUG=x", "GODEBUG:madvdontneed"},
		{"GODEBUG:a-b=1", "not a GODEBUG setting name"},
		{"GODEBUG:x=a b", `knob GODEBUG:x: value "a b"`},
		{"env:GOGC=1", "--knob GOGC"},
		{"env:1A=1", "not an environment variable name"},
		{"GOMAXPROCS=0", `knob GOMAXPROCS: value "0"`},
		{"goarm64=v7.0", `knob goarm64: value "v7.0"`},
		{"pgo=maybe", `knob pgo: value "maybe"`},
		{"tags=a b", `knob tags: value "a b"`},
		{`gcflags="-m,-l`, "not closed"},
		{`gcflags="-m"x`, "separate values with commas"},
		{`gcflags=a"b`, "a quote must open"},
		{"gcflags=-gcflags=-l", "flags' value only"},
	} {
		_, err := ParseKnob(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

var testTarget = targets.Target{Name: "board", Host: "local", GOARCH: "arm64", GOARM64: "v8.0"}

func mustKnob(t *testing.T, s string) Knob {
	t.Helper()
	k, err := ParseKnob(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func builtin(t *testing.T, name string) profiles.Profile {
	t.Helper()
	p, ok := profiles.Find(profiles.Builtins(), name)
	if !ok {
		t.Fatalf("no built-in %s", name)
	}
	return p
}

func TestNewListedBaseKeepsOrder(t *testing.T) {
	s, err := New(Spec{Target: testTarget, Profile: builtin(t, "release"), Knobs: []Knob{mustKnob(t, "GOGC=25,100,400")}})
	if err != nil {
		t.Fatal(err)
	}
	var labels, names []string
	for _, v := range s.Variants {
		labels = append(labels, Label(s.Spec.Knobs, v.Values))
		names = append(names, v.Name)
	}
	if !slices.Equal(labels, []string{"GOGC=25", "GOGC=100", "GOGC=400"}) || s.Base != 1 {
		t.Fatalf("variants %q base %d", labels, s.Base)
	}
	if !slices.Equal(names, []string{"release.gogc-25", "release", "release.gogc-400"}) {
		t.Errorf("names %q", names)
	}
	if got := s.runOrder(); !slices.Equal(got, []int{1, 0, 2}) {
		t.Errorf("run order %v: the base runs first", got)
	}
	if s.Variants[0].Profile.Run.GOGC != "25" || s.Variants[1].Profile.Run.GOGC != "" || s.Variants[2].Profile.Run.GOGC != "400" {
		t.Errorf("GOGC of the variants: %q %q %q", s.Variants[0].Profile.Run.GOGC, s.Variants[1].Profile.Run.GOGC, s.Variants[2].Profile.Run.GOGC)
	}
	if len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "runtime's default, 100") {
		t.Errorf("notes %q", s.Notes)
	}
	plans, err := s.Plans()
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 3 || plans[0].Profile.Name != "release" || !slices.Contains(plans[2].RunEnvStrings(), "GOGC=400") {
		t.Errorf("plans %v", plans)
	}
}

func TestNewAddsTheBaseAndMakesAGrid(t *testing.T) {
	lowmem := builtin(t, "lowmem") // GOGC=50
	s, err := New(Spec{Target: testTarget, Profile: lowmem, Knobs: []Knob{mustKnob(t, "GOGC=25,100"), mustKnob(t, "goarm64=v8.0,v8.2")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Variants) != 5 || s.Base != 0 || !s.Variants[0].Added || !slices.Equal(s.Variants[0].Values, []string{"50", "v8.0"}) {
		t.Fatalf("variants %+v base %d", s.Variants, s.Base)
	}
	want := [][]string{{"50", "v8.0"}, {"25", "v8.0"}, {"25", "v8.2"}, {"100", "v8.0"}, {"100", "v8.2"}}
	for i, v := range s.Variants {
		if !slices.Equal(v.Values, want[i]) {
			t.Errorf("variant %d: %q, want %q", i, v.Values, want[i])
		}
	}
	if v := s.Variants[2]; v.Target.GOARM64 != "v8.2" || v.Profile.Run.GOGC != "25" || testTarget.GOARM64 != "v8.0" {
		t.Errorf("variant 2: target %s GOGC %s", v.Target.GOARM64, v.Profile.Run.GOGC)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "GOGC=50 goarm64=v8.0 (lowmem's own) was not listed") {
		t.Errorf("notes %q", s.Notes)
	}
	plans, err := s.Plans()
	if err != nil {
		t.Fatal(err)
	}
	if plans[2].Expect["GOARM64"] != "v8.2" || plans[2].Target.Name != "board" {
		t.Errorf("plan of 25/v8.2: %v", plans[2].BuildEnv)
	}
}

func TestNewRefuses(t *testing.T) {
	armv7 := targets.Target{Name: "v7", GOARCH: "arm"}
	for _, tc := range []struct {
		t     targets.Target
		knobs []string
		want  string
	}{
		{testTarget, nil, "no knob"},
		{testTarget, []string{"GOGC=100"}, "list at least one other value"},
		{armv7, []string{"goarm64=v8.0"}, "goarm64 is for goarch arm64"},
		{testTarget, []string{"goarm=6"}, "goarm is for goarch arm"},
		{testTarget, []string{"GOGC=1,2", "GOGC=3"}, "given twice"},
		{testTarget, []string{"GOGC=1,2,3,4,5", "GOMAXPROCS=1,2,3,4,5"}, "at most 24"},
		{testTarget, []string{"GOGC=1", "GOMAXPROCS=1", "pgo=on"}, "two for a grid"},
	} {
		var ks []Knob
		for _, k := range tc.knobs {
			ks = append(ks, mustKnob(t, k))
		}
		_, err := New(Spec{Target: tc.t, Profile: builtin(t, "default"), Knobs: ks})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.knobs, err, tc.want)
		}
	}
}

func TestApplyKeepsTheRest(t *testing.T) {
	p := builtin(t, "release")
	p.Run.GODEBUG = "gctrace=0,madvdontneed=1"
	p.Run.Env = []profiles.EnvVar{{Key: "A", Value: "1"}, {Key: "Z", Value: "9"}}
	p.Build.Tags = []string{"netgo"}
	s, err := New(Spec{Target: testTarget, Profile: p, Knobs: []Knob{mustKnob(t, "GODEBUG:madvdontneed=0,1,unset")}})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{s.Variants[0].Profile.Run.GODEBUG, s.Variants[1].Profile.Run.GODEBUG, s.Variants[2].Profile.Run.GODEBUG}
	if s.Base != 1 || !slices.Equal(got, []string{"gctrace=0,madvdontneed=0", "gctrace=0,madvdontneed=1", "gctrace=0"}) {
		t.Errorf("base %d GODEBUG %q", s.Base, got)
	}
	s, err = New(Spec{Target: testTarget, Profile: p, Knobs: []Knob{mustKnob(t, "env:M=x,unset"), mustKnob(t, "tags=netgo,none")}})
	if err != nil {
		t.Fatal(err)
	}
	v := s.Variants[1] // M=x tags=none
	if s.Base != 2 || len(v.Profile.Run.Env) != 3 || v.Profile.Run.Env[1] != (profiles.EnvVar{Key: "M", Value: "x"}) || len(v.Profile.Build.Tags) != 0 {
		t.Errorf("base %d, variant %+v", s.Base, v.Profile)
	}
	if len(p.Run.Env) != 2 || len(p.Build.Tags) != 1 {
		t.Errorf("the swept profile was changed: %+v", p)
	}
}
