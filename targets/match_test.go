package targets

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
)

// The hand-written rules against the regexps they replace, on chosen
// strings, on random strings over the characters that matter, and under
// `go test -fuzz FuzzMatchersAgreeWithRegexps`.
var (
	nameRegexp    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	goarmRegexp   = regexp.MustCompile(`^[567](,softfloat|,hardfloat)?$`)
	goarm64Regexp = regexp.MustCompile(`^v(8\.[0-9]|9\.[0-5])((,lse)|(,crypto))*$`)
	memRegexp     = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)
)

var matchSeeds = []string{
	"", "a", "pi4", "local-armv7", "pi_zero.2", "-pi", ".pi", "pi 4", "pi/4", "pi4\n", "π", "a\xff",
	"5", "6", "7", "8", "4", "7,softfloat", "6,hardfloat", "7,", "7,softfloat,hardfloat", "v7", "7 ",
	"v8.0", "v8.9", "v9.0", "v9.5", "v9.6", "v8.", "v8", "v10.0", "8.0", "v8.0,lse", "v8.0,crypto,lse,lse",
	"v8.2,crypto", "v8.0,", "v8.0,ls", "v8.0 ", "V8.0", "armv8.0",
	"1", "4GiB", "512MiB", "1.5G", " 1000000 ", "1.", ".5", "1.5.5", "1 G i B", "\t2\r\nKiB\f", "\v1", "1\v",
	"12abc ", "GiB", "1e9", "-1", "1,5G", "0.0", "00012 kb",
}

func checkMatchers(t *testing.T, s string) {
	t.Helper()
	for _, c := range []struct {
		name string
		re   *regexp.Regexp
		f    func(string) bool
	}{{"name", nameRegexp, isName}, {"goarm", goarmRegexp, isGOARM}, {"goarm64", goarm64Regexp, isGOARM64}} {
		if got, want := c.f(s), c.re.MatchString(s); got != want {
			t.Errorf("%s rule on %q: %v, regexp says %v", c.name, s, got, want)
		}
	}
	if got, want := memorySubmatch(s), memRegexp.FindStringSubmatch(s); !slices.Equal(got, want) {
		t.Errorf("memory rule on %q: %q, regexp says %q", s, got, want)
	}
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, s := range matchSeeds {
		checkMatchers(t, s)
	}
	// Random strings over the characters the rules care about.
	const alphabet = "v5789.,-_ \t\n\r\f\vaAzZ0139lsecryptohardsoftfloatGiBkM\xff"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkMatchers(t, string(b))
	}
}

func FuzzMatchersAgreeWithRegexps(f *testing.F) {
	for _, s := range matchSeeds {
		f.Add(s)
	}
	f.Fuzz(checkMatchers)
}
