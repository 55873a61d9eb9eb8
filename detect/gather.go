package detect

import (
	"context"
	"fmt"

	"armbench/remote"
)

// Gather asks a connected device about itself with one remote command (one
// round trip, so detection over a slow link stays quick) and parses the
// answers. Exec already runs its snippet under sh -c on every device, so
// a non-POSIX login shell (fish, csh) cannot break the probe.
func Gather(ctx context.Context, dev remote.Device) (Facts, error) {
	out, err := dev.Exec(ctx, gatherScript)
	if err != nil {
		return Facts{}, fmt.Errorf("probe: %w", err)
	}
	f, err := ParseReport(out)
	if err != nil {
		return Facts{}, fmt.Errorf("probe: %w", err)
	}
	return f, nil
}
