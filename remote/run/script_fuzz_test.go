package run

import (
	"os/exec"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// FuzzRunScript runs the wrapper armbench sends to devices under a real
// sh: whatever the arguments, environment values and directory hold, the
// program must receive exactly them, and nothing may run besides it.
func FuzzRunScript(f *testing.F) {
	f.Add("plain", "value", "sub dir")
	f.Add("$(touch pwned)", "a'b\"c", "it's; here")
	f.Add("`id`", "$HOME", "*")
	f.Add("-n", "x\ny", "~")
	f.Fuzz(func(t *testing.T, arg, val, sub string) {
		if strings.ContainsRune(arg+val+sub, 0) || strings.ContainsAny(sub, "/\n") || sub == "" || sub == "." || sub == ".." {
			return // NUL cannot be in an argument; sub is one directory name
		}
		sh := testenv.Tool(t, "sh", "dash") // runs the wrapper, as a device would
		testenv.Tool(t, "mkdir", "coreutils")
		dir := t.TempDir()
		cmd := Command{
			Path: "/bin/sh",
			Args: []string{"-c", `printf '[%s]' "$@" "$ARMBENCH_FUZZ"; printf '{%s}' "$(pwd)"`, "sh", arg},
			Env:  []string{"ARMBENCH_FUZZ=" + val},
			Dir:  sub,
		}
		script, err := runScript(dir, "", cmd)
		if err != nil {
			t.Fatal(err)
		}
		// The wrapper cds into Dir, which must exist.
		if err := exec.Command("mkdir", "-p", "--", dir+"/"+sub).Run(); err != nil {
			t.Skip("cannot create", sub)
		}
		out, err := exec.Command(sh, "-c", script).Output()
		if err != nil {
			t.Fatalf("sh: %v\nscript:\n%s", err, script)
		}
		first, rest, _ := strings.Cut(string(out), "\n")
		if !strings.HasPrefix(first, pidMarker) {
			t.Fatalf("first line %q", first)
		}
		want := "[" + arg + "][" + val + "]{" + dir + "/" + sub + "}"
		if rest != want {
			t.Fatalf("program saw %q, want %q\nscript:\n%s", rest, want, script)
		}
	})
}
