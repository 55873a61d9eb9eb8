//go:build linux

// Command probe runs a workload on the device and watches it. armbench
// cross-compiles it for each target and deploys it once; the bench engine
// then runs every benchmark round through it:
//
//	probe [-interval 100ms] [-env K=V]… [-runner PROG] -- workload args…
//	probe -info
//
// It starts the workload, samples /proc/<pid>/stat and status, /proc/stat,
// /proc/loadavg, cpufreq, thermal zones and Raspberry Pi throttling at
// -interval, passes the workload's stdout and stderr through line by line
// (stderr carries GODEBUG=schedtrace output, parsed on the host), and
// times the workload (wall, rusage user/sys, peak RSS) here on the device
// so SSH never skews it. Everything goes to stdout as JSON lines (package
// wire). The exit status is the workload's.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"armbench/bench/probe/wire"
)

// clkTck is USER_HZ, the unit of /proc tick counters: 100 on every Linux
// architecture armbench targets (arm, arm64), and not queryable without cgo.
const clkTck = 100

// maxLine bounds a passed-through line: the host reads lines of at most
// 64 KiB, and a JSON-escaped line grows.
const maxLine = 16 << 10

type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") || strings.HasPrefix(v, "=") {
		return fmt.Errorf("-env %q: want KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// out serialises messages onto stdout; a failed write (the host went
// away) is remembered so the workload can be stopped.
type out struct {
	mu     sync.Mutex
	w      *bufio.Writer
	enc    *json.Encoder
	failed bool
	start  time.Time
}

func newOut(w io.Writer) *out {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &out{w: bw, enc: json.NewEncoder(bw), start: time.Now()}
}

func (o *out) send(m wire.Message) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed {
		return false
	}
	if m.T == 0 && m.Type != wire.TypeInfo && m.Type != wire.TypeStart {
		m.T = time.Since(o.start).Nanoseconds()
	}
	if err := o.enc.Encode(m); err != nil {
		o.failed = true
		return false
	}
	// Flush each message: the host shows samples live.
	if err := o.w.Flush(); err != nil {
		o.failed = true
		return false
	}
	return true
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	interval := fs.Duration("interval", 100*time.Millisecond, "sampling interval")
	info := fs.Bool("info", false, "print the device's facts as one JSON line and exit")
	runner := fs.String("runner", "", "program that runs the workload (e.g. qemu-aarch64), when the kernel cannot")
	var env envList
	fs.Var(&env, "env", "KEY=VALUE for the workload's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o := newOut(stdout)
	if *info {
		o.send(wire.Message{Type: wire.TypeInfo, Info: deviceInfo()})
		return 0
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "probe: no workload: probe [flags] -- program args…")
		return 2
	}
	if *interval < 10*time.Millisecond {
		fmt.Fprintf(stderr, "probe: -interval %v is below 10ms\n", *interval)
		return 2
	}
	return watch(o, fs.Args(), env, *runner, *interval)
}

func watch(o *out, argv []string, env []string, runner string, interval time.Duration) int {
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		o.send(wire.Message{Type: wire.TypeError, Error: msg})
		fmt.Fprintln(os.Stderr, "probe:", msg)
		return 125 // like env(1) and timeout(1): the tool failed, not the workload
	}
	full := argv
	if r := strings.Fields(runner); len(r) > 0 {
		full = append(r, argv...)
	}
	proc, stdoutPipe, stderrPipe, err := start(full, env)
	if err != nil && runner == "" && errors.Is(err, syscall.ENOEXEC) {
		// No binfmt_misc here (the probe itself runs under qemu-user
		// started by hand): qemu-user execs the host kernel, which cannot
		// run an ARM binary, so run the workload through qemu-user too.
		for _, q := range qemuNames() {
			if p, lerr := exec.LookPath(q); lerr == nil {
				full = append([]string{p}, argv...)
				proc, stdoutPipe, stderrPipe, err = start(full, env)
				break
			}
		}
	}
	if err != nil {
		return fail("start %s: %v", argv[0], err)
	}
	o.start = time.Now()
	pid := proc.Pid
	o.send(wire.Message{Type: wire.TypeStart, Start: &wire.Start{PID: pid, Argv: full, Interval: interval.Nanoseconds(), ClkTck: clkTck}})

	// Signals to the probe (ssh hang-up, Ctrl-C, cancel) go to the
	// workload's process group, so nothing is left running.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	var lines sync.WaitGroup
	lines.Add(2)
	go func() { defer lines.Done(); pass(o, stdoutPipe, "stdout", pid) }()
	go func() { defer lines.Done(); pass(o, stderrPipe, "stderr", pid) }()

	s := newSampler(pid)
	var waitStatus syscall.WaitStatus
	var ru syscall.Rusage
	exited := make(chan error, 1)
	go func() {
		// Wait for the pipes to drain before reaping, so /proc/<pid>
		// stays readable while the workload is alive and no output is
		// lost; wait4 gives the child's own rusage.
		lines.Wait()
		_, err := syscall.Wait4(pid, &waitStatus, 0, &ru)
		exited <- err
	}()
	samples := 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var werr error
