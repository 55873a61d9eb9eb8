package build

import (
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"armbench/profiles"
)

// VerifyError is returned by Verify (and in Result.Err) when the artifact
// does not match its plan. Artifact holds everything read from the file,
// including the checks that passed.
type VerifyError struct {
	Path     string
	Failed   []Check
	Artifact *Artifact
}

func (e *VerifyError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = fmt.Sprintf("%s: want %s, got %s", c.Name, c.Want, c.Got)
	}
	return fmt.Sprintf("verify %s: %s", e.Path, strings.Join(parts, "; "))
}

// elfMachines maps GOARCH to the ELF machine and class its binaries have.
var elfMachines = map[string]struct {
	machine elf.Machine
	class   elf.Class
}{
	"arm":     {elf.EM_ARM, elf.ELFCLASS32},
	"arm64":   {elf.EM_AARCH64, elf.ELFCLASS64},
	"amd64":   {elf.EM_X86_64, elf.ELFCLASS64},
	"386":     {elf.EM_386, elf.ELFCLASS32},
	"riscv64": {elf.EM_RISCV, elf.ELFCLASS64},
}

// Verify reads the file at path and checks it against plan: ELF machine and
// class for the plan's GOARCH, static linking when the profile asks for it,
// symbols stripped exactly when -ldflags has -s, and every plan.Expect key
// against the file's debug/buildinfo settings. The file is read once for
// the hash; ELF headers and build info are read from the page cache.
// On a mismatch the returned error is a *VerifyError and the Artifact is
// still returned.
func Verify(path string, plan profiles.Plan) (*Artifact, error) {
	return verify(path, plan, fileSum{})
}

// fileSum is a file's size and sha256, when already known.
type fileSum struct {
	size   int64
	sha256 string
}

func hashFile(f *os.File) (fileSum, error) {
	h := sha256.New()
	size, err := io.CopyBuffer(h, f, make([]byte, 256<<10))
	if err != nil {
		return fileSum{}, err
	}
	return fileSum{size, hex.EncodeToString(h.Sum(nil))}, nil
}

// verify is Verify with the hash supplied when the caller already has it.
func verify(path string, plan profiles.Plan, sum fileSum) (*Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	if sum.sha256 == "" {
		if sum, err = hashFile(f); err != nil {
			return nil, fmt.Errorf("verify %s: %w", path, err)
		}
	}
	art := &Artifact{Path: path, Size: sum.size, SHA256: sum.sha256}

	ef, err := elf.NewFile(f)
	if err != nil {
		return art, fmt.Errorf("verify %s: not an ELF file: %w", path, err)
	}
	art.checkELF(ef, plan)
	art.checkBuildInfo(f, plan)

	var failed []Check
	for _, c := range art.Checks {
		if !c.OK {
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		return art, &VerifyError{Path: path, Failed: failed, Artifact: art}
	}
	return art, nil
}

// checkELF reads the ELF header and checks machine, class, linking and
// stripping against plan.
func (a *Artifact) checkELF(ef *elf.File, plan profiles.Plan) {
	a.Machine, a.Class = machineName(ef.Machine), className(ef.Class)
	a.Static = true
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			a.Static = false
		}
	}
	a.Stripped = ef.Section(".symtab") == nil

	goarch := plan.Expect["GOARCH"]
	if goarch == "" {
		goarch = plan.Target.GOARCH
	}
	if goarch != "" {
		want, known := elfMachines[goarch]
		if !known {
			a.add("ELF machine", "a known GOARCH", goarch)
		} else {
			a.add("ELF machine", machineName(want.machine), a.Machine)
			a.add("ELF class", className(want.class), a.Class)
		}
	}
	if plan.Profile.Build.Static {
		a.add("static", linking(true), linking(a.Static))
	}
	a.add("stripped", yesNo(hasLinkFlag(ldflagsOf(plan), "-s")), yesNo(a.Stripped))
}

// checkBuildInfo reads the Go build info of the file and checks every
// plan.Expect key against its settings, in key order.
func (a *Artifact) checkBuildInfo(f io.ReaderAt, plan profiles.Plan) {
	bi, err := buildinfo.Read(f)
	if err != nil {
		a.add("Go build info", "present", "missing ("+err.Error()+")")
		return
	}
	a.GoVersion = bi.GoVersion
	a.Settings = make(map[string]string, len(bi.Settings))
	for _, s := range bi.Settings {
		a.Settings[s.Key] = s.Value
	}
	trimpath := a.Settings["-trimpath"] == "true"
	for _, k := range slices.Sorted(maps.Keys(plan.Expect)) {
		want := plan.Expect[k]
		got, ok := a.Settings[k]
		if k == "-ldflags" && trimpath && !ok {
			// The go command omits -ldflags from build info under
			// -trimpath (go.dev/issue/52372); "stripped" still checks the
			// effect of -s.
			a.Checks = append(a.Checks, Check{Name: k, Want: want, Got: "(not recorded with -trimpath)", OK: true})
			continue
		}
		if !ok {
			got = "(unset)"
			if want == "" {
				got = ""
			}
		}
		a.add(k, want, got)
	}
}

func (a *Artifact) add(name, want, got string) {
	a.Checks = append(a.Checks, Check{Name: name, Want: want, Got: got, OK: want == got})
}

// machineName and className word the ELF header ("AARCH64", "ELF64") the
// same way for what the file has and what the plan wants, so they compare.
func machineName(m elf.Machine) string { return strings.TrimPrefix(m.String(), "EM_") }

func className(c elf.Class) string { return "ELF" + strings.TrimPrefix(c.String(), "ELFCLASS") }

func linking(static bool) string {
	if static {
		return "static"
	}
	return "dynamic"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ldflagsOf is the -ldflags the go command got: the plan's arguments are
// authoritative (the last -ldflags wins, as in the go command), then what
// the plan expects, then the profile's setting.
func ldflagsOf(plan profiles.Plan) string {
	v, found := "", false
	for i := 0; i < len(plan.Args); i++ {
		a := strings.TrimPrefix(plan.Args[i], "-")
		switch {
		case strings.HasPrefix(a, "-ldflags="), strings.HasPrefix(a, "ldflags="):
			_, v, _ = strings.Cut(a, "=")
			found = true
		case (a == "-ldflags" || a == "ldflags") && i+1 < len(plan.Args):
			v, found = plan.Args[i+1], true
			i++
		}
	}
	if found {
		return v
	}
	if v, ok := plan.Expect["-ldflags"]; ok {
		return v
	}
	return plan.Profile.Build.Ldflags
}

// hasLinkFlag reports whether the linker flags turn on the boolean flag
// name ("-s"), honouring a later -s=false.
func hasLinkFlag(ldflags, name string) bool {
	on := false
	for _, f := range strings.Fields(ldflags) {
		f = strings.Trim(f, `"'`)
		if strings.HasPrefix(f, "--") {
			f = f[1:]
		}
		switch f {
		case name, name + "=true", name + "=1":
			on = true
		case name + "=false", name + "=0":
			on = false
		}
	}
	return on
}
