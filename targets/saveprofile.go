package targets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"armbench/internal/atomicfile"
)

// This file lets tools write a [[profile]] into targets.toml (armbench
// sweep --save), and check the values they are about to write with the
// same rules the file's reader applies.

// ErrProfileExists is returned (wrapped) by AppendProfile when the file
// already has a profile of that name.
var ErrProfileExists = errors.New("a profile with this name already exists")

// CheckName reports whether s can name a target or profile.
func CheckName(s string) error {
	if !nameRE.MatchString(s) || len(s) > 64 {
		return fmt.Errorf("%q is not a valid name: use %s (at most 64)", s, nameRule)
	}
	return nil
}

// CheckGOARM checks a target's goarm value.
func CheckGOARM(s string) error {
	if !goarmRE.MatchString(s) {
		return fmt.Errorf("%q is not allowed; write %s", s, goarmRule)
	}
	return nil
}

// CheckGOARM64 checks a target's goarm64 value.
func CheckGOARM64(s string) error {
	if !goarm64RE.MatchString(s) || strings.Count(s, ",lse") > 1 || strings.Count(s, ",crypto") > 1 {
		return fmt.Errorf("%q is not allowed; write %s", s, goarm64Rule)
	}
	return nil
}

// CheckGOGC checks run.gogc: a percentage or "off".
func CheckGOGC(s string) error {
	if !gogcRE.MatchString(s) {
		return fmt.Errorf(`%q is not allowed; write a percentage such as 200 or "off"`, s)
	}
	return nil
}

// CheckGOMEMLIMIT checks run.gomemlimit.
func CheckGOMEMLIMIT(s string) error {
	if !gomemlimitRE.MatchString(s) {
		return fmt.Errorf(`%q is not allowed; write "off", "auto" (half of the target's memory) or an integer with B, KiB, MiB, GiB or TiB, e.g. "512MiB"`, s)
	}
	return nil
}

// CheckGODEBUG checks run.godebug: comma-separated name=value pairs.
func CheckGODEBUG(s string) error {
	if s != "" && !godebugRE.MatchString(s) {
		return fmt.Errorf(`%q is not allowed; write comma-separated name=value pairs, e.g. "gctrace=1,madvdontneed=1"`, s)
	}
	return nil
}

// CheckRunEnvName checks the name of a variable for run.env: a valid
// name that armbench does not set from a dedicated key.
func CheckRunEnvName(k string) error {
	if !envKeyRE.MatchString(k) {
		return fmt.Errorf("%q is not an environment variable name: letters, digits and _, not starting with a digit", k)
	}
	if use, r := reservedRunEnv[k]; r {
		return fmt.Errorf("%s is set by armbench; %s", k, use)
	}
	return nil
}

// AppendProfile adds p to the targets.toml at path as text after the
// lines of comment (each written as a # comment), so the file's own
// comments, layout and tables stay byte for byte as they were. It
// refuses a name the file already has. When path does not exist it is
// created from seed (the configuration in use, e.g. the embedded
// default) so the targets it names stay. The result must still parse,
// and check (when not nil) must accept it, before the file is replaced
// through a temporary file and a rename.
func AppendProfile(path string, seed []byte, p ProfileSpec, comment []string, check func(*Config) error) error {
	if err := CheckName(p.Name); err != nil {
		return fmt.Errorf("add profile to %s: %w", path, err)
	}
	real, old, mode, exists, err := ReadForAppend(path)
	if err != nil {
		return fmt.Errorf("add profile %s: %w", p.Name, err)
	}
	if !exists {
		old = seed
	}
	cfg, err := Parse(path, old)
	if err != nil {
		return fmt.Errorf("add profile %s: %s is not valid now, so nothing was added; fix it first:\n%w", p.Name, path, err)
	}
	for _, s := range cfg.Profiles {
		if s.Name == p.Name {
			return fmt.Errorf("add profile %s: %s:%d already has a profile named %q; choose another name: %w",
				p.Name, path, s.Pos.Line, p.Name, ErrProfileExists)
		}
	}

	data := AppendBlock(old, ProfileTOML(p, comment))
	cfg, err = Parse(path, data)
	if err != nil {
		return fmt.Errorf("add profile %s: the new block would make %s invalid, nothing written:\n%w", p.Name, path, err)
	}
	found := false
	for _, s := range cfg.Profiles {
		found = found || s.Name == p.Name
	}
	if !found {
		return fmt.Errorf("add profile %s: the appended block did not yield a profile of that name in %s; nothing written", p.Name, path)
	}
	if check != nil {
		if err := check(cfg); err != nil {
			return fmt.Errorf("add profile %s: the new block would make %s invalid, nothing written:\n%w", p.Name, path, err)
		}
	}
	return atomicfile.Write(real, data, mode)
}

