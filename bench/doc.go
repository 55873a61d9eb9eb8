// Package bench runs benchmarks on a device and compares profiles.
//
// A session (Execute) builds the probe (package bench/probe, from source
// embedded here) and each profile's binary, deploys them, reads the
// device's facts, then runs warmup+count rounds interleaved across the
// profiles (A B A B …). Every round runs through the probe on the device,
// which times the workload there and streams its output and /proc samples
// back; the workload's GODEBUG=schedtrace lines become SchedSamples. The
// events (Phase, Building, Deploying, RunStarted, Line, Sched, Proc,
// RunDone, Finished) drive the TUI and the CLI alike.
//
// Results are files: Run.Save writes .armbench/runs/<id>/run.json with
// every profile's plan, artifact, round summaries and flags, the raw
// benchmark text per profile (<profile>.txt, which benchstat reads with
// BenchstatFlags) and the samples (<profile>.samples.jsonl). Compare turns
// stored runs into a Table with benchstat's numbers: Stats uses x/perf's
// benchfmt, benchproc and benchmath exactly as cmd/benchstat does.
package bench
