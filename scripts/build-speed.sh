#!/usr/bin/env bash
# Times `armbench build` against the same `go build` typed by hand, with a
# warm build cache, alternating the two in one run (and which goes first)
# so both see the same machine. Prints the median of each and their ratio (goal: ≤ 1.03×), and
# the median of `armbench plan` for the same target and profile: armbench's
# own start-up and config load, which is most of the difference.
#
#   scripts/build-speed.sh [TARGET] [PROFILE] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-local-armv7}
profile=${2:-release}
rounds=${3:-15}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/armbench" .

# The hand-typed command is exactly what armbench prints for the plan,
# writing to its own output path so neither run sees the other's file.
cmd=$("$tmp/armbench" plan --target "$target" --profile "$profile" --json |
	python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["command"])')
hand=${cmd//.armbench\/out/$tmp\/hand}
mkdir -p "$tmp/hand/$target/$profile"
echo "armbench: armbench build --target $target --profile $profile"
echo "by hand:  $hand"

now() { date +%s%N; }
# Warm the build cache and both output files.
"$tmp/armbench" build --target "$target" --profile "$profile" >/dev/null 2>&1
sh -c "$hand"

a=() h=() p=()
for ((i = 0; i < rounds; i++)); do
	# In turns first: on a busy machine the second of two back-to-back
	# builds is the slower one, so a fixed order would bias the ratio.
	if ((i % 2 == 0)); then
		t0=$(now); "$tmp/armbench" build --target "$target" --profile "$profile" >/dev/null 2>&1; t1=$(now)
		sh -c "$hand"; t2=$(now)
		a+=($(((t1 - t0) / 1000))) h+=($(((t2 - t1) / 1000)))
	else
		t0=$(now); sh -c "$hand"; t1=$(now)
		"$tmp/armbench" build --target "$target" --profile "$profile" >/dev/null 2>&1; t2=$(now)
		h+=($(((t1 - t0) / 1000))) a+=($(((t2 - t1) / 1000)))
	fi
	t2=$(now); "$tmp/armbench" plan --target "$target" --profile "$profile" >/dev/null; t3=$(now)
	p+=($(((t3 - t2) / 1000)))
done

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ma=$(median "${a[@]}") mh=$(median "${h[@]}") mp=$(median "${p[@]}")
awk -v a="$ma" -v h="$mh" -v p="$mp" -v n="$rounds" 'BEGIN {
	printf "rounds: %d (warm cache)\narmbench build: median %.1f ms\ngo build:       median %.1f ms\nratio:          %.3fx\narmbench plan:  median %.1f ms (start-up and config load alone)\n", n, a/1000, h/1000, a/h, p/1000 }'
