package remote

import (
	"context"

	"armbench/targets"
)

// Open connects to t: over SSH, or directly for the local target.
func Open(ctx context.Context, t targets.Target, o Options) (Device, error) {
	if t.IsLocal() {
		return openLocal(t)
	}
	return openSSH(ctx, t, o, nil)
}
