package sweep

import (
	"slices"
	"testing"

	"armbench/profiles"
)

// FuzzParseKnob: any --knob text parses or fails without panicking; a
// parsed knob has a name and distinct values in canonical form (parsing
// a value again gives it back), and the variants it makes have distinct,
// file-safe names. Seeds are in testdata/fuzz/FuzzParseKnob.
func FuzzParseKnob(f *testing.F) {
	f.Add("GOGC=25,100,400")
	f.Fuzz(func(t *testing.T, spec string) {
		k, err := ParseKnob(spec)
		if err != nil {
			return
		}
		if k.Name == "" || len(k.Values) == 0 {
			t.Fatalf("%q: knob %+v", spec, k)
		}
		seen := map[string]bool{}
		for _, v := range k.Values {
			if seen[v] {
				t.Fatalf("%q: value %q twice", spec, v)
			}
			seen[v] = true
			again, err := k.canonical(v)
			if err != nil || again != v {
				t.Fatalf("%q: canonical %q is not canonical: %q, %v", spec, v, again, err)
			}
		}
		tg := testTarget
		if k.kind == kGOARM {
			tg.GOARCH, tg.GOARM64 = "arm", ""
		}
		s, err := New(Spec{Target: tg, Profile: profiles.Builtins()[2], Knobs: []Knob{k}})
		if err != nil {
			return
		}
		var names []string
		for _, v := range s.Variants {
			if slices.Contains(names, v.Name) {
				t.Fatalf("%q: variant name %q twice", spec, v.Name)
			}
			names = append(names, v.Name)
			if slug(v.Name, len(v.Name)+1) != v.Name {
				t.Fatalf("%q: variant name %q is not file-safe", spec, v.Name)
			}
		}
		if _, err := s.Plans(); err != nil && !k.Build() {
			t.Fatalf("%q: a runtime knob's plans fail: %v", spec, err)
		}
	})
}
