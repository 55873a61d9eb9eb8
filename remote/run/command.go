// Package run runs programs on a device: the wrapper script that
// reports the program's PID and execs it with its environment, runner and
// arguments quoted, the stop policy a cancelled run follows (a signal to
// the process group, then KILL), the PID file that lets a later command
// stop a program a dropped link lost, and the running itself, over an SSH
// session or as a child process of this host.
package run

import "time"

// Command is a program to run on the device.
type Command struct {
	Path string   // program; relative paths are taken inside deploy_dir
	Args []string // each shell-quoted on the device
	Env  []string // KEY=VALUE, passed as `env K=V … prog`, quoted
	Dir  string   // working directory; "" = deploy_dir
	// Stop says how cancelling Run ends the program; the zero value is
	// SIGTERM, then SIGKILL 2 s later.
	Stop StopPolicy
	// PIDFile, when set, is where the device records the program's PID,
	// process group and start time (relative: inside deploy_dir), so
	// StopLeftover can stop it should this Run lose it (a dropped link).
	PIDFile string
}

// ExitStatus is how a remote command ended.
type ExitStatus struct {
	Code     int
	Signal   string
	Duration time.Duration
}
