package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// SchedSample is one report of the Go scheduler, as printed by a program
// run with GODEBUG=schedtrace=N (and, with scheddetail=1, its per-P, per-M
// and per-G lines).
//
// The runtime has printed two formats of the summary line:
//
//	Go ≤ 1.24: SCHED 1004ms: gomaxprocs=4 idleprocs=4 threads=6 spinningthreads=0 needspinning=0 idlethreads=3 runqueue=0 [0 0 0 0]
//	Go ≥ 1.25: SCHED 1004ms: gomaxprocs=4 … runqueue=0 [ 0 0 0 0 ] schedticks=[ 12 3 0 0 ]
//
// and older releases lack needspinning. Fields a format does not print stay
// zero; Has* says whether they were present.
type SchedSample struct {
	// At is the time since the program's runtime started (the "1004ms").
	At time.Duration `json:"at"`

	GOMAXPROCS      int `json:"gomaxprocs"`
	IdleProcs       int `json:"idleprocs"`
	Threads         int `json:"threads"`
	SpinningThreads int `json:"spinningthreads"`
	NeedSpinning    int `json:"needspinning"`
	IdleThreads     int `json:"idlethreads"`
	// RunQueue is the global run queue length.
	RunQueue int `json:"runqueue"`
	// LocalRunQueues are the per-P run queue lengths, in P order.
	LocalRunQueues []int `json:"local,omitempty"`
	// SchedTicks are the per-P scheduler tick counters (Go ≥ 1.25).
	SchedTicks []int64 `json:"schedticks,omitempty"`

	HasNeedSpinning bool `json:"has_needspinning,omitempty"`
	// Bracketed says the per-P queues were printed with inner spaces
	// ("[ 0 0 ]", Go ≥ 1.25) rather than "[0 0]".
	Bracketed bool `json:"bracketed,omitempty"`

	// Detail holds the scheddetail=1 part, nil without it.
	Detail *SchedDetail `json:"detail,omitempty"`
}

// SchedDetail is what GODEBUG=scheddetail=1 adds to a report.
type SchedDetail struct {
	GCWaiting    bool     `json:"gcwaiting"`
	NMIdleLocked int      `json:"nmidlelocked"`
	StopWait     int      `json:"stopwait"`
	SysmonWait   bool     `json:"sysmonwait"`
	Ps           []PState `json:"ps,omitempty"`
	Ms           []MState `json:"ms,omitempty"`
	Gs           []GState `json:"gs,omitempty"`
}

// PState is one "  P0: status=1 schedtick=2 …" line. M is -1 when the P
// has no M ("m=nil", or "m=-1" in old releases).
type PState struct {
	ID          int   `json:"id"`
	Status      int   `json:"status"`
	SchedTick   int64 `json:"schedtick"`
	SyscallTick int64 `json:"syscalltick"`
	M           int   `json:"m"`
	RunqSize    int   `json:"runqsize"`
	GFreeCnt    int   `json:"gfreecnt"`
	TimersLen   int   `json:"timerslen"`
}

// MState is one "  M3: p=nil curg=nil …" line. P, CurG and LockedG are -1
// for nil.
type MState struct {
	ID         int    `json:"id"`
	P          int    `json:"p"`
	CurG       int64  `json:"curg"`
	Mallocing  int    `json:"mallocing"`
	Throwing   int    `json:"throwing"`
	PreemptOff string `json:"preemptoff,omitempty"`
	Locks      int    `json:"locks"`
	Dying      int    `json:"dying"`
	Spinning   bool   `json:"spinning"`
	Blocked    bool   `json:"blocked"`
	LockedG    int64  `json:"lockedg"`
}

// GState is one "  G14: status=4(chan receive) m=nil lockedm=nil" line.
// M and LockedM are -1 for nil.
type GState struct {
	ID         int64  `json:"id"`
	Status     int    `json:"status"`
	WaitReason string `json:"waitreason,omitempty"`
	M          int    `json:"m"`
	LockedM    int    `json:"lockedm"`
}

