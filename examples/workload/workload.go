package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync"
)

// The kernels below are shared by the program and its benchmarks so that
// what `workload` prints and what `go test -bench` measures is the same work.
// Each one is sized so a single call stays in the low milliseconds even
// under qemu-user, which runs ARM code 10–30× slower than native.

// node is a binary tree node; building and dropping trees of them is the
// classic garbage-collector stress (many small, short-lived pointers).
type node struct {
	left, right *node
	val         int
}

func buildTree(depth int) *node {
	if depth == 0 {
		return &node{val: 1}
	}
	return &node{left: buildTree(depth - 1), right: buildTree(depth - 1), val: depth}
}

func (n *node) sum() int {
	if n == nil {
		return 0
	}
	return n.val + n.left.sum() + n.right.sum()
}

// allocTrees builds count trees of the given depth, keeping only a checksum,
// so the heap churns and GOGC / GOMEMLIMIT decide how often the GC runs.
func allocTrees(count, depth int) int {
	total := 0
	for i := 0; i < count; i++ {
		total += buildTree(depth).sum()
	}
	return total
}

// allocMaps fills and drops maps of small strings: map growth plus many
// tiny allocations, a different shape of garbage than the trees.
func allocMaps(count, size int) int {
	total := 0
	var key [8]byte
	for i := 0; i < count; i++ {
		m := make(map[string][]byte)
		for j := 0; j < size; j++ {
			binary.LittleEndian.PutUint64(key[:], uint64(i*size+j))
			m[string(key[:])] = make([]byte, 16+j%32)
		}
		total += len(m)
	}
	return total
}

// hashChunk does a fixed amount of CPU work on one chunk: repeated sha256
// over the chunk's own digest, so it cannot be shortcut or cached.
func hashChunk(seed uint64, rounds int) [32]byte {
	var buf [64]byte
	binary.LittleEndian.PutUint64(buf[:], seed)
	sum := sha256.Sum256(buf[:])
	for r := 0; r < rounds; r++ {
		copy(buf[:32], sum[:])
		sum = sha256.Sum256(buf[:])
	}
	return sum
}

// parallelHash splits chunks independent hash jobs across workers
// goroutines (a fixed pool). With workers = GOMAXPROCS the wall time drops
// roughly with the number of cores; with GOMAXPROCS=1 it cannot.
func parallelHash(chunks, rounds, workers int) byte {
	if workers < 1 {
		workers = 1
	}
	results := make([][32]byte, chunks)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Static striding: no shared counter, so the only thing that
			// limits speed-up is how many Ps the runtime has.
			for c := w; c < chunks; c += workers {
				results[c] = hashChunk(uint64(c), rounds)
			}
		}(w)
	}
	wg.Wait()
	var x byte
	for _, r := range results {
		x ^= r[0]
	}
	return x
}

func parallelWorkers() int { return runtime.GOMAXPROCS(0) }

// sha256Blocks hashes buf; on arm64 the sha2 instructions (the crypto
// feature of GOARM64) make this several times faster than the generic code.
func sha256Blocks(buf []byte) [32]byte { return sha256.Sum256(buf) }

// gcmSealer is AES-128-GCM with a fixed key, sealing buffers in place:
// AES and GHASH (PMULL) are the other crypto instructions a target may have.
type gcmSealer struct {
	aead  cipher.AEAD
	nonce []byte
	out   []byte
}

func newGCM(size int) *gcmSealer {
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(i)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &gcmSealer{aead: aead, nonce: make([]byte, aead.NonceSize()), out: make([]byte, 0, size+aead.Overhead())}
}

func (g *gcmSealer) seal(buf []byte) []byte {
	g.out = g.aead.Seal(g.out[:0], g.nonce, buf, nil)
	return g.out
}

// pingPong bounces a value between two goroutines over unbuffered
// channels n times: every hop is a park and a wake-up in the scheduler.
func pingPong(n int) int {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	<-pong // wait for the echo goroutine to finish
	return v
}

// fanOut sends items through one unbuffered channel to workers goroutines
// and gathers their results through another: contention on a channel plus
// goroutine hand-offs across Ps.
func fanOut(items, workers int) int {
	in, out := make(chan int), make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				out <- v * 2
			}
		}()
	}
	go func() {
		for i := 0; i < items; i++ {
			in <- i
		}
		close(in)
		wg.Wait()
		close(out)
	}()
	total := 0
	for v := range out {
		total += v
	}
	return total
}
