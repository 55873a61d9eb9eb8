package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// toolchainVars are the variables that choose or configure the go command
// and what it compiles, beyond a plan's own settings.
var toolchainVars = []string{"GOTOOLCHAIN", "GOROOT", "GOFLAGS", "GOEXPERIMENT", "GOENV"}

// ToolchainKey identifies, without running it, the go command a build
// would run here: its path and file status, its GOROOT's VERSION, the go
// env file and the variables that select or configure it. A cache of
// builds keyed by it (with the sources) is answered in microseconds,
// where asking the go command costs tens of milliseconds.
func ToolchainKey() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command: %w", err)
	}
	if abs, err := filepath.Abs(goCmd); err == nil {
		goCmd = abs
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%+v\x00", goCmd, statStamp(goCmd))
	version, _ := os.ReadFile(filepath.Join(goRoot(goCmd), "VERSION"))
	fmt.Fprintf(h, "%s\x00", version)
	env := goEnv{inherited: os.Environ()}
	fmt.Fprintf(h, "%+v\x00", statStamp(goEnvFile(env)))
	vars := goVars(env.all())
	for _, k := range toolchainVars {
		fmt.Fprintf(h, "%s=%s\x00", k, vars[k])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
