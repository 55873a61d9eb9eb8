package image

import (
	"strings"
	"testing"

	"armbench/profiles"
	"armbench/targets"
)

func TestCheckRefusesWhatCannotBeOneIndex(t *testing.T) {
	arm7b := board{target: targets.Target{Name: "pi2", GOARCH: "arm", GOARM: "7,hardfloat"}}
	v82 := board{target: targets.Target{Name: "pi5", GOARCH: "arm64", GOARM64: "v8.2"}}
	bsd := board{target: targets.Target{Name: "bsd", GOOS: "freebsd", GOARCH: "arm64"}}
	dir := t.TempDir()
	testPlans := plansFor(t, dir, boards[:1], edge)
	testPlans[0].Mode = profiles.ModeTest
	cgo := edge
	cgo.Build.CGO = true
	twoProfiles := append(plansFor(t, dir, boards[:1], edge), plansFor(t, dir, boards[1:2], cgoStatic())...)
	cases := []struct {
		name  string
		plans []profiles.Plan
		want  string
	}{
		{"none", nil, "no targets"},
		{"same arm level", plansFor(t, dir, []board{boards[1], arm7b}, edge), "targets pi3 and pi2 are both linux/arm/v7"},
		{"same arm64", plansFor(t, dir, []board{boards[2], v82}, edge), "targets pi4 and pi5 are both linux/arm64"},
		{"not linux", plansFor(t, dir, []board{bsd}, edge), "GOOS=freebsd"},
		{"test binary", testPlans, "test binary"},
		{"dynamic cgo", plansFor(t, dir, boards[:1], cgo), "links cgo dynamically"},
		{"two profiles", twoProfiles, "one profile per image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.plans)
			if !IsPlanError(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a plan error saying %q", err, tc.want)
			}
		})
	}
	got, err := Check(plansFor(t, dir, boards, edge))
	if err != nil || strings.Join(got, " ") != "linux/arm/v6 linux/arm/v7 linux/arm64" {
		t.Errorf("three boards: %v %v", got, err)
	}
}

func cgoStatic() profiles.Profile {
	for _, p := range profiles.Builtins() {
		if p.Name == "cgo-static" {
			return p
		}
	}
	panic("no cgo-static profile")
}
