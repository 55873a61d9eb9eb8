package targets

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// addSeeds feeds every testdata/*.toml (valid and invalid) plus the
// shipped targets.toml to the fuzzer.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.toml"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, filepath.Join("..", "targets.toml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"a = 1\n",
		"[a.b]\nc = '''x\ny'''\n[[a.d]]\ne.f = [1, [2, {g = 3}], \"]\"]\n",
		"\"quoted.key\" = { 'in' = \"\\u00e9\" }\n[[t]]\n[[t]]\nx = 1979-05-27 07:32:00Z # c\n",
		"k = \"\"\"a\"\"\"\"\"\nj = ''''b'''''\n",
		"[[x]]\n[x.y]\nz = 1\n[[x]]\n[[x.w]]\nv = 2\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse: Parse never panics, errors always carry a usable position
// inside the file, and a config that parses satisfies the schema.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.toml", data)
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			var l ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
			}
			lines := strings.Count(strings.TrimPrefix(string(data), "\xef\xbb\xbf"), "\n") + 1
			for _, e := range l {
				if e.Pos.File != "f.toml" || e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 || e.Msg == "" {
					t.Fatalf("bad error %q (file has %d lines)", e.Error(), lines)
				}
			}
			return
		}
		names := map[string]bool{}
		for _, tg := range cfg.Targets {
			if !nameRE.MatchString(tg.Name) || names[tg.Name] {
				t.Fatalf("bad or duplicate name %q", tg.Name)
			}
			names[tg.Name] = true
			if tg.GOARCH != "arm" && tg.GOARCH != "arm64" || tg.Host == "" || tg.DeployDir == "" || tg.GOOS == "" {
				t.Fatalf("target %+v", tg)
			}
			if tg.GOARCH == "arm" && tg.GOARM64 != "" || tg.GOARCH == "arm64" && tg.GOARM != "" {
				t.Fatalf("mismatched arch level %+v", tg)
			}
			if tg.Pos.Line < 1 {
				t.Fatalf("target without position %+v", tg)
			}
		}
		for _, p := range cfg.Profiles {
			if p.Name == "" || p.KeyPos["name"].Line < 1 {
				t.Fatalf("profile %+v", p)
			}
			checkHealth(t, p.Health)
		}
		groups := map[string]bool{}
		for _, g := range cfg.Groups {
			if !nameRE.MatchString(g.Name) || names[g.Name] || groups[g.Name] || len(g.Targets) == 0 || g.Pos.Line < 1 {
				t.Fatalf("bad group %+v", g)
			}
			groups[g.Name] = true
			for _, m := range g.Targets {
				if !names[m] {
					t.Fatalf("group %s has unknown member %q", g.Name, m)
				}
			}
		}
		for _, tg := range cfg.Targets {
			checkHealth(t, tg.Health)
			for _, g := range tg.Groups {
				if ms, _, ok := cfg.Resolve(g); !ok || !slices.ContainsFunc(ms, func(m Target) bool { return m.Name == tg.Name }) {
					t.Fatalf("target %s joins %s, which does not list it", tg.Name, g)
				}
			}
		}
	})
}

// checkHealth: a parsed check is exactly one of command and url, with
// usable timings.
func checkHealth(t *testing.T, h *Health) {
	if h == nil {
		return
	}
	if (h.Command == "") == (h.URL == "") || h.Timeout <= 0 || h.Interval < 0 || h.Retries < 0 {
		t.Fatalf("bad health %+v", h)
	}
}

// FuzzLocate: on any document toml.Decode accepts, the locator finds every
// key at a place where the text really starts that key.
func FuzzLocate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(checkLocate)
}

func checkLocate(t *testing.T, data []byte) {
	{
		src := string(data)
		keys, vals := locate("f", src) // must not panic or hang on any input
		var raw map[string]any
		if _, err := toml.Decode(src, &raw); err != nil || strings.HasPrefix(src, "\xef\xbb\xbf") || hasEmptyKey(raw) {
			// An empty key "" in an inline table inside an array makes
			// BurntSushi/toml v1.6.0 drop the array's other elements, so the
			// decoded shape no longer matches the text; such documents are
			// only checked for not panicking.
			return
		}
		lineStarts := []int{0}
		for i := range len(src) {
			if src[i] == '\n' {
				lineStarts = append(lineStarts, i+1)
			}
		}
		offset := func(p Position) int {
			if p.Line < 1 || p.Line > len(lineStarts) || p.Col < 1 {
				t.Fatalf("position %v out of the file", p)
			}
			o := lineStarts[p.Line-1] + p.Col - 1
			if o > len(src) {
				t.Fatalf("position %v past the end", p)
			}
			return o
		}
		var walk func(path []string, v any)
		walk = func(path []string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, sub := range x {
					if strings.Contains(k, pathSep) {
						continue
					}
					p := append(path[:len(path):len(path)], k)
					pos, ok := keys[joinPath(p...)]
					if !ok {
						t.Fatalf("key %q not located", strings.Join(p, "."))
					}
					rest := src[offset(pos):]
					if !strings.HasPrefix(rest, k) && !strings.HasPrefix(rest, `"`) && !strings.HasPrefix(rest, "'") {
						t.Fatalf("key %q located at %v, where the text is %q", strings.Join(p, "."), pos, rest[:min(len(rest), 20)])
					}
					if _, isTable := sub.(map[string]any); !isTable {
						if _, isAoT := sub.([]map[string]any); !isAoT {
							if _, ok := vals[joinPath(p...)]; !ok {
								t.Fatalf("value of %q not located", strings.Join(p, "."))
							}
						}
					}
					walk(p, sub)
				}
			case []map[string]any:
				for i, sub := range x {
					p := append(path[:len(path):len(path)], strconv.Itoa(i))
					pos, ok := keys[joinPath(p...)]
					if !ok {
						t.Fatalf("element %q not located", strings.Join(p, "."))
					}
					// Only "located": BurntSushi/toml v1.6.0 decodes
					// a = ['x', { "" = 1 }] as [{"" = 1}], dropping 'x',
					// so indices of inline arrays can disagree with the text.
					offset(pos)
					walk(p, sub)
				}
			case []any:
				for i, sub := range x {
					p := append(path[:len(path):len(path)], strconv.Itoa(i))
					if _, ok := keys[joinPath(p...)]; !ok {
						t.Fatalf("array element %q not located", strings.Join(p, "."))
					}
					walk(p, sub)
				}
			}
		}
		walk(nil, raw)
	}
}

func hasEmptyKey(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if k == "" || hasEmptyKey(sub) {
				return true
			}
		}
	case []map[string]any:
		for _, sub := range x {
			if hasEmptyKey(sub) {
				return true
			}
		}
	case []any:
		for _, sub := range x {
			if hasEmptyKey(sub) {
				return true
			}
		}
	}
	return false
}
