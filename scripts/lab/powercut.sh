#!/usr/bin/env bash
# Power cuts on the lab's boards, as many as the README reports:
#
#   scripts/lab/powercut.sh [CUTS_PER_BOARD]     default 25 (50 in all)
#
# Each cut kills the emulator of a booted Debian board at a random point
# of a deploy (during the upload, during the install, or just after the
# deploy reported success), boots it again from the same disk, and checks
# the installed binary (TestPowerCut in internal/lab). Prints the number
# of cuts and of bad installs, and writes every outcome as JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
cuts=${1:-25}
out=$(mktemp --suffix=.json)
ARMBENCH_LAB_CUTS=$cuts ARMBENCH_LAB_CUTS_OUT=$out \
	go test -count=1 -v -run '^TestPowerCut$' -timeout 300m ./internal/lab/ | grep --line-buffered -E 'cut [0-9]+:|power cuts:|^(---|ok|FAIL)' || true
if [ -s "$out" ]; then
	total=$(grep -c '"arch"' "$out")
	bad=$(grep -c '"bad": true' "$out" || true)
	echo "power cuts: $total, bad installs: $bad (outcomes: $out)"
	for when in upload install reported; do
		n=$(grep -c "\"when\": \"$when\"" "$out" || true)
		echo "  cut at $when: $n"
	done
fi
