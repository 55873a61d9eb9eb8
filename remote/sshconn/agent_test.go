package sshconn

import (
	"runtime"
	"testing"
)

// Which agent the keys come from: IdentityAgent's forms, then
// SSH_AUTH_SOCK, then (Windows only) OpenSSH for Windows' pipe.
func TestAgentAddr(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "/run/agent.sock")
	t.Setenv("OP_AGENT", "/op/agent.sock")
	for _, tc := range []struct {
		identityAgent string
		noAgent       bool
		want          string
	}{
		{"", false, "/run/agent.sock"},
		{"", true, ""},
		{"none", false, ""},
		{"SSH_AUTH_SOCK", false, "/run/agent.sock"},
		{"$OP_AGENT", false, "/op/agent.sock"},
		{"${OP_AGENT}", false, "/op/agent.sock"},
		{"/secretive/socket.ssh", false, "/secretive/socket.ssh"},
		{`\\.\pipe\my-agent`, false, `\\.\pipe\my-agent`},
	} {
		e := Endpoint{identityAgent: tc.identityAgent}
		if got := e.agentAddr(Config{NoAgent: tc.noAgent}); got != tc.want {
			t.Errorf("IdentityAgent %q (NoAgent %v): %q, want %q", tc.identityAgent, tc.noAgent, got, tc.want)
		}
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	want := ""
	if runtime.GOOS == "windows" {
		want = `\\.\pipe\openssh-ssh-agent`
	}
	if got := (Endpoint{}).agentAddr(Config{}); got != want {
		t.Errorf("no SSH_AUTH_SOCK: %q, want %q", got, want)
	}
}
