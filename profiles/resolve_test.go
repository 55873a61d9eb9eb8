package profiles

import (
	"testing"

	"armbench/targets"
)

func piZero() targets.Target {
	return targets.Target{Name: "pi-zero", Host: "pizero.local", GOOS: "linux", GOARCH: "arm", GOARM: "6", Memory: 512 << 20, MemoryText: "512MiB", DeployDir: "~/armbench"}
}

func mustFind(t *testing.T, ps []Profile, name string) Profile {
	t.Helper()
	p, ok := Find(ps, name)
	if !ok {
		t.Fatalf("no profile %q in %v", name, Names(ps))
	}
	return p
}

func TestResolveIssueExample(t *testing.T) {
	ps, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Resolve(piZero(), mustFind(t, ps, "release"), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	plan.Dir = "."
	want := "env CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -trimpath -ldflags='-s -w' -o .armbench/out/pi-zero/release/workload ./examples/workload"
	if got := plan.Shell(); got != want {
		t.Errorf("Shell() =\n%s\nwant\n%s", got, want)
	}
}
