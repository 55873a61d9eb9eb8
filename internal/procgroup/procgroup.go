// Package procgroup runs a command together with everything it starts as
// one group that can be stopped as a whole: a build's go command with its
// compilers and linker, a local target's program with its children. On
// Unix the group is a process group; on Windows, a job object.
package procgroup

import (
	"os/exec"
	"sync"
	"time"
)

// cancel is the state a command's Cancel shares with Start: exec calls
// Cancel from its own goroutine, possibly before Start has put the
// command in its group, and a kill asked for then is done once it is.
type cancel struct {
	mu       sync.Mutex
	attached bool
	asked    bool
}

// Reap kills the group until none of its processes is left, or until d
// has passed: a kill is delivered asynchronously, and a process may have
// started a child in between.
func (g *Group) Reap(d time.Duration) {
	deadline := time.Now().Add(d)
	for g.Alive() && time.Now().Before(deadline) {
		_ = g.Kill()
		time.Sleep(2 * time.Millisecond)
	}
}

// Start starts cmd as the first process of a new group. Cancelling the
// context of a cmd made by exec.CommandContext kills the whole group.
// Close the group once it is done.
func Start(cmd *exec.Cmd) (*Group, error) {
	g := &Group{}
	prepare(cmd)
	if cmd.Cancel != nil { // set by CommandContext, which alone allows it
		cmd.Cancel = func() error {
			g.cancel.mu.Lock()
			defer g.cancel.mu.Unlock()
			g.cancel.asked = true
			if !g.cancel.attached {
				return nil // attach kills it
			}
			return g.Kill()
		}
	}
	if err := cmd.Start(); err != nil {
		g.Close()
		return nil, err
	}
	g.cancel.mu.Lock()
	defer g.cancel.mu.Unlock()
	if err := g.attach(cmd); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		g.Close()
		return nil, err
	}
	g.cancel.attached = true
	if g.cancel.asked {
		_ = g.Kill()
	}
	return g, nil
}
