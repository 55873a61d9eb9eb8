package send

import (
	"context"

	"armbench/remote/delta"
)

// elfzDelta sends a delta between the expanded forms of the installed
// binary and the new one (package delta): a few percent of a binary whose
// DWARF the linker compressed, where a plain delta is a quarter. The
// device's zstd applies it to the expanded form it kept or makes, and the
// delta helper compresses the result again. When the delta turns out
// plain (the binary cannot be expanded here) or the helper is missing,
// the patch way sends a plain one.
type elfzDelta struct{}

func (elfzDelta) Send(ctx context.Context, j *Job) (Sent, bool, error) {
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
	early := j.startEarly(ctx)
	frame, err := j.deltaFrame(ctx)
	if early != nil {
		if err == nil && early.fits(frame) && j.Helper.Wait() == nil {
			expanding := keepExpanded(j.Cache, frame, j.File.SHA256)
			run, rerr := early.send(frame)
			return j.deltaDone(ctx, delta.ELFZ, run, rerr, expanding)
		}
		early.abandon()
	}
	if err != nil {
		return j.giveUp(ctx, err)
	}
	if frame.Kind != delta.ELFZ {
		return Sent{}, false, nil
	}
	if herr := j.Helper.Wait(); herr != nil {
		if ctx.Err() != nil {
			return Sent{}, false, ctx.Err()
		}
		// No helper on the device: a plain delta still beats the whole
		// file.
		j.NoELFZ.Store(true)
		j.reframe(ctx)
		return Sent{}, false, nil
	}
	if err := ctx.Err(); err != nil {
		return Sent{}, false, err
	}
	expanding := keepExpanded(j.Cache, frame, j.File.SHA256)
	recv := delta.ELFZRecv(j.Runner, j.Name, j.Old, frame.BaseSize, frame.NewSize)
	run, err := j.sendDelta(ctx, frame, recv, delta.ELFZKeep(j.Name, j.File.SHA256, frame.NewSize))
	return j.deltaDone(ctx, delta.ELFZ, run, err, expanding)
}
