package sshconn

import (
	"bufio"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"armbench/internal/testenv"
)

// TestResolveMatchesOpenSSH resolves every config of testdata/sshconfig
// with armbench and with `ssh -G -F file`, for the hosts each names on
// its "# query:" lines, and compares every field armbench uses. @DIR@ in
// the files is the folder they are copied to (Include, Match exec).
//
// OpenSSH finds ~ in the password database, not $HOME: the test sets
// HOME to the password database's home so both expand ~ alike.
func TestResolveMatchesOpenSSH(t *testing.T) {
	ssh := testenv.Tool(t, "ssh", "openssh-client")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", u.HomeDir)
	dir := copyCorpus(t, "testdata/sshconfig")
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("corpus has %d configs, want at least 20", len(files))
	}
	queries := 0
	for _, f := range files {
		for _, q := range corpusQueries(t, f) {
			queries++
			name := filepath.Base(f) + "/" + strings.Join(q, "_")
			t.Run(name, func(t *testing.T) {
				want := sshG(t, ssh, f, q)
				got := armbenchG(t, f, q)
				for k, w := range want {
					if g := got[k]; !reflect.DeepEqual(g, w) {
						t.Errorf("%s: armbench %q, ssh -G %q", k, g, w)
					}
				}
			})
		}
	}
	if queries < 20 {
		t.Fatalf("%d queries, want at least 20", queries)
	}
}

// copyCorpus copies the corpus to a temporary folder, @DIR@ replaced.
func copyCorpus(t *testing.T, src string) string {
	dir := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "@DIR@", dir)), info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// corpusQueries reads "# query: HOST [-l USER] [-p PORT]" lines.
func corpusQueries(t *testing.T, file string) [][]string {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "# query:"); ok {
			qs = append(qs, strings.Fields(rest))
		}
	}
	if len(qs) == 0 {
		t.Fatalf("%s has no # query: line", file)
	}
	return qs
}

// compared are the ssh -G fields armbench uses.
var compared = map[string]bool{
	"user": true, "hostname": true, "port": true, "identityfile": true, "certificatefile": true,
	"proxycommand": true, "proxyjump": true, "hostkeyalias": true, "userknownhostsfile": true,
	"globalknownhostsfile": true, "stricthostkeychecking": true, "hashknownhosts": true,
	"identitiesonly": true, "identityagent": true, "serveraliveinterval": true,
	"serveralivecountmax": true, "connecttimeout": true,
}

// defaultIDs are the keys ssh -G lists when none is named.
var defaultIDs = map[string]bool{"~/.ssh/id_rsa": true, "~/.ssh/id_ecdsa": true, "~/.ssh/id_ecdsa_sk": true,
	"~/.ssh/id_ed25519": true, "~/.ssh/id_ed25519_sk": true, "~/.ssh/id_xmss": true, "~/.ssh/id_dsa": true}

func sshG(t *testing.T, ssh, file string, q []string) map[string][]string {
	args := append([]string{"-G", "-F", file}, q[1:]...)
	out, err := exec.Command(ssh, append(args, q[0])...).Output()
	if err != nil {
		t.Fatalf("ssh %s: %v", strings.Join(args, " "), err)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		if !compared[k] {
			continue
		}
		switch {
		case k == "identityfile" && defaultIDs[v]:
			continue // the defaults, which armbench narrows
		case k == "stricthostkeychecking":
			v = map[string]string{"true": "yes", "false": "no"}[v] + map[bool]string{true: v}[v != "true" && v != "false"]
		case k == "connecttimeout" && v == "none":
			v = "0"
		}
		m[k] = append(m[k], v)
	}
	if _, ok := m["proxycommand"]; !ok {
		m["proxycommand"] = nil
	}
	for _, k := range []string{"identityfile", "certificatefile", "proxyjump", "hostkeyalias", "identityagent"} {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	return m
}

func armbenchG(t *testing.T, file string, q []string) map[string][]string {
	pre := map[string]string{}
	for i := 1; i+1 < len(q); i += 2 {
		pre[map[string]string{"-l": "user", "-p": "port"}[q[i]]] = q[i+1]
	}
	s, err := resolveConfig(q[0], pre, Config{SSHConfig: file})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range s.warnings {
		t.Logf("warning: %s", w)
	}
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	yn := map[bool]string{true: "yes", false: "no"}
	return map[string][]string{
		"user": {s.user}, "hostname": {s.host}, "port": {s.port},
		"identityfile": s.identity, "certificatefile": s.certs,
		"proxycommand": one(s.proxyCommand), "proxyjump": one(s.proxyJump), "hostkeyalias": one(s.hostKeyAlias),
		"userknownhostsfile": {strings.Join(s.userKnownHosts, " ")}, "globalknownhostsfile": {strings.Join(s.globalKnownHosts, " ")},
		"stricthostkeychecking": {s.strict}, "hashknownhosts": {yn[s.hashKnownHosts]}, "identitiesonly": {yn[s.identitiesOnly]},
		"identityagent": one(s.identityAgent), "serveraliveinterval": {strconv.Itoa(s.aliveInterval)},
		"serveralivecountmax": {strconv.Itoa(s.aliveMax)}, "connecttimeout": {strconv.Itoa(s.connectTimeout)},
	}
}
