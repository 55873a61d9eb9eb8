#!/usr/bin/env bash
# tui-start.sh measures how long the TUI takes from process start to its
# first frame in a real terminal (tmux at 80x24), against the same harness
# running a program that prints the awaited text at once: the difference
# is armbench's own start-up (package init, config load, first render).
#
#   scripts/tui-start.sh            # 10 runs each
#   RUNS=30 scripts/tui-start.sh
#   scripts/tui-start.sh ./other    # also time another program that
#                                   # draws "Profiles" (a bare Bubble Tea
#                                   # program, an older armbench)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
tmp=$(mktemp -d)
sock=$tmp/tmux.sock
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/armbench" .
mkdir "$tmp/ws" # no targets.toml: the embedded default, as on a fresh clone

# once CMD prints the milliseconds from starting CMD in a new tmux session
# until "Profiles" is on its screen.
once() {
	local start end
	start=$(date +%s%N)
	tmux -S "$sock" new-session -d -s s -x 80 -y 24 -c "$tmp/ws" "$1; sleep 60"
	until tmux -S "$sock" capture-pane -p -t s 2>/dev/null | grep -q Profiles; do
		if (($(date +%s%N) - start > 20000000000)); then
			echo "no first frame of $1 within 20s" >&2
			exit 1
		fi
	done
	end=$(date +%s%N)
	tmux -S "$sock" kill-server 2>/dev/null || true
	echo $(((end - start) / 1000000))
}

# Rounds alternate the programs, so a change in the machine's load hits
# them all alike; each program's median is printed.
progs=("printf 'Targets Profiles\n'" "env -u ARMBENCH_CONFIG $tmp/armbench")
for other in "$@"; do progs+=("$(realpath "$other")"); done
for ((r = 0; r < runs; r++)); do
	for i in "${!progs[@]}"; do echo "$i $(once "${progs[$i]}")"; done
done >"$tmp/times"
median() { awk -v p="$1" '$1 == p {print $2}' "$tmp/times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median 0)
tui=$(median 1)
echo "first frame, median of $runs: armbench ${tui} ms; harness alone (printf) ${base} ms; armbench's own start-up ≈ $((tui - base)) ms"
for ((i = 2; i < ${#progs[@]}; i++)); do
	o=$(median "$i")
	echo "first frame, median of $runs: ${progs[$i]} ${o} ms (≈ $((o - base)) ms over the harness)"
done
