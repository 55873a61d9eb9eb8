// Package wire is the probe's output format: JSON lines, one Message per
// line, each with a "type". The probe (on the device) writes them; the bench
// engine (on the host) reads them. It lives apart from both so the probe
// stays a small, standard-library-only binary.
package wire

// Message types.
const (
	TypeInfo  = "info"  // device facts (probe -info)
	TypeStart = "start" // the workload started
	TypeLine  = "line"  // a line the workload printed (stdout or stderr)
	TypeProc  = "proc"  // a /proc and /sys sample
	TypeExit  = "exit"  // the workload ended; the last message
	TypeError = "error" // the probe could not do its job
)

// Message is one line of probe output. Which fields are set depends on
// Type; the rest are omitted.
type Message struct {
	Type string `json:"type"`
	// T is nanoseconds since the workload started (monotonic, device
	// clock), so timing never includes the SSH round trip.
	T int64 `json:"t"`

	// line
	Stream string `json:"stream,omitempty"` // "stdout" | "stderr"
	Text   string `json:"text,omitempty"`

	Start *Start `json:"start,omitempty"`
	Proc  *Proc  `json:"proc,omitempty"`
	Exit  *Exit  `json:"exit,omitempty"`
	Info  *Info  `json:"info,omitempty"`
	Error string `json:"error,omitempty"`
}

// Start says what was started.
type Start struct {
	PID      int      `json:"pid"`
	Argv     []string `json:"argv"`
	Interval int64    `json:"interval_ns"`
	ClkTck   int      `json:"clk_tck"`
}

// Proc is one sample of the workload process and the system.
type Proc struct {
	// The workload process (all its threads).
	UTime   uint64 `json:"utime"` // clock ticks
	STime   uint64 `json:"stime"`
	RSS     int64  `json:"rss"` // bytes
	HWM     int64  `json:"hwm"` // peak RSS so far, bytes
	Threads int    `json:"threads"`
	VCtx    uint64 `json:"vctx"`  // voluntary context switches, all threads
	NVCtx   uint64 `json:"nvctx"` // involuntary
	// CPU is the process's CPU use since the previous sample, in percent
	// of one core (200 = two cores busy).
	CPU float64 `json:"cpu"`

	// The system.
	CPUBusy   []float64  `json:"cpu_busy,omitempty"` // per CPU, % busy since the previous sample
	Load      [3]float64 `json:"load"`
	FreqKHz   []int64    `json:"freq_khz,omitempty"` // per CPU with cpufreq
	TempMilli []int64    `json:"temp_mc,omitempty"`  // per thermal zone, millidegrees C
	// Throttled is `vcgencmd get_throttled` (Raspberry Pi), e.g. "0x50005";
	// "" where the device has none.
	Throttled string `json:"throttled,omitempty"`
}

// Exit is how the workload ended, measured on the device.
type Exit struct {
	Code    int    `json:"code"`
	Signal  string `json:"signal,omitempty"`
	WallNs  int64  `json:"wall_ns"`
	UserNs  int64  `json:"user_ns"`
	SysNs   int64  `json:"sys_ns"`
	MaxRSS  int64  `json:"max_rss"` // bytes (wait4 rusage)
	VCtx    int64  `json:"vctx"`
	NVCtx   int64  `json:"nvctx"`
	Samples int    `json:"samples"`
	// The probe's own CPU time while it watched, to show its cost.
	ProbeUserNs int64 `json:"probe_user_ns"`
	ProbeSysNs  int64 `json:"probe_sys_ns"`
}

// Info describes the device.
type Info struct {
	Uname     string   `json:"uname"`   // sysname release version machine
	Machine   string   `json:"machine"` // uname -m
	Model     string   `json:"model"`   // device-tree model or cpuinfo
	CPU       string   `json:"cpu,omitempty"`
	Cores     int      `json:"cores"`
	MemTotal  int64    `json:"mem_total"` // bytes
	Governor  string   `json:"governor,omitempty"`
	FreqKHz   []int64  `json:"freq_khz,omitempty"`
	Thermal   []string `json:"thermal,omitempty"` // zone types
	Throttled string   `json:"throttled,omitempty"`
	Emulated  bool     `json:"emulated,omitempty"` // running under qemu-user
}
