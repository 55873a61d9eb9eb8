package fleet

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"armbench/build"
)

// TestStageUploadFailure: an upload that fails after the staging script
// ran is reported at step "upload", naming the device, and is not taken
// for a connection failure.
func TestStageUploadFailure(t *testing.T) {
	devs := startDevices(t, 1, nil)
	plan := appPlans(t, appModule(t), "v1", devs, nil)[0]
	j := &buildJob{plan: plan, done: make(chan struct{}), art: &build.Artifact{
		Path: filepath.Join(t.TempDir(), "never-built"), SHA256: strings.Repeat("0", 64), Size: 10,
	}}
	close(j.done)
	var rec recorder
	r := &rollout{o: Options{Pool: testPool(t)}, emit: rec.emit}
	d := &device{plan: plan, wave: 1, staged: make(chan struct{}), res: DeviceResult{Target: plan.Target.Name}}
	r.stage(context.Background(), d, j, make(chan struct{}, 1))
	if d.res.State != StateFailed || d.res.Step != "upload" || d.res.Err == nil || !containsAll(d.res.Err.Error(), "dev0", "upload", "never-built") {
		t.Errorf("stage: %s at %q: %v", d.res.State, d.res.Step, d.res.Err)
	}
	if got := rec.phases()["dev0"]; len(got) != 2 || got[0] != PhaseUpload || got[1] != PhaseFailed {
		t.Errorf("phases %v, want upload, failed", got)
	}
}
