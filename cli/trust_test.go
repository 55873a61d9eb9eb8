package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"armbench/internal/testdevice"
	"armbench/internal/testenv"
)

// newHostKey makes an ed25519 key pair at path with ssh-keygen and
// returns its public half.
func newHostKey(t *testing.T, kg, path string) ssh.PublicKey {
	t.Helper()
	os.Remove(path)
	os.Remove(path + ".pub")
	if out, err := exec.Command(kg, "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The goal of issue 21. A board reached only through a ProxyCommand
// (its HostName does not resolve; the command goes through a bastion with
// ssh -W), its key named with IdentitiesOnly beside a decoy default key,
// its host key under a HostKeyAlias in a hashed UserKnownHostsFile,
// deploys with no prompt. Re-flashed (a new host key), deploy refuses and
// explains; trust --replace, after the target's name is typed, swaps the
// key; the next deploy works.
//
// The user's ~/.ssh is faked through $HOME, which armbench reads; OpenSSH
// finds ~ in the password database instead, so the ssh run as the
// ProxyCommand is given all its files explicitly (-F /dev/null).
func TestGoalProxyCommandAliasHashedReflash(t *testing.T) {
	testenv.Slow(t, "cross-compiles the sample workload")
	sshBin := testenv.Tool(t, "ssh", "openssh-client")
	kg := testenv.Tool(t, "ssh-keygen", "openssh-client")
	chdirRepoCopy(t)
	d := testdevice.Start(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(d.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sshDir, "board_key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	decoy := newHostKey(t, kg, filepath.Join(sshDir, "id_ed25519")) // not authorized on the board
	kh := filepath.Join(sshDir, "boards_known_hosts")
	if err := os.WriteFile(kh, []byte("board-key "+string(ssh.MarshalAuthorizedKey(d.HostKey))), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(kg, "-H", "-f", kh).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -H: %v %s", err, out)
	}
	if b, _ := os.ReadFile(kh); !strings.HasPrefix(string(b), "|1|") {
		t.Fatalf("known_hosts not hashed: %q", b)
	}
	bastionKH := filepath.Join(t.TempDir(), "bastion_known_hosts")
	writeBastion := func(k ssh.PublicKey) {
		line := fmt.Sprintf("[127.0.0.1]:%d %s", d.Port, ssh.MarshalAuthorizedKey(k))
		if err := os.WriteFile(bastionKH, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeBastion(d.HostKey)
	conf := strings.Join([]string{
		"Host board",
		"  HostName board.invalid",
		"  Port " + strconv.Itoa(d.Port),
		"  User " + d.User,
		fmt.Sprintf("  ProxyCommand %s -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o IdentitiesOnly=yes -i %s -p %%p -W 127.0.0.1:%%p %%r@127.0.0.1",
			sshBin, bastionKH, d.KeyPath),
		"  IdentityFile ~/.ssh/board_key",
		"  IdentitiesOnly yes",
		"  HostKeyAlias board-key",
		"  UserKnownHostsFile ~/.ssh/boards_known_hosts",
		"  HashKnownHosts yes",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(sshDir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "targets.toml")
	targets := fmt.Sprintf("[project]\npkg = \"./examples/workload\"\n\n[[target]]\nname = \"board\"\nhost = \"board\"\ngoarch = \"arm64\"\ngoarm64 = \"v8.0\"\ndeploy_dir = %q\n", d.Target.DeployDir)
	if err := os.WriteFile(cfg, []byte(targets), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "deploy", "--config", cfg, "--target", "board", "--profile", "release")
	if code != exitOK {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(d.Log(), ssh.FingerprintSHA256(decoy)) {
		t.Error("the decoy default key was offered despite IdentitiesOnly")
	}

	// Re-flashed: a new host key. The bastion's own known_hosts learns it
	// (it is the same sshd here); the board's entry still has the old one.
	hostKeyPath := filepath.Join(d.Dir, "host_ed25519")
	if _, err := os.Stat(hostKeyPath); err != nil {
		t.Fatalf("harness host key: %v", err)
	}
	oldKey := d.HostKey
	newKey := newHostKey(t, kg, hostKeyPath)
	d.Restart()
	writeBastion(newKey)
	code, _, stderr = runCLI(t, "deploy", "--config", cfg, "--target", "board", "--profile", "release", "--no-build")
	if code == exitOK {
		t.Fatal("deploy accepted a changed host key")
	}
	for _, want := range []string{ssh.FingerprintSHA256(oldKey), ssh.FingerprintSHA256(newKey), "Re-flashing", "armbench trust --replace board"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("refusal lacks %q:\n%s", want, stderr)
		}
	}
	before, _ := os.ReadFile(kh)
	code, _, stderr = runCLIInput(t, "yes\n", "trust", "--replace", "board", "--config", cfg)
	if after, _ := os.ReadFile(kh); code != exitFailed || string(after) != string(before) {
		t.Fatalf("replace without the typed name: exit %d, %s; known_hosts %q", code, stderr, after)
	}
	code, stdout, stderr = runCLIInput(t, "board\n", "trust", "--replace", "board", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "removed hashed entry") || !strings.Contains(stdout, ssh.FingerprintSHA256(newKey)) {
		t.Fatalf("trust --replace: exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(kh)
	if f := strings.Fields(string(b)); len(f) != 3 || !strings.HasPrefix(f[0], "|1|") || f[2] != strings.Fields(string(ssh.MarshalAuthorizedKey(newKey)))[1] {
		t.Errorf("known_hosts after replace: %q", b)
	}
	if out, err := exec.Command(kg, "-F", "board-key", "-f", kh).CombinedOutput(); err != nil {
		t.Errorf("ssh-keygen -F board-key: %v %s", err, out)
	}
	code, stdout, stderr = runCLI(t, "deploy", "--config", cfg, "--target", "board", "--profile", "release", "--no-build")
	if code != exitOK {
		t.Fatalf("deploy after replace: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