// ProfileTOML renders p as a [[profile]] block, after comment; only the
// keys p sets are written, so everything else comes from extends.
func ProfileTOML(p ProfileSpec, comment []string) string {
	var b strings.Builder
	for _, c := range comment {
		b.WriteString(tomlComment(c))
	}
	b.WriteString("[[profile]]\n")
	str := func(key, v string) { fmt.Fprintf(&b, "%s = %s\n", key, QuoteTOML(v)) }
	str("name", p.Name)
	if p.Description != "" {
		str("description", p.Description)
	}
	if p.Extends != "" {
		str("extends", p.Extends)
	}
	bs := p.Build
	if bs.CGO != nil || bs.Trimpath != nil || bs.Ldflags != nil || bs.Gcflags != nil || bs.Tags != nil || bs.PGO != nil || bs.Static != nil || bs.Env != nil {
		b.WriteString("[profile.build]\n")
		boolKey(&b, "cgo", bs.CGO)
		boolKey(&b, "trimpath", bs.Trimpath)
		strKey(&b, "ldflags", bs.Ldflags)
		strKey(&b, "gcflags", bs.Gcflags)
		if bs.Tags != nil {
			q := make([]string, len(bs.Tags))
			for i, t := range bs.Tags {
				q[i] = QuoteTOML(t)
			}
			fmt.Fprintf(&b, "tags = [%s]\n", strings.Join(q, ", "))
		}
		strKey(&b, "pgo", bs.PGO)
		boolKey(&b, "static", bs.Static)
		envKey(&b, bs.Env)
	}
	rs := p.Run
	if rs.GOMAXPROCS != nil || rs.GOGC != nil || rs.GOMEMLIMIT != nil || rs.GODEBUG != nil || rs.Env != nil {
		b.WriteString("[profile.run]\n")
		if rs.GOMAXPROCS != nil {
			fmt.Fprintf(&b, "gomaxprocs = %d\n", *rs.GOMAXPROCS)
		}
		strKey(&b, "gogc", rs.GOGC)
		strKey(&b, "gomemlimit", rs.GOMEMLIMIT)
		strKey(&b, "godebug", rs.GODEBUG)
		envKey(&b, rs.Env)
	}
	return b.String()
}

func boolKey(b *strings.Builder, key string, v *bool) {
	if v != nil {
		fmt.Fprintf(b, "%s = %t\n", key, *v)
	}
}

func strKey(b *strings.Builder, key string, v *string) {
	if v != nil {
		fmt.Fprintf(b, "%s = %s\n", key, QuoteTOML(*v))
	}
}

func envKey(b *strings.Builder, env map[string]string) {
	if env == nil {
		return
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " = " + QuoteTOML(env[k])
	}
	fmt.Fprintf(b, "env = { %s }\n", strings.Join(parts, ", "))
}

// tomlComment writes text as one TOML comment line: a stray newline must
// not end the comment and start TOML.
func tomlComment(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	return strings.TrimRight("# "+text, " ") + "\n"
}

// ReadForAppend reads the targets.toml at path before a block is
// appended to it (AppendBlock): real is the file to replace, the one a
// symlink at path points at, so that the link stays; mode is its
// permissions (0644 for a new file); exists is false, with no error, when
// there is no file yet.
func ReadForAppend(path string) (real string, old []byte, mode fs.FileMode, exists bool, err error) {
	real = path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		real = r
	}
	mode = 0o644
	old, err = os.ReadFile(real)
	switch {
	case err == nil:
		if st, err := os.Stat(real); err == nil {
			mode = st.Mode().Perm()
		}
		return real, old, mode, true, nil
	case errors.Is(err, fs.ErrNotExist):
		return real, nil, mode, false, nil
	}
	return real, nil, mode, false, err
}

// AppendBlock is old with block after it, on a line of its own after a
// blank line (none before it in an empty file).
func AppendBlock(old []byte, block string) []byte {
	var b strings.Builder
	b.Write(old)
	if len(old) > 0 {
		if old[len(old)-1] != '\n' {
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	b.WriteString(block)
	return []byte(b.String())
}

// QuoteTOML writes s as a TOML basic string.
func QuoteTOML(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			b.WriteString(`\u` + fmt.Sprintf("%04X", r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