loop:
	for {
		select {
		case werr = <-exited:
			break loop
		case sig := <-sigs:
			syscall.Kill(-pid, sig.(syscall.Signal))
		case <-tick.C:
			if p, ok := s.sample(samples); ok {
				samples++
				if !o.send(wire.Message{Type: wire.TypeProc, Proc: p}) {
					// The host is gone: stop the workload.
					syscall.Kill(-pid, syscall.SIGTERM)
				}
			}
		}
	}
	wall := time.Since(o.start)
	if werr != nil {
		return fail("wait %s: %v", argv[0], werr)
	}
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	ex := &wire.Exit{
		WallNs:      wall.Nanoseconds(),
		UserNs:      syscall.TimevalToNsec(ru.Utime),
		SysNs:       syscall.TimevalToNsec(ru.Stime),
		MaxRSS:      int64(ru.Maxrss) * 1024,
		VCtx:        int64(ru.Nvcsw),
		NVCtx:       int64(ru.Nivcsw),
		Samples:     samples,
		ProbeUserNs: syscall.TimevalToNsec(self.Utime),
		ProbeSysNs:  syscall.TimevalToNsec(self.Stime),
	}
	code := 0
	switch {
	case waitStatus.Signaled():
		ex.Code = -1
		ex.Signal = strings.TrimPrefix(strings.ToUpper(unix(waitStatus.Signal())), "SIG")
		code = 128 + int(waitStatus.Signal())
	default:
		ex.Code = waitStatus.ExitStatus()
		code = ex.Code
	}
	o.send(wire.Message{Type: wire.TypeExit, Exit: ex})
	return code
}

func unix(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGKILL:
		return "KILL"
	case syscall.SIGINT:
		return "INT"
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGSEGV:
		return "SEGV"
	case syscall.SIGABRT:
		return "ABRT"
	case syscall.SIGQUIT:
		return "QUIT"
	}
	return strconv.Itoa(int(s))
}

func qemuNames() []string {
	q := map[string]string{"arm64": "qemu-aarch64", "arm": "qemu-arm"}[runtime.GOARCH]
	if q == "" {
		return nil
	}
	return []string{q + "-static", q}
}

// start starts argv in its own process group with the probe's environment
// plus env. The child is reaped by the caller with wait4, not exec.Cmd.Wait,
// to get its rusage after the pipes drain.
func start(argv, env []string) (*os.Process, io.ReadCloser, io.ReadCloser, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, nil, err
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		if p, err := exec.LookPath(path); err == nil {
			path = p
		}
	}
	p, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   mergeEnv(os.Environ(), env),
		Files: []*os.File{nil, outW, errW},
		// Its own group, so signals reach whatever it starts; and killed with
		// the probe, so a SIGKILLed probe (ssh gone, a hard cancel) never
		// leaves a benchmark running on the device.
		Sys: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, nil, nil, err
	}
	return p, outR, errR, nil
}