// LocalRunQueueTotal is the sum of the per-P run queue lengths (from the
// P lines' runqsize with scheddetail).
func (s SchedSample) LocalRunQueueTotal() int {
	n := 0
	for _, q := range s.LocalRunQueues {
		n += q
	}
	if len(s.LocalRunQueues) == 0 && s.Detail != nil {
		for _, p := range s.Detail.Ps {
			n += p.RunqSize
		}
	}
	return n
}

// String prints s as the runtime would: in the Go ≥ 1.25 format when it has
// schedticks or was bracketed that way, else the older one; with the
// scheddetail lines when it has them. Parsing the result gives s back.
func (s SchedSample) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SCHED %dms: gomaxprocs=%d idleprocs=%d threads=%d spinningthreads=%d",
		s.At.Milliseconds(), s.GOMAXPROCS, s.IdleProcs, s.Threads, s.SpinningThreads)
	if s.HasNeedSpinning {
		fmt.Fprintf(&b, " needspinning=%d", s.NeedSpinning)
	}
	fmt.Fprintf(&b, " idlethreads=%d runqueue=%d", s.IdleThreads, s.RunQueue)
	if d := s.Detail; d != nil {
		fmt.Fprintf(&b, " gcwaiting=%t nmidlelocked=%d stopwait=%d sysmonwait=%t", d.GCWaiting, d.NMIdleLocked, d.StopWait, d.SysmonWait)
		for _, p := range d.Ps {
			fmt.Fprintf(&b, "\n  P%d: status=%d schedtick=%d syscalltick=%d m=%s runqsize=%d gfreecnt=%d timerslen=%d",
				p.ID, p.Status, p.SchedTick, p.SyscallTick, nilInt(int64(p.M)), p.RunqSize, p.GFreeCnt, p.TimersLen)
		}
		for _, m := range d.Ms {
			fmt.Fprintf(&b, "\n  M%d: p=%s curg=%s mallocing=%d throwing=%d preemptoff=%s locks=%d dying=%d spinning=%t blocked=%t lockedg=%s",
				m.ID, nilInt(int64(m.P)), nilInt(m.CurG), m.Mallocing, m.Throwing, m.PreemptOff, m.Locks, m.Dying, m.Spinning, m.Blocked, nilInt(m.LockedG))
		}
		for _, g := range d.Gs {
			fmt.Fprintf(&b, "\n  G%d: status=%d(%s) m=%s lockedm=%s", g.ID, g.Status, g.WaitReason, nilInt(int64(g.M)), nilInt(int64(g.LockedM)))
		}
		return b.String()
	}
	if s.LocalRunQueues != nil {
		b.WriteString(" ")
		b.WriteString(formatList(s.LocalRunQueues, s.Bracketed))
	}
	if s.SchedTicks != nil {
		b.WriteString(" schedticks=")
		b.WriteString(formatList(s.SchedTicks, true))
	}
	return b.String()
}

func formatList[T int | int64](xs []T, spaced bool) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 || spaced {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(int64(x), 10))
	}
	if spaced {
		b.WriteByte(' ')
	}
	b.WriteByte(']')
	return b.String()
}

func nilInt(v int64) string {
	if v < 0 {
		return "nil"
	}
	return strconv.FormatInt(v, 10)
}

// errNotSched says a line is not a schedtrace line at all (as opposed to a
// damaged one).
var errNotSched = errors.New("not a schedtrace line")

// ParseSchedLine parses one "SCHED …" summary line. The line may carry
// other output before "SCHED " (stderr is shared, and the runtime's print
// is not atomic with the program's own writes). A detailed summary line
// (scheddetail=1) returns a sample whose Detail is set but has no P, M or
// G lines yet.
func ParseSchedLine(line string) (SchedSample, error) {
	var s SchedSample
	i := strings.Index(line, "SCHED ")
	if i < 0 {
		return s, errNotSched
	}
	rest := line[i+len("SCHED "):]
	colon := strings.Index(rest, "ms:")
	if colon <= 0 {
		return s, errNotSched
	}
	ms, err := strconv.ParseInt(rest[:colon], 10, 64)
	if err != nil || ms < 0 || ms > int64(time.Duration(1<<62)/time.Millisecond) {
		return s, errNotSched
	}
	s.At = time.Duration(ms) * time.Millisecond
	fields := strings.Fields(rest[colon+len("ms:"):])
	p := schedLineParser{s: &s, line: line, seen: map[string]bool{}}
	for k := 0; k < len(fields); k++ {
		f := fields[k]
		if !strings.HasPrefix(f, "[") && !strings.HasPrefix(f, "schedticks=[") {
			if err := p.keyValue(f); err != nil {
				return s, err
			}
			continue
		}
		items, last, err := bracketList(fields, k)
		if err != nil {
			return s, fmt.Errorf("%w in %q", err, line)
		}
		k = last
		if err := p.list(f, items); err != nil {
			return s, err
		}
	}
	if !p.seen["gomaxprocs"] {
		return s, errNotSched
	}
	if p.detail != nil && s.LocalRunQueues == nil && s.SchedTicks == nil {
		s.Detail = p.detail
	}
	return s, nil
}

