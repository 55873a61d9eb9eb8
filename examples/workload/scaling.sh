#!/usr/bin/env bash
# Shows that the workload responds to GOMAXPROCS under qemu-user: builds
# the benchmarks for arm64, runs BenchmarkParallelHash with GOMAXPROCS=1
# and with the default, alternating, and prints the median of each and the
# ratio (> 1 means the single-core run is slower). Also times a full
# `-test.benchtime=100ms -test.count=6` run of every benchmark.
#
#   examples/workload/scaling.sh [GOARCH] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
goarch=${1:-arm64}
rounds=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=linux GOARCH=$goarch CGO_ENABLED=0 go test -c -o "$tmp/workload.test" ./examples/workload
bin=$tmp/workload.test

nsop() { # GOMAXPROCS → ns/op lines of BenchmarkParallelHash
	GOMAXPROCS=$1 "$bin" -test.run='^$' -test.bench='^BenchmarkParallelHash$' -test.benchtime=300ms -test.count=1 |
		awk '/^BenchmarkParallelHash/ {for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i}'
}
one=() all=()
for ((i = 0; i < rounds; i++)); do
	one+=("$(nsop 1)")
	all+=("$(nsop "$(nproc)")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
m1=$(median "${one[@]}") mn=$(median "${all[@]}")
awk -v a="$m1" -v b="$mn" -v n="$(nproc)" -v g="$goarch" 'BEGIN {
	printf "%s ParallelHash: GOMAXPROCS=1 %.2f ms/op, GOMAXPROCS=%d %.2f ms/op, ratio %.2fx\n", g, a/1e6, n, b/1e6, a/b }'

start=$(date +%s%N)
"$bin" -test.run='^$' -test.bench=. -test.benchtime=100ms -test.count=6 >/dev/null
echo "all benchmarks, benchtime=100ms count=6: $((($(date +%s%N) - start) / 1000000)) ms"
