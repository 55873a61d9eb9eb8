package install

import (
	"strings"
	"testing"
	"time"
)

func TestParsePreparedNeedsTheWholeAnswer(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	now := time.Now()
	ps, ok := ParsePrepared([]byte("dir /x\nsha 0 "+sum+"  -\nprev 0\nsha 1 -\nsha 7 "+sum+"\navail 42\nprepared\n"), 2, now)
	if !ok || ps[0].SHA != sum || !ps[0].HasPrev || ps[1].SHA != "" || ps[1].HasPrev || ps[0].AvailKB != 42 || ps[1].AvailKB != 42 {
		t.Errorf("parsed %+v ok=%v", ps, ok)
	}
	if _, ok := ParsePrepared([]byte("sha 0 "+sum+"\navail 42\n"), 1, now); ok {
		t.Error("an answer cut before its end was taken")
	}
	if ps, ok := ParsePrepared([]byte("sha 0 -\navail ?\nprepared\n"), 1, now); !ok || ps[0].AvailKB != -1 {
		t.Errorf("unknown free space: %+v %v", ps, ok)
	}
}
