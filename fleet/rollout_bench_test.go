package fleet

import (
	"context"
	"os"
	"testing"
)

// BenchmarkRolloutEightDevices is a first deploy to eight sshd devices on
// loopback, unshaped: what armbench's side of a rollout costs (with
// -cpuprofile, where it goes); scripts/fleet-speed.sh measures it behind
// shaped links against single deploys.
func BenchmarkRolloutEightDevices(b *testing.B) {
	devs := startDevices(b, 8, nil)
	mod := appModule(b)
	pool := testPool(b)
	plans := appPlans(b, mod, "v1", devs, nil)
	for b.Loop() {
		b.StopTimer()
		for _, d := range devs {
			os.RemoveAll(d.Target.DeployDir)
		}
		b.StartTimer()
		res, err := Rollout(context.Background(), plans, Options{Pool: pool}, nil)
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
