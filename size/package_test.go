package size

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func TestPackageOf(t *testing.T) {
	for _, c := range []struct {
		sym, want string
		isPkg     bool
	}{
		{"main.main", "main", true},
		{"fmt.(*pp).printValue", "fmt", true},
		{"github.com/melbahja/goph.(*Client).Run", "github.com/melbahja/goph", true},
		{"slices.pdqsortCmpFunc[go.shape.struct { Name string }]", "slices", true},
		{"internal/sync.indirect[interface {},interface {}]", "internal/sync", true},
		{"type:*net/http.Request", "net/http", true},
		{"type:.eq.[10]internal/cpu.option", "internal/cpu", true},
		{"type:.eq.map[string]int", BucketNoPackage, false},
		{"go:itab.*os.File,io.Writer", "os", true},
		{"crypto/internal/entropy/v1%2e0%2e0.Seed", "crypto/internal/entropy/v1.0.0", true},
		{"go:func.*", BucketRuntime, false},
		{"$f64.3ff0000000000000", BucketRuntime, false},
		{"aeshashbody", BucketNoPackage, false},
		{"", BucketNoPackage, false},
	} {
		got, isPkg := PackageOf(c.sym)
		if got != c.want || isPkg != c.isPkg {
			t.Errorf("PackageOf(%q) = %q, %v; want %q, %v", c.sym, got, isPkg, c.want, c.isPkg)
		}
	}
}

// FuzzPackageOf: any symbol name gives a non-empty name, and a package
// name is a prefix-free import path (no spaces, brackets or commas).
func FuzzPackageOf(f *testing.F) {
	seeds, err := os.Open("testdata/symbols.txt")
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	defer seeds.Close()
	sc := bufio.NewScanner(seeds)
	n := 0
	for sc.Scan() {
		f.Add(sc.Text())
		n++
	}
	if n < 10 {
		f.Fatalf("seed corpus has %d symbols, want the recorded ones", n)
	}
	f.Fuzz(func(t *testing.T, sym string) {
		name, isPkg := PackageOf(sym)
		if name == "" {
			t.Fatalf("PackageOf(%q) is empty", sym)
		}
		if isPkg && strings.ContainsAny(name, "[], ") {
			t.Fatalf("PackageOf(%q) = %q: not an import path", sym, name)
		}
	})
}