// schedLineParser fills a SchedSample from the fields of one SCHED line.
type schedLineParser struct {
	s      *SchedSample
	line   string
	seen   map[string]bool
	detail *SchedDetail // the scheddetail header's extra counters
}

// bracketList collects the list that starts at fields[k], in either the
// "[0 0]" or the "[ 0 0 ]" form, and returns the index of its last field.
func bracketList(fields []string, k int) (items []string, last int, err error) {
	inner := strings.TrimPrefix(strings.TrimPrefix(fields[k], "schedticks="), "[")
	for {
		var closed bool
		inner, closed = strings.CutSuffix(inner, "]")
		if inner != "" {
			items = append(items, inner)
		}
		if closed {
			return items, k, nil
		}
		k++
		if k >= len(fields) {
			return nil, 0, errors.New("schedtrace: unterminated [")
		}
		inner = fields[k]
	}
}

// list stores a bracketed list: schedticks=[…], or the per-P run queues.
func (p *schedLineParser) list(first string, items []string) error {
	s := p.s
	if strings.HasPrefix(first, "schedticks=") {
		if s.SchedTicks != nil {
			return fmt.Errorf("schedtrace: schedticks twice in %q", p.line)
		}
		s.SchedTicks = make([]int64, 0, len(items))
		for _, it := range items {
			v, err := strconv.ParseInt(it, 10, 64)
			if err != nil {
				return fmt.Errorf("schedtrace: schedticks: %q is not a number", it)
			}
			s.SchedTicks = append(s.SchedTicks, v)
		}
		return nil
	}
	if s.LocalRunQueues != nil {
		return fmt.Errorf("schedtrace: two run queue lists in %q", p.line)
	}
	s.Bracketed = first == "["
	s.LocalRunQueues = make([]int, 0, len(items))
	for _, it := range items {
		v, err := atoi(it)
		if err != nil {
			return fmt.Errorf("schedtrace: per-P run queue: %w", err)
		}
		s.LocalRunQueues = append(s.LocalRunQueues, v)
	}
	return nil
}

// keyValue stores one key=value field.
func (p *schedLineParser) keyValue(f string) error {
	key, val, ok := strings.Cut(f, "=")
	if !ok {
		return fmt.Errorf("schedtrace: unexpected %q in %q", f, p.line)
	}
	if p.seen[key] {
		return fmt.Errorf("schedtrace: %s twice in %q", key, p.line)
	}
	p.seen[key] = true
	if key == "gcwaiting" || key == "sysmonwait" {
		b, err := parseBool(val)
		if err != nil {
			return fmt.Errorf("schedtrace: %s: %w", key, err)
		}
		if key == "gcwaiting" {
			p.detailed().GCWaiting = b
		} else {
			p.detailed().SysmonWait = b
		}
		return nil
	}
	dst := p.intField(key)
	if dst == nil {
		return nil // a key a future release adds: ignore it rather than lose the sample
	}
	v, err := atoi(val)
	if err != nil {
		return fmt.Errorf("schedtrace: %s: %w", key, err)
	}
	*dst = v
	return nil
}

