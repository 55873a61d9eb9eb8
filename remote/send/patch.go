package send

import (
	"context"

	"armbench/remote/delta"
)

// patchDelta sends a zstd patch-from delta against the installed binary,
// which the device's own zstd applies.
type patchDelta struct{}

func (patchDelta) Send(ctx context.Context, j *Job) (Sent, bool, error) {
	if !j.deltaApplies() {
		return Sent{}, false, nil
	}
	if err := j.start(); err != nil {
		return Sent{}, false, err
	}
	if j.NoPatch.Load() {
		j.NoDelta = noPatchNote
		return Sent{}, false, nil
	}
	frame, err := j.deltaFrame(ctx)
	if err != nil {
		return j.giveUp(ctx, err)
	}
	if err := ctx.Err(); err != nil {
		return Sent{}, false, err
	}
	run, err := j.sendDelta(ctx, frame, delta.PatchRecv(j.Name, frame.BaseSize, frame.NewSize), "")
	return j.deltaDone(ctx, frame.Kind, run, err, nil)
}
