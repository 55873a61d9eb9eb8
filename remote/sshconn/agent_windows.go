//go:build windows

package sshconn

import (
	"io"
	"net"
	"os"
	"strings"
)

// defaultAgent is OpenSSH for Windows' agent, used when SSH_AUTH_SOCK is
// unset.
const defaultAgent = `\\.\pipe\openssh-ssh-agent`

// dialAgent connects to an agent: a named pipe (OpenSSH for Windows,
// or one IdentityAgent names), else a Unix socket (Windows 10 has them;
// some agents listen on one). The agent protocol is request and answer,
// so plain blocking file I/O on the pipe is enough.
func dialAgent(addr string) (io.ReadWriteCloser, error) {
	if strings.HasPrefix(addr, `\\.\pipe\`) || strings.HasPrefix(addr, `//./pipe/`) {
		return os.OpenFile(addr, os.O_RDWR, 0)
	}
	return net.Dial("unix", addr)
}
