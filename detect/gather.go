package detect

import (
	"context"
	"fmt"

	"armbench/internal/shell"
	"armbench/remote"
)

// Gather asks a connected device about itself with one remote command (one
// round trip, so detection over a slow link stays quick) and parses the
// answers. The probe runs under sh -c so a non-POSIX login shell (fish,
// csh) does not break it.
func Gather(ctx context.Context, dev remote.Device) (Facts, error) {
	out, err := dev.Exec(ctx, "sh -c "+shell.Quote(gatherScript))
	if err != nil {
		return Facts{}, fmt.Errorf("detect: probe: %w", err)
	}
	f, err := ParseReport(out)
	if err != nil {
		return Facts{}, fmt.Errorf("detect: probe: %w", err)
	}
	return f, nil
}
