#!/usr/bin/env bash
# The test command of the README: vet, formatting, then every test with the
# race detector. Under CI=true tests that need sshd or qemu fail instead of
# skipping when those tools are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l . | grep -v '^testdata/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
# Some packages need the machine to themselves: the on-device benchmark
# tests (bench, and pgo's before/after) compare a parallel profile with a
# single-core one on a 2-core machine, and remote's tests time links (the
# adaptive compression level, interrupted uploads). They run one at a
# time, after the rest has run two packages at a time.
alone='armbench/(bench|pgo|remote(/.*)?)$'
lab='armbench/internal/lab$'
# The lab's tests boot emulated ARM boards; they run last, on their own.
labTests='^(TestLab|TestPowerCut|TestServiceModeLab)$'
go test -race -p 2 -timeout 40m -skip "$labTests" $(go list ./... | grep -Ev "$alone|$lab")
# A lab image being built (CI starts them early) would take the cores the
# timing tests need: wait for it. scripts/lab/image.sh holds a lock per
# image while it builds.
labCache=${ARMBENCH_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/armbench-lab}
for lock in "$labCache"/.lock-*; do
	[ -e "$lock" ] && flock "$lock" true
done
go test -race -p 1 -timeout 40m $(go list ./... | grep -E "$alone")
# Last, the lab: real Debian systems booted under qemu-system (see
# scripts/lab): the whole loop, service mode on real systemd, power cuts.
# The first run builds their images, about 5 minutes each; later runs
# find them cached. Without qemu-system or debootstrap these tests skip,
# except under CI=true.
go test -race -p 1 -timeout 60m -run "$labTests" armbench/internal/lab armbench/watch
