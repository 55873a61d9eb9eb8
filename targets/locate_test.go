package targets

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestLocateExamples(t *testing.T) {
	src := "# c\n[[target]]\nname = \"a\" # x\n  \"quoted key\" = 1\n[target.sub]\nk.l = { m = [1, {n = 2}] }\n[[target]]\ns = '''\nname = \"fake\"\n'''\nname = \"b\"\n"
	keys, vals := locate("f", src)
	for path, want := range map[string]string{
		"target":                 "f:2:3",
		"target/0":               "f:2:1",
		"target/0/name":          "f:3:1",
		"target/0/quoted key":    "f:4:3",
		"target/0/sub":           "f:5:9",
		"target/0/sub/k/l":       "f:6:3",
		"target/0/sub/k/l/m/1/n": "f:6:18",
		"target/1":               "f:7:1",
		"target/1/name":          "f:11:1",
	} {
		if got := keys[strings.ReplaceAll(path, "/", pathSep)].String(); got != want {
			t.Errorf("key %s at %s, want %s", path, got, want)
		}
	}
	if got := vals[joinPath("target", "1", "name")].String(); got != "f:11:8" {
		t.Errorf("value of target/1/name at %s", got)
	}
	if _, ok := keys[joinPath("target", "1", "fake")]; ok {
		t.Error("text inside a multi-line string was read as a key")
	}
}

// TestLocateGenerated runs the FuzzLocate property over documents built
// from TOML's trickier pieces, deterministic so it runs in every test run.
func TestLocateGenerated(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	keys := []string{"a", "b-c", "_d", "1", `"q.k"`, `'lit'`, `"\u00e9"`, `"tab\tkey"`, "x.y", `a . "b"`}
	var value func(depth int) string
	value = func(depth int) string {
		switch n := r.Intn(14); {
		case n == 0:
			return `"s \" ] } # ,"`
		case n == 1:
			return `'lit # ]'`
		case n == 2:
			return "\"\"\"\nml \\\"\"\" \n\"\"\"\"\""
		case n == 3:
			return "'''\nx = 1\n[t]\n'''''"
		case n == 4:
			return "1979-05-27 07:32:00Z"
		case n == 5:
			return "1979-05-27"
		case n == 6:
			return "-3_000"
		case n == 7:
			return "true"
		case n == 8:
			return "inf"
		case n == 9 && depth < 3:
			var parts []string
			for i := r.Intn(3); i > 0; i-- {
				parts = append(parts, value(depth+1))
			}
			return "[ " + strings.Join(parts, " ,\n # c\n ") + " ]"
		case n == 10 && depth < 3:
			var parts []string
			for i := r.Intn(3); i > 0; i-- {
				parts = append(parts, keys[r.Intn(len(keys))]+" = "+value(depth+1))
			}
			return "{ " + strings.Join(parts, ", ") + " }"
		case n == 11:
			return "0x1F"
		case n == 12:
			return "\"\\u00e9\\\\\""
		}
		return "2.5e3"
	}
	valid := 0
	for i := 0; i < 4000; i++ {
		var b strings.Builder
		for j := r.Intn(8); j >= 0; j-- {
			switch r.Intn(5) {
			case 0:
				fmt.Fprintf(&b, "[ %s ]  # h\n", keys[r.Intn(len(keys))])
			case 1:
				fmt.Fprintf(&b, "[[%s]]\n", keys[r.Intn(len(keys))])
			case 2:
				b.WriteString("\n# comment = 1\n\r\n")
			default:
				fmt.Fprintf(&b, "\t%s\t=\t%s # t\n", keys[r.Intn(len(keys))], value(0))
			}
		}
		doc := b.String()
		var m map[string]any
		if _, err := toml.Decode(doc, &m); err == nil {
			valid++
		}
		t.Run("", func(t *testing.T) { checkLocate(t, []byte(doc)) })
		if t.Failed() {
			t.Fatalf("document:\n%s", doc)
		}
	}
	if valid < 400 {
		t.Errorf("only %d of 4000 generated documents were valid TOML; the generator needs fixing", valid)
	}
	t.Logf("%d valid documents checked", valid)
}
