// Package live runs a deployed program under the probe and restarts it
// with another value of a runtime knob (GOGC, GOMAXPROCS, GOMEMLIMIT)
// whenever asked, over the device connection it was given: the engine
// behind turning a knob in front of an audience. It reports typed events
// and knows nothing of the TUI.
package live

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"armbench/targets"
)

// Knob is a runtime setting a live session can turn.
type Knob int

const (
	GOGC Knob = iota
	GOMAXPROCS
	GOMEMLIMIT
	knobCount
)

// Knobs are the knobs in the order a user cycles through them.
var Knobs = []Knob{GOGC, GOMAXPROCS, GOMEMLIMIT}

func (k Knob) String() string {
	switch k {
	case GOGC:
		return "GOGC"
	case GOMAXPROCS:
		return "GOMAXPROCS"
	case GOMEMLIMIT:
		return "GOMEMLIMIT"
	}
	return fmt.Sprintf("Knob(%d)", int(k))
}

// Off is the value of GOGC and GOMEMLIMIT that turns them off.
const Off = "off"

// gogcSteps are the values GOGC steps through, off last: the collector
// works less at each step up.
var gogcSteps = []string{"25", "50", "100", "200", "400", "800", Off}

const mib = 1 << 20

// Steps are the values k steps through on t, lowest first: GOMAXPROCS
// 1 … the device's cores (4 when unknown; this machine's for the local
// target); GOMEMLIMIT doubling from 16MiB
// up to the device's memory (4GiB when unknown), then off.
func Steps(k Knob, t targets.Target) []string {
	switch k {
	case GOGC:
		return slices.Clone(gogcSteps)
	case GOMAXPROCS:
		n := cores(t)
		if n <= 0 {
			n = 4
		}
		out := make([]string, n)
		for i := range out {
			out[i] = strconv.Itoa(i + 1)
		}
		return out
	case GOMEMLIMIT:
		top := t.Memory
		if top <= 0 {
			top = 4 << 30
		}
		var out []string
		for v := int64(16 * mib); v <= top; v *= 2 {
			out = append(out, targets.FormatMemory(v))
		}
		return append(out, Off)
	}
	return nil
}

// Default is what the Go runtime does for k when the environment does
// not set it.
func Default(k Knob, t targets.Target) string {
	switch k {
	case GOGC:
		return "100"
	case GOMAXPROCS:
		if n := cores(t); n > 0 {
			return strconv.Itoa(n)
		}
		return "auto"
	}
	return Off
}

// cores is the device's core count: targets.toml's, else this machine's
// for the local target, else 0 (unknown).
func cores(t targets.Target) int {
	switch {
	case t.Cores > 0:
		return t.Cores
	case t.IsLocal():
		return runtime.NumCPU()
	}
	return 0
}

// Step moves cur dir steps (+1 up, -1 down) along k's steps on t,
// stopping at the ends. A value between steps moves to the nearest step
// in that direction.
func Step(k Knob, t targets.Target, cur string, dir int) string {
	steps := Steps(k, t)
	if len(steps) == 0 || dir == 0 {
		return cur
	}
	if i := slices.Index(steps, cur); i >= 0 {
		return steps[min(max(i+dir, 0), len(steps)-1)]
	}
	v, ok := order(k, cur)
	if !ok {
		return steps[0]
	}
	if dir > 0 {
		for _, s := range steps {
			if sv, _ := order(k, s); sv > v {
				return s
			}
		}
		return steps[len(steps)-1]
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if sv, _ := order(k, steps[i]); sv < v {
			return steps[i]
		}
	}
	return steps[0]
}

// order places a value of k on a line, off above everything.
func order(k Knob, v string) (float64, bool) {
	if strings.EqualFold(v, Off) {
		return 1e30, true
	}
	if k == GOMEMLIMIT {
		n, err := targets.ParseMemory(v)
		return float64(n), err == nil
	}
	n, err := strconv.ParseFloat(v, 64)
	return n, err == nil
}

// Settings are the knobs a session sets, by knob; "" leaves the
// environment's own value (or the runtime's default).
type Settings [knobCount]string

// FromEnv reads the knobs env (KEY=VALUE) sets.
func FromEnv(env []string) Settings {
	var s Settings
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		for _, knob := range Knobs {
			if k == knob.String() {
				s[knob] = v
			}
		}
	}
	return s
}

// Value is k's value under s on t: its setting, or the default.
func (s Settings) Value(k Knob, t targets.Target) string {
	if s[k] != "" {
		return s[k]
	}
	return Default(k, t)
}

// Apply is env with each knob s sets replaced (or added), in env's order.
func (s Settings) Apply(env []string) []string {
	out := make([]string, 0, len(env)+int(knobCount))
	seen := [knobCount]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for _, knob := range Knobs {
			if k == knob.String() && s[knob] != "" {
				out, seen[knob], replaced = append(out, k+"="+envValue(knob, s[knob])), true, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	for _, knob := range Knobs {
		if s[knob] != "" && !seen[knob] {
			out = append(out, knob.String()+"="+envValue(knob, s[knob]))
		}
	}
	return out
}

// envValue is v as the runtime reads it: GOMEMLIMIT takes "512MiB" but
// not "off", which is math.MaxInt64 (the default).
func envValue(k Knob, v string) string {
	if k == GOMEMLIMIT && strings.EqualFold(v, Off) {
		return "9223372036854775807"
	}
	return v
}
