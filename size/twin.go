package size

import (
	"strings"

	"armbench/profiles"
)

// TwinProfile is p without the linker's -s and -w, so that a build of it
// keeps the symbol table a stripped build of p lacks; everything else
// that shapes code and data stays. ok is false when p strips nothing.
func TwinProfile(p profiles.Profile) (twin profiles.Profile, ok bool) {
	var kept []string
	for _, f := range strings.Fields(p.Build.Ldflags) {
		if f == "-s" || f == "-w" || f == "-s=true" || f == "-w=true" {
			ok = true
			continue
		}
		kept = append(kept, f)
	}
	if !ok {
		return p, false
	}
	twin = p
	twin.Name = p.Name + ".unstripped"
	twin.Build.Ldflags = strings.Join(kept, " ")
	return twin, true
}
