package install

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// CheckName refuses names that would escape deploy_dir or clash with the
// protocol's own files.
func CheckName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("invalid binary name %q", name)
	case strings.ContainsAny(name, "/\x00\n"):
		return fmt.Errorf("invalid binary name %q: no slashes, NULs or newlines", name)
	case strings.Contains(name, TmpMarker):
		return fmt.Errorf("invalid binary name %q: %q is reserved for temporary files", name, TmpMarker)
	}
	return nil
}

// TmpMarker is in the name of every temporary file a deploy writes, so the
// next deploy can sweep what an interrupted one left behind:
// .<name>.armbench-tmp-<random>.
const TmpMarker = ".armbench-tmp-"

// TmpPrefix starts the name of every temporary file a deploy of name
// writes in deploy_dir.
func TmpPrefix(name string) string { return "." + name + TmpMarker }

// RandomSuffix makes a temporary name unique.
func RandomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ELFZBasePrefix starts the names of the expanded forms an elfz deploy of
// name keeps in deploy_dir, the base of the next elfz delta; ELFZBase is
// the one of the binary whose sha256 is sum.
func ELFZBasePrefix(name string) string { return "." + name + ".elfz-" }
func ELFZBase(name, sum string) string  { return ELFZBasePrefix(name) + sum }
