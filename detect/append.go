package detect

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"armbench/internal/atomicfile"
	"armbench/targets"
)

// ErrDuplicateName is returned (wrapped) by AppendTarget when the file
// already has a target of that name.
var ErrDuplicateName = errors.New("a target with this name already exists")

// TOML renders t as a [[target]] block in the targets.toml schema, each
// value preceded by its reason as a comment, notes (reasons without a key)
// first. Only set values are written, so [defaults] and the built-in
// defaults still apply to the rest. A reason is written only when it
// explains the value t actually has: a name chosen with --add does not
// carry the "suggested from the board" comment.
func TOML(t targets.Target, reasons []Reason) string {
	var b strings.Builder
	b.WriteString("# detected by `armbench detect`; each value follows from the comment above it\n")
	why := map[string]string{}
	for _, r := range reasons {
		if r.Key == "name" {
			continue // advice for the command line, not for the file
		}
		if r.Key == "" {
			b.WriteString(comment("note: " + r.Why))
			continue
		}
		if _, seen := why[r.Key]; !seen {
			why[r.Key] = r.Value + "\x00" + r.Why
		}
	}
	b.WriteString("[[target]]\n")
	// kv writes key = rendered, after the reason for raw when there is one.
	kv := func(key, raw, rendered string) {
		if w, ok := why[key]; ok {
			if v, text, _ := strings.Cut(w, "\x00"); v == raw {
				b.WriteString(comment(text))
			}
		}
		fmt.Fprintf(&b, "%-11s = %s\n", key, rendered)
	}
	str := func(key, value string) {
		if value != "" {
			kv(key, value, targets.QuoteTOML(value))
		}
	}
	num := func(key string, n int) {
		if n != 0 {
			kv(key, strconv.Itoa(n), strconv.Itoa(n))
		}
	}
	str("name", t.Name)
	str("description", t.Description)
	str("host", t.Host)
	str("user", t.User)
	num("port", t.Port)
	if t.GOOS != "" && t.GOOS != "linux" {
		str("goos", t.GOOS)
	}
	str("goarch", t.GOARCH)
	str("goarm", t.GOARM)
	str("goarm64", t.GOARM64)
	str("cpu", t.CPU)
	num("cores", t.Cores)
	mem := t.MemoryText
	if mem == "" && t.Memory > 0 {
		mem = targets.FormatMemory(t.Memory)
	}
	str("memory", mem)
	if t.DeployDir != "" && t.DeployDir != targets.DefaultDeployDir {
		str("deploy_dir", t.DeployDir)
	}
	str("runner", t.Runner)
	str("cc", t.CC)
	if len(t.Tags) > 0 {
		q := make([]string, len(t.Tags))
		for i, tag := range t.Tags {
			q[i] = targets.QuoteTOML(tag)
		}
		kv("tags", "", "["+strings.Join(q, ", ")+"]")
	}
	str("known_hosts", t.KnownHosts)
	str("identity_file", t.Identity)
	return b.String()
}

// comment writes text as a TOML comment, one line (reasons are one line;
// a stray newline must not end the comment and start TOML).
func comment(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	return "# " + text + "\n"
}

// AddPath is the file a detected target is added to: the config named on
// the command line, else $ARMBENCH_CONFIG, else ./targets.toml (created
// when missing). Never the embedded default: it is compiled in.
func AddPath(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := os.Getenv(targets.EnvConfig); env != "" {
		return env
	}
	return "targets.toml"
}

// AppendTarget adds t to the targets.toml at path as text, so the file's
// comments, layout and other tables stay exactly as they were; the reasons
// become comments. It refuses a name the file already has, and checks that
// the result still parses before replacing the file (through a temporary
// file and a rename, so a crash leaves the old file). A missing file is
// created.
func AppendTarget(path string, t targets.Target, reasons ...Reason) error {
	if t.Name == "" {
		return fmt.Errorf("add target to %s: the target has no name", path)
	}
	real, old, mode, exists, err := targets.ReadForAppend(path)
	if err != nil {
		return fmt.Errorf("add target %s: %w", t.Name, err)
	}
	var oldErr error
	if exists {
		// A file without any target yet is not a valid configuration but
		// is fine to append to; other errors are reported below if the
		// result is invalid too.
		cfg, err := targets.Parse(path, old)
		oldErr = err
		if err == nil {
			if prev, ok := cfg.Lookup(t.Name); ok {
				return fmt.Errorf("add target %s: %s:%d already has a target named %q; choose another name: %w",
					t.Name, path, prev.Pos.Line, t.Name, ErrDuplicateName)
			}
		}
	}

	data := targets.AppendBlock(old, TOML(t, reasons))

	cfg, err := targets.Parse(path, data)
	if err != nil && oldErr != nil {
		return fmt.Errorf("add target %s: %s is not valid now, so nothing was added; fix it first:\n%w", t.Name, path, oldErr)
	}
	if err != nil {
		return fmt.Errorf("add target %s: the new block would make %s invalid, nothing written:\n%w", t.Name, path, err)
	}
	if _, ok := cfg.Lookup(t.Name); !ok {
		return fmt.Errorf("add target %s: the appended block did not yield a target of that name in %s; nothing written", t.Name, path)
	}
	return atomicfile.Write(real, data, mode)
}