// intField is where the number of key goes (nil for an unknown key).
func (p *schedLineParser) intField(key string) *int {
	s := p.s
	switch key {
	case "gomaxprocs":
		return &s.GOMAXPROCS
	case "idleprocs":
		return &s.IdleProcs
	case "threads":
		return &s.Threads
	case "spinningthreads":
		return &s.SpinningThreads
	case "needspinning":
		s.HasNeedSpinning = true
		return &s.NeedSpinning
	case "idlethreads":
		return &s.IdleThreads
	case "runqueue":
		return &s.RunQueue
	case "nmidlelocked":
		return &p.detailed().NMIdleLocked
	case "stopwait":
		return &p.detailed().StopWait
	}
	return nil
}

// detailed is the scheddetail part of the sample, made on first use.
func (p *schedLineParser) detailed() *SchedDetail {
	if p.detail == nil {
		p.detail = &SchedDetail{}
	}
	return p.detail
}

func atoi(s string) (int, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return int(v), nil
}

// atoiNil reads a number that the runtime prints as "nil" (or -1 in old
// releases) when absent.
func atoiNil(s string) (int64, error) {
	if s == "nil" {
		return -1, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -1 {
		return 0, fmt.Errorf("%q is not a number or nil", s)
	}
	return v, nil
}

func parseBool(s string) (bool, error) {
	switch s {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// keyValues splits the "k=v k=v" tail of a detail line. A word without "="
// continues the previous value, because some values contain spaces
// ("preemptoff=GC worker init", "status=4(chan receive)").
func keyValues(s string) ([][2]string, error) {
	var kvs [][2]string
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			if len(kvs) == 0 {
				return nil, fmt.Errorf("unexpected %q", f)
			}
			kvs[len(kvs)-1][1] += " " + f
			continue
		}
		kvs = append(kvs, [2]string{k, v})
	}
	return kvs, nil
}

// parseDetailLine parses a "  P0: …", "  M3: …" or "  G14: …" line into d.
func parseDetailLine(line string, d *SchedDetail) error {
	t := strings.TrimLeft(line, " \t")
	if len(t) < 3 || (t[0] != 'P' && t[0] != 'M' && t[0] != 'G') {
		return errNotSched
	}
	colon := strings.Index(t, ": ")
	if colon < 2 {
		return errNotSched
	}
	id, err := strconv.ParseInt(t[1:colon], 10, 64)
	if err != nil || id < 0 {
		return errNotSched
	}
	kvs, err := keyValues(t[colon+2:])
	if err != nil {
		return fmt.Errorf("schedtrace %c%d: %w", t[0], id, err)
	}
	if t[0] != 'G' && id > 1<<30 {
		return errNotSched
	}
	var k, v string
	switch t[0] {
	case 'P':
		var p PState
		if p, k, v, err = parsePState(int(id), kvs); err == nil {
			d.Ps = append(d.Ps, p)
		}
	case 'M':
		var m MState
		if m, k, v, err = parseMState(int(id), kvs); err == nil {
			d.Ms = append(d.Ms, m)
		}
	case 'G':
		var g GState
		if g, k, v, err = parseGState(id, kvs); err == nil {
			d.Gs = append(d.Gs, g)
		}
	}
	if err != nil {
		return fmt.Errorf("schedtrace %c%d: %s=%s: %w", t[0], id, k, v, err)
	}
	return nil
}

// parsePState reads a P's fields; on error it names the bad pair.
func parsePState(id int, kvs [][2]string) (p PState, k, v string, err error) {
	p = PState{ID: id, M: -1}
	for _, kv := range kvs {
		k, v = kv[0], kv[1]
		switch k {
		case "status":
			p.Status, err = atoi(v)
		case "schedtick":
			p.SchedTick, err = strconv.ParseInt(v, 10, 64)
		case "syscalltick":
			p.SyscallTick, err = strconv.ParseInt(v, 10, 64)
		case "m":
			var m int64
			m, err = atoiNil(v)
			p.M = int(m)
		case "runqsize":
			p.RunqSize, err = atoi(v)
		case "gfreecnt":
			p.GFreeCnt, err = atoi(v)
		case "timerslen":
			p.TimersLen, err = atoi(v)
		}
		if err != nil {
			return p, k, v, err
		}
	}
	return p, "", "", nil
}

// parseMState reads an M's fields; on error it names the bad pair.
func parseMState(id int, kvs [][2]string) (m MState, k, v string, err error) {
	m = MState{ID: id, P: -1, CurG: -1, LockedG: -1}
	for _, kv := range kvs {
		k, v = kv[0], kv[1]
		var n int64
		switch k {
		case "p":
			n, err = atoiNil(v)
			m.P = int(n)
		case "curg":
			m.CurG, err = atoiNil(v)
		case "mallocing":
			m.Mallocing, err = atoi(v)
		case "throwing":
			m.Throwing, err = atoi(v)
		case "preemptoff":
			m.PreemptOff = v
		case "locks":
			m.Locks, err = atoi(v)
		case "dying":
			m.Dying, err = atoi(v)
		case "spinning":
			m.Spinning, err = parseBool(v)
		case "blocked":
			m.Blocked, err = parseBool(v)
		case "lockedg":
			m.LockedG, err = atoiNil(v)
		}
		if err != nil {
			return m, k, v, err
		}
	}
	return m, "", "", nil
}

// parseGState reads a G's fields; on error it names the bad pair.
func parseGState(id int64, kvs [][2]string) (g GState, k, v string, err error) {
	g = GState{ID: id, M: -1, LockedM: -1}
	for _, kv := range kvs {
		k, v = kv[0], kv[1]
		var n int64
		switch k {
		case "status":
			g.Status, g.WaitReason, err = goroutineStatus(v)
		case "m":
			n, err = atoiNil(v)
			g.M = int(n)
		case "lockedm":
			n, err = atoiNil(v)
			g.LockedM = int(n)
		}
		if err != nil {
			return g, k, v, err
		}
	}
	return g, "", "", nil
}

// goroutineStatus reads "4" or "4(chan receive)".
func goroutineStatus(v string) (int, string, error) {
	num, reason, hasReason := strings.Cut(v, "(")
	if hasReason {
		var closed bool
		if reason, closed = strings.CutSuffix(reason, ")"); !closed {
			return 0, "", errors.New("unbalanced parenthesis")
		}
	}
	status, err := atoi(num)
	return status, reason, err
}

// SchedParser turns a stream of stderr lines into SchedSamples. Lines that
// are not schedtrace output are left to the caller (Line reports them as
// not consumed), so a program's own stderr still reaches the user.
//
// A plain report is complete on its line; a scheddetail report is complete
// when the next non-detail line arrives, or at Flush.
type SchedParser struct {
	pending *SchedSample
	// Errors counts damaged schedtrace lines (they are passed through as
	// not consumed).
	Errors int
}

// Line consumes one line (without its newline). It returns the samples the
// line completed (usually none or one) and whether the line was schedtrace
// output.
func (p *SchedParser) Line(line string) (done []SchedSample, consumed bool) {
	if p.pending != nil && strings.HasPrefix(line, "  ") {
		err := parseDetailLine(line, p.pending.Detail)
		if err == nil {
			return nil, true
		}
		if !errors.Is(err, errNotSched) {
			p.Errors++
		}
	}
	s, err := ParseSchedLine(line)
	if err != nil {
		if !errors.Is(err, errNotSched) {
			p.Errors++
		}
		if p.pending != nil && !strings.HasPrefix(line, "  ") {
			done = append(done, *p.pending)
			p.pending = nil
		}
		return done, false
	}
	if p.pending != nil {
		done = append(done, *p.pending)
		p.pending = nil
	}
	if s.Detail != nil {
		p.pending = &s
		return done, true
	}
	return append(done, s), true
}

// Flush returns the report still waiting for more detail lines, if any.
func (p *SchedParser) Flush() (SchedSample, bool) {
	if p.pending == nil {
		return SchedSample{}, false
	}
	s := *p.pending
	p.pending = nil
	return s, true
}

// ParseSchedtrace reads all schedtrace reports in r, skipping other lines.
func ParseSchedtrace(r io.Reader) ([]SchedSample, error) {
	var p SchedParser
	var out []SchedSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		done, _ := p.Line(strings.TrimRight(sc.Text(), "\r"))
		out = append(out, done...)
	}
	if s, ok := p.Flush(); ok {
		out = append(out, s)
	}
	return out, sc.Err()
}
