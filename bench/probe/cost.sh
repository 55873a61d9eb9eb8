#!/bin/sh
# cost.sh: the probe's own CPU cost at 10 Hz, natively and as an arm64
# binary under qemu-user, while it watches `sleep 10` (which uses no CPU,
# so everything counted is the probe's). Goal: ≤ 1% of one core.
#
#   sh bench/probe/cost.sh [seconds]
set -eu
secs=${1:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$(dirname "$0")"
go build -trimpath -o "$dir/probe-native" .
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$dir/probe-arm64" .
for p in probe-native probe-arm64; do
	"$dir/$p" -interval 100ms -- sleep "$secs" | tail -n 1 > "$dir/exit.json"
	python3 - "$p" "$dir/exit.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[2]))["exit"]
cpu = e["probe_user_ns"] + e["probe_sys_ns"]
print("%-13s %3d samples  probe CPU %7.1f ms in %5.1f s  = %.2f%% of one core"
      % (sys.argv[1], e["samples"], cpu / 1e6, e["wall_ns"] / 1e9, 100 * cpu / e["wall_ns"]))
PY
done