// mergeEnv overrides base with extra, key by key.
func mergeEnv(base, extra []string) []string {
	keys := map[string]int{}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range append(append([]string(nil), base...), extra...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := keys[k]; ok {
			out[i] = kv
			continue
		}
		keys[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// pass sends each line of r as a line message.
func pass(o *out, r io.ReadCloser, stream string, pid int) {
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			text := strings.TrimRight(string(line), "\r\n")
			if !o.send(wire.Message{Type: wire.TypeLine, Stream: stream, Text: text}) {
				syscall.Kill(-pid, syscall.SIGTERM)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
	}
}

// sampler reads the workload's and the system's counters. Files found at
// start (cpufreq, thermal zones) are read by path each time.
type sampler struct {
	pid         int
	freqPaths   []string
	tempPaths   []string
	throttled   func() string
	throttleCmd bool // vcgencmd: a process per read, so read less often

	last     time.Time
	lastTick uint64
	lastCPU  [][2]uint64 // per CPU: busy, total
	buf      []byte
}

func newSampler(pid int) *sampler {
	// The workload starts at zero CPU ticks, so the first sample already
	// has a CPU share.
	s := &sampler{pid: pid, buf: make([]byte, 0, 8192), last: time.Now()}
	s.freqPaths, _ = filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_cur_freq")
	sort.Slice(s.freqPaths, func(i, j int) bool { return cpuNum(s.freqPaths[i]) < cpuNum(s.freqPaths[j]) })
	s.tempPaths, _ = filepath.Glob("/sys/class/thermal/thermal_zone[0-9]*/temp")
	s.throttled, s.throttleCmd = throttleReader()
	return s
}

func cpuNum(path string) int {
	for _, part := range strings.Split(path, "/") {
		if n, err := strconv.Atoi(strings.TrimPrefix(part, "cpu")); err == nil && strings.HasPrefix(part, "cpu") {
			return n
		}
	}
	return 0
}

// throttleReader finds how to read the Raspberry Pi throttle flags: the
// firmware's sysfs file on current kernels, else vcgencmd.
func throttleReader() (func() string, bool) {
	for _, p := range []string{"/sys/devices/platform/soc/soc:firmware/get_throttled", "/sys/devices/platform/firmware/get_throttled"} {
		if _, err := os.Stat(p); err == nil {
			return func() string {
				b, err := os.ReadFile(p)
				if err != nil {
					return ""
				}
				v := strings.TrimSpace(string(b))
				if n, err := strconv.ParseUint(v, 16, 64); err == nil {
					return "0x" + strconv.FormatUint(n, 16)
				}
				return v
			}, false
		}
	}
	if p, err := exec.LookPath("vcgencmd"); err == nil {
		return func() string {
			b, err := exec.Command(p, "get_throttled").Output()
			if err != nil {
				return ""
			}
			// "throttled=0x50005"
			_, v, _ := strings.Cut(strings.TrimSpace(string(b)), "=")
			return v
		}, true
	}
	return nil, false
}

func (s *sampler) read(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	s.buf = s.buf[:0]
	for {
		if len(s.buf) == cap(s.buf) {
			s.buf = append(s.buf, 0)[:len(s.buf)]
		}
		n, err := f.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil || n == 0 {
			return s.buf
		}
	}
}

func (s *sampler) sample(n int) (*wire.Proc, bool) {
	now := time.Now()
	p := &wire.Proc{}
	stat := s.read(fmt.Sprintf("/proc/%d/stat", s.pid))
	if stat == nil {
		return nil, false // gone
	}
	// Fields after the command name, which may contain spaces and ")".
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15, threads 20.
	if len(f) > 22 {
		p.UTime, _ = strconv.ParseUint(f[11], 10, 64)
		p.STime, _ = strconv.ParseUint(f[12], 10, 64)
		p.Threads, _ = strconv.Atoi(f[17])
		if f[0] == "Z" {
			return nil, false
		}
	}
	hasMemory := false
	for _, line := range strings.Split(string(s.read(fmt.Sprintf("/proc/%d/status", s.pid))), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "VmRSS":
			p.RSS, hasMemory = kb(v), true
		case "VmHWM":
			p.HWM = kb(v)
		}
	}
	if !hasMemory {
		// It exited between the two reads: a zombie has no address
		// space, and a sample of it would say it used no memory.
		return nil, false
	}
	// Context switches in status are per thread: add up the threads.
	if tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", s.pid)); err == nil {
		for _, t := range tasks {
			for _, line := range strings.Split(string(s.read(fmt.Sprintf("/proc/%d/task/%s/status", s.pid, t.Name()))), "\n") {
				if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
					x, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
					p.VCtx += x
				} else if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
					x, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
					p.NVCtx += x
				}
			}
		}
	}
	ticks := p.UTime + p.STime
	if !s.last.IsZero() {
		if dt := now.Sub(s.last).Seconds(); dt > 0 && ticks >= s.lastTick {
			p.CPU = round1(float64(ticks-s.lastTick) / clkTck / dt * 100)
		}
	}
	s.last, s.lastTick = now, ticks

	// /proc/stat: per-CPU busy share since the previous sample.
	var cpus [][2]uint64
	for _, line := range strings.Split(string(s.read("/proc/stat")), "\n") {
		if !strings.HasPrefix(line, "cpu") || strings.HasPrefix(line, "cpu ") {
			continue
		}
		fields := strings.Fields(line)
		var total, idle uint64
		for j, fv := range fields[1:] {
			if j >= 8 { // guest time is already in user
				break
			}
			x, _ := strconv.ParseUint(fv, 10, 64)
			total += x
			if j == 3 || j == 4 { // idle, iowait
				idle += x
			}
		}
		cpus = append(cpus, [2]uint64{total - idle, total})
	}
	if len(s.lastCPU) == len(cpus) {
		for j, c := range cpus {
			db, dt := c[0]-s.lastCPU[j][0], c[1]-s.lastCPU[j][1]
			busy := 0.0
			if dt > 0 && c[0] >= s.lastCPU[j][0] {
				busy = round1(float64(db) / float64(dt) * 100)
			}
			p.CPUBusy = append(p.CPUBusy, busy)
		}
	}
	s.lastCPU = cpus

	if la := strings.Fields(string(s.read("/proc/loadavg"))); len(la) >= 3 {
		for j := 0; j < 3; j++ {
			p.Load[j], _ = strconv.ParseFloat(la[j], 64)
		}
	}
	for _, fp := range s.freqPaths {
		v, _ := strconv.ParseInt(strings.TrimSpace(string(s.read(fp))), 10, 64)
		p.FreqKHz = append(p.FreqKHz, v)
	}
	for _, tp := range s.tempPaths {
		v, _ := strconv.ParseInt(strings.TrimSpace(string(s.read(tp))), 10, 64)
		p.TempMilli = append(p.TempMilli, v)
	}
	// vcgencmd costs a process: once a second is enough to catch
	// throttling, which the firmware latches ("has occurred" bits).
	if s.throttled != nil && (!s.throttleCmd || n%10 == 0) {
		p.Throttled = s.throttled()
	}
	return p, true
}

