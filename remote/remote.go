// Package remote talks to a target: over SSH for devices, or directly for the
// "local" target. Both sit behind Device so deploy and run code is shared.
// This package holds the two devices, the pool and prewarming; each
// concern they rely on is a package of its own:
//
//   - sshconn: the SSH transport (ssh_config, keys and agent, known_hosts,
//     jump hosts, dial, keepalives);
//   - install: the install on the device (the names of its files, the
//     prepare, install and rollback scripts, streaming into them);
//   - send: the ways of sending a file (skip, elfz delta, patch delta,
//     stream, sftp), one Way each, tried in the order of one registry;
//   - delta and compress: what those ways encode with;
//   - run: running programs, over SSH or as a child process here;
//   - artifact, event and fault: the file deployed, the events reported
//     and the kinds of failure, shared by all of the above.
//
// A new way of sending a file is a Way in a file of its own in package
// send and one line in its registry (send/registry.go).
package remote

import (
	"context"
	"time"

	"armbench/remote/artifact"
	"armbench/remote/event"
	"armbench/remote/run"
)

// The events a deploy or a run reports (package event).
type (
	Event       = event.Event
	Step        = event.Step
	Progress    = event.Progress
	Output      = event.Output
	Reconnected = event.Reconnected
)

// File is a local artifact to deploy (package artifact).
type File = artifact.File

// Installed says where a deploy put the file on the device.
type Installed struct {
	Path      string // absolute path on the device
	SHA256    string
	Skipped   bool   // the device already had this exact file
	Previous  string // path of the kept previous binary ("" if none)
	Duration  time.Duration
	WireBytes int64
	// Delta says the device rebuilt the binary from the one it had and a
	// delta (zstd patch-from) of WireBytes bytes; the sha256 was checked
	// on the device as for a full upload.
	Delta bool
	// DeltaKind is how the delta was made: DeltaPatch (against the
	// installed binary) or DeltaELFZ (between the expanded forms, rebuilt
	// by the delta helper).
	DeltaKind string
	// NoDelta says why a redeploy over an older binary sent the whole
	// file ("" when it sent a delta or the device had no binary).
	NoDelta string
}

// Programs run on a device, and how they ended (package run).
type (
	Command    = run.Command
	ExitStatus = run.ExitStatus
	StopPolicy = run.StopPolicy
)

// Device is a connected target.
type Device interface {
	// Deploy installs f as name inside the target's deploy_dir, atomically.
	Deploy(ctx context.Context, f File, name string, emit func(Event)) (Installed, error)
	// Rollback restores name.prev over name.
	Rollback(ctx context.Context, name string) error
	// Run starts cmd and streams its output; cancelling ctx stops the
	// process on the device.
	Run(ctx context.Context, cmd Command, emit func(Event)) (ExitStatus, error)
	// Exec runs a short shell snippet and returns its stdout (for probes
	// like `uname -m`). The snippet must already be quoted.
	Exec(ctx context.Context, script string) ([]byte, error)
	// DeployDir is the absolute deploy directory on the device.
	DeployDir() string
	Close() error
}
