package codec

import (
	"bytes"
	"testing"
)

// FuzzExpandContract: no input makes Expand, ExpandedSize or Contract
// panic, and what Expand accepts contracts back to its input when it is
// reproducible.
// Seeds in testdata/fuzz are small ELF files (hand-made and cut from the
// tiny program's builds) and expanded forms.
func FuzzExpandContract(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	f.Add([]byte(Magic + "\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00abcd"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		Contract(bytes.NewReader(in), &out)
		ExpandedSize(bytes.NewReader(in), int64(len(in)))
		x, err := Expand(in)
		if err != nil {
			return
		}
		out.Reset()
		err = Contract(bytes.NewReader(x), &out)
		if Reproducible(in) {
			if err != nil || !bytes.Equal(out.Bytes(), in) {
				t.Fatalf("reproducible input: contract %v, %d bytes back of %d", err, out.Len(), len(in))
			}
		}
	})
}
