package delta

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"armbench/internal/testenv"
)

func TestDeltaCachePrune(t *testing.T) {
	c := NewCache(t.TempDir())
	var sums []string
	for i := range cacheKeep + 3 {
		data := []byte(strings.Repeat("x", i+1))
		sum := shaOf(data)
		if err := c.Store(data, sum, "t", "app"); err != nil {
			t.Fatal(err)
		}
		// mtimes a second apart, as prune orders by them
		at := time.Now().Add(time.Duration(i-100) * time.Second)
		os.Chtimes(c.Path(sum), at, at)
		sums = append(sums, sum)
	}
	if err := c.Prune(cacheKeep); err != nil {
		t.Fatal(err)
	}
	for i, sum := range sums {
		_, err := c.Load(sum)
		if kept := i >= 3; kept != (err == nil) {
			t.Errorf("copy %d: kept %v, load error %v", i, kept, err)
		}
	}
	if _, err := c.Load("../../etc/passwd"); err == nil {
		t.Error("load accepted a path as a sha256")
	}
}

func TestEncodeDeltaRoundTrip(t *testing.T) {
	prev := make([]byte, 256<<10)
	rand.Read(prev)
	next := slices.Concat(prev[:100<<10], []byte("a change in the middle"), prev[100<<10:])
	frame, err := Encode(context.Background(), prev, next, len(next))
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) > 1<<10 {
		t.Errorf("delta of %d bytes for a 22-byte insertion", len(frame))
	}
	// Decoded by the command the device runs.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), prev, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", PatchRecv("app", len(prev), len(next)))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(frame)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	testenv.Tool(t, "zstd", "zstd")
	got, err := cmd.Output()
	if err != nil || !bytes.Equal(got, next) {
		t.Fatalf("zstd --patch-from: %v %s", err, stderr.String())
	}
	if _, err := Encode(context.Background(), prev, next, 16); !errors.Is(err, ErrTooBig) {
		t.Errorf("limit: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Encode(ctx, prev, next, len(next)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDeltaCacheExpanded(t *testing.T) {
	c := NewCache(t.TempDir())
	sums := []string{}
	for i := range 4 {
		x := bytes.Repeat([]byte{byte(i)}, 1000)
		xs := sha256.Sum256(x)
		sum := hex.EncodeToString(xs[:])
		sums = append(sums, sum)
		if err := c.StoreExpanded(x, sum); err != nil {
			t.Fatal(err)
		}
		if path, got := c.Expanded(sum); path == "" || !bytes.Equal(got, x) {
			t.Fatalf("stored form %d not found", i)
		}
	}
	if path, _ := c.Expanded(sums[0]); path != "" {
		t.Errorf("%d expanded forms kept, want the newest %d", 4, expandedKeep)
	}
	path, _ := c.Expanded(sums[3])
	if err := os.WriteFile(path, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, x := c.Expanded(sums[3]); p != "" || x != nil {
		t.Error("a damaged expanded form was handed out")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the damaged form is still there: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.dir, expandedDir)); len(ents) != 1 {
		t.Errorf("%d files left in the expanded cache, want 1", len(ents))
	}
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestLinkedByThisGo(t *testing.T) {
	self, err := os.Executable() // the test binary, linked by the Go running it
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if !linkedByThisGo(b) {
		t.Error("a binary the test's own go linked is not recognized")
	}
	if linkedByThisGo([]byte("#!/bin/sh\n")) {
		t.Error("a shell script was linked by this Go")
	}
}
