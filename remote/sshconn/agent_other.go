//go:build !windows

package sshconn

import (
	"io"
	"net"
)

// defaultAgent is the agent used when SSH_AUTH_SOCK is unset: none.
const defaultAgent = ""

// dialAgent connects to an agent's Unix socket.
func dialAgent(addr string) (io.ReadWriteCloser, error) { return net.Dial("unix", addr) }