func kb(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	return n * 1024
}

func round1(x float64) float64 {
	return float64(int64(x*10+0.5)) / 10
}

// deviceInfo gathers what a stored run records about the device.
func deviceInfo() *wire.Info {
	in := &wire.Info{Cores: runtime.NumCPU()}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		in.Machine = cstr(u.Machine[:])
		in.Uname = strings.Join([]string{cstr(u.Sysname[:]), cstr(u.Release[:]), cstr(u.Version[:]), in.Machine}, " ")
	}
	for _, p := range []string{"/proc/device-tree/model", "/sys/firmware/devicetree/base/model"} {
		if b, err := os.ReadFile(p); err == nil {
			in.Model = strings.TrimRight(string(b), "\x00\n")
			break
		}
	}
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	cores := 0
	x86 := false
	for _, line := range strings.Split(string(cpuinfo), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			cores++
		case "Model":
			if in.Model == "" {
				in.Model = v
			}
		case "model name":
			if in.CPU == "" {
				in.CPU = v
			}
		case "vendor_id":
			x86 = true
		case "CPU part":
			if in.CPU == "" {
				in.CPU = "part " + v
			}
		}
	}
	if cores > 0 {
		in.Cores = cores
	}
	// qemu-user passes the host's /proc/cpuinfo through: an ARM binary
	// seeing an x86 CPU is emulated, and its timings say little about a
	// real device.
	in.Emulated = x86 && (runtime.GOARCH == "arm" || runtime.GOARCH == "arm64")
	if in.Model == "" && in.Emulated {
		in.Model = "qemu-user on " + in.CPU
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				in.MemTotal = kb(v)
			}
		}
	}
	if b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"); err == nil {
		in.Governor = strings.TrimSpace(string(b))
	}
	s := newSampler(os.Getpid())
	for _, fp := range s.freqPaths {
		v, _ := strconv.ParseInt(strings.TrimSpace(string(s.read(fp))), 10, 64)
		in.FreqKHz = append(in.FreqKHz, v)
	}
	for _, tp := range s.tempPaths {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(tp), "type")); err == nil {
			in.Thermal = append(in.Thermal, strings.TrimSpace(string(b)))
		}
	}
	if s.throttled != nil {
		in.Throttled = s.throttled()
	}
	return in
}

func cstr[T int8 | uint8](b []T) string {
	var out []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}
