// Package artifact is a local file about to be deployed: its path, size
// and sha256, filled in and checked before anything is sent.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"armbench/internal/lazyregexp"
)

// validSHA is a sha256 as hex digits.
var validSHA = lazyregexp.New(`\b[0-9a-f]{64}\b`)

// ValidSHA256 says whether s is a sha256 as 64 lowercase hex digits.
func ValidSHA256(s string) bool { return len(s) == 64 && validSHA.MatchString(s) }

// FindSHA256 picks the first sha256 out of a tool's output ("" if none).
func FindSHA256(s string) string { return validSHA.FindString(s) }

// File is a local artifact to deploy.
type File struct {
	Path   string
	SHA256 string // hex, as computed by the build
	Size   int64
}

// SHA256 is the hex sha256 of the file at path.
func SHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Resolve fills in the size and sha256 of f when the caller left them out.
func Resolve(f File) (File, error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		return f, err
	}
	if !st.Mode().IsRegular() {
		return f, fmt.Errorf("%s is not a regular file", f.Path)
	}
	if f.Size != 0 && f.Size != st.Size() {
		return f, fmt.Errorf("%s is %d bytes, the build said %d: rebuilt meanwhile?", f.Path, st.Size(), f.Size)
	}
	f.Size = st.Size()
	if f.SHA256 == "" {
		if f.SHA256, err = SHA256(f.Path); err != nil {
			return f, err
		}
	}
	f.SHA256 = strings.ToLower(f.SHA256)
	return f, nil
}
