package send

import (
	"context"
	"strings"
	"testing"

	"armbench/remote/artifact"
)

// The device's decompressors decide how a whole file goes: zstd first,
// gzip next, sftp (no receiver) without either.
func TestDecompressorPrefersZstd(t *testing.T) {
	for _, c := range []struct {
		tools     []string
		recv, enc string
	}{
		{[]string{"gzip", "zstd"}, "zstd -d -q -c", "zstd"},
		{[]string{"gzip"}, "gzip -d -c", "gzip"},
		{nil, "", ""},
	} {
		if recv, enc := Decompressor(c.tools); recv != c.recv || enc != c.enc {
			t.Errorf("Decompressor(%q) = %q, %q; want %q, %q", c.tools, recv, enc, c.recv, c.enc)
		}
	}
}

// An unchanged binary is the first way's: nothing is sent, and nothing
// is even read.
func TestSkipComesFirst(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	j := &Job{File: artifact.File{Path: "/nonexistent", SHA256: sum}, Old: sum}
	s, err := Send(context.Background(), j)
	if err != nil || !s.Skipped {
		t.Fatalf("Send of an unchanged binary: %+v, %v", s, err)
	}
	if j.started {
		t.Error("the skip read the artifact")
	}
}
