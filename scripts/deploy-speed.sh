#!/usr/bin/env bash
# Deploys arm64 binaries of two sizes to a real OpenSSH sshd over a
# 24 Mbit/s link (a private network namespace whose loopback is shaped by
# tc tbf, with sshd and the clients inside) and compares, alternating
# within each round:
#   - a first deploy (`armbench deploy`, as typed: the up-to-date build
#     check included; the device's deploy_dir emptied) against `scp -C`
#     and `scp` of the same file;
#   - an unchanged redeploy against `ssh HOST true` (a handshake and one
#     round trip), with `deploy --no-build` and the hand-typed up-to-date
#     `go build` beside it to show where the time goes.
# The sizes: the sample workload's `default` binary (~2.7 MB) and cmd/go
# (~19 MB). It prints medians as a table, with the goals: first deploy
# <= 1.0x scp -C, unchanged redeploy <= ssh true + 100 ms.
#
#   scripts/deploy-speed.sh [ROUNDS]      (root: unshare -n and tc need it)
#   LOOPBACK=1 scripts/deploy-speed.sh    also measures over plain loopback
#   ARMBENCH_BIN=/path/to/armbench …      measures that build (a baseline)
#
# Needs go, sshd, ssh, scp, ssh-keygen, zstd, ip and tc (iproute2), unshare.
set -euo pipefail
. "$(dirname "$0")/lib/sshd.sh"

if [ "${1:-}" = "--inner" ]; then
	inner=1
	shift
else
	inner=
fi

rounds=${ROUNDS:-${1:-5}}
rate_mbit=24

if [ -z "$inner" ]; then
	cd "$(dirname "$0")/.."
	repo=$PWD
	for tool in go ssh scp ssh-keygen zstd ip tc unshare; do
		command -v "$tool" >/dev/null || { echo "deploy-speed: $tool not found" >&2; exit 1; }
	done
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || { echo "deploy-speed: sshd not found (openssh-server)" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "deploy-speed: run as root (unshare -n, tc)" >&2; exit 1; }

	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	export WORK=$work REPO=$repo SSHD=$sshd ROUNDS=$rounds RATE_MBIT=$rate_mbit
	if [ -n "${ARMBENCH_BIN:-}" ]; then
		cp "$ARMBENCH_BIN" "$work/armbench"
	else
		go build -o "$work/armbench" .
	fi

	# The device: a host key, a client key, authorized_keys, known_hosts.
	make_keys "$work"
	mkdir -p "$work/device"

	cat >"$work/targets.toml" <<TOML
[[target]]
name = "speed"
host = "127.0.0.1"
port = 22022
user = "$(id -un)"
goarch = "arm64"
deploy_dir = "$work/device/armbench"
identity_file = "$work/client_key"
known_hosts = "$work/known_hosts"
TOML
	# armbench builds each binary once here (the go build cache makes the
	# builds inside the rounds up-to-date checks); scp sends the very same
	# artifacts. The hand-typed go build writes elsewhere, once to warm up.
	: >"$work/sizes"
	for pkg in ./examples/workload cmd/go; do
		echo "building $pkg for arm64 with armbench (cmd/go, the first time: a minute or two)…" >&2
		"$work/armbench" build --config "$work/targets.toml" --pkg "$pkg" --target speed --profile default >/dev/null
		base=$(basename "$pkg")
		bin=$repo/.armbench/out/speed/default/$base
		[ -f "$bin" ] || { echo "deploy-speed: no artifact at $bin" >&2; exit 1; }
		(env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.0 go build -o "$work/handtyped-$base" "$pkg")
		size=$(stat -c %s "$bin")
		zsize=$(zstd -3 -q -c "$bin" | wc -c)
		echo "$pkg $base $bin $size $zsize" >>"$work/sizes"
		echo "$pkg for arm64: $size bytes; zstd -3: $zsize bytes ($(awk -v a="$zsize" -v b="$size" 'BEGIN{printf "%.3f", a/b}'))"
	done
	echo "rounds: $rounds per size, alternating (median shown)"
	echo
	if [ -n "${LOOPBACK:-}" ]; then
		echo "== loopback (no shaping)"
		bash "$0" --inner loopback
		echo
	fi
	echo "== $rate_mbit Mbit/s link (netns, lo mtu 1500, tc tbf rate ${rate_mbit}mbit burst 64kb latency 400ms)"
	unshare -n bash "$0" --inner limited
	exit 0
fi

# ---- inside: one network setting ----------------------------------------------
mode=$1
work=$WORK
port=22022
if [ "$mode" = limited ]; then
	ip link set lo mtu 1500 up
	tc qdisc add dev lo root tbf rate "${RATE_MBIT}mbit" burst 64kb latency 400ms
fi

sshd_start "$work" $port "$mode" "Subsystem sftp internal-sftp"
trap sshd_stop EXIT
sshd_wait $port
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"

unset SSH_AUTH_SOCK
sshopts=(-F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$work/known_hosts"
	-o IdentitiesOnly=yes -i "$work/client_key")
dev=$work/device
cd "$REPO"

clean() { ssh -n "${sshopts[@]}" -p $port 127.0.0.1 "rm -rf '$dev/armbench' '$dev/scp-copy'"; }
# ms CMD… runs CMD quietly and prints how long it took in ms; a failure
# stops the script with its output.
ms() {
	local t0 t1
	t0=$(now)
	"$@" >"$work/out" 2>&1 </dev/null || { echo "deploy-speed: failed: $*" >&2; cat "$work/out" >&2; exit 1; }
	t1=$(now)
	echo $(((t1 - t0) / 1000000))
}

rows=()
# The list is read on fd 3: ssh and scp read their stdin.
while read -r pkg base bin size zsize <&3; do
	ab=("$work/armbench" deploy --config "$work/targets.toml" --pkg "$pkg" --target speed --profile default)
	want=$(sha256sum <"$bin" | cut -d' ' -f1)
	first=() scpc=() scpp=() same=() nobuild=() sshtrue=() gobuild=()
	for ((i = 0; i < ROUNDS; i++)); do
		# First deploys, alternating which goes first.
		clean
		if ((i % 2)); then
			scpc+=("$(ms scp -q -C "${sshopts[@]}" -P $port "$bin" "127.0.0.1:$dev/scp-copy")")
			first+=("$(ms "${ab[@]}")")
		else
			first+=("$(ms "${ab[@]}")")
			scpc+=("$(ms scp -q -C "${sshopts[@]}" -P $port "$bin" "127.0.0.1:$dev/scp-copy")")
		fi
		got=$(sha256sum <"$dev/armbench/$base-default" | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "deploy-speed: deployed sha256 $got != $want" >&2; exit 1; }
		scpp+=("$(ms scp -q "${sshopts[@]}" -P $port "$bin" "127.0.0.1:$dev/scp-copy")")
		# Unchanged redeploys against a bare handshake and round trip.
		if ((i % 2)); then
			sshtrue+=("$(ms ssh "${sshopts[@]}" -p $port 127.0.0.1 true)")
			same+=("$(ms "${ab[@]}")")
			cp "$work/out" "$work/same.out"
		else
			same+=("$(ms "${ab[@]}")")
			cp "$work/out" "$work/same.out"
			sshtrue+=("$(ms ssh "${sshopts[@]}" -p $port 127.0.0.1 true)")
		fi
		grep -q '^unchanged' "$work/same.out" || { echo "deploy-speed: redeploy did not skip: $(cat "$work/same.out")" >&2; exit 1; }
		nobuild+=("$(ms "${ab[@]}" --no-build)")
		gobuild+=("$(ms env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.0 go build -o "$work/handtyped-$base" "$pkg")")
	done
	mf=$(median "${first[@]}") mc=$(median "${scpc[@]}") mp=$(median "${scpp[@]}")
	ms_=$(median "${same[@]}") mt=$(median "${sshtrue[@]}") mn=$(median "${nobuild[@]}") mg=$(median "${gobuild[@]}")
	rows+=("$base $size $zsize $mf $mc $mp $ms_ $mt $mn $mg")
done 3<"$work/sizes"

printf '%s\n' "${rows[@]}" | awk -v rate="$RATE_MBIT" -v mode="$mode" '
function mb(b) { return sprintf("%.1f MB", b / 1e6) }
function verdict(ok) { return ok ? "met" : "NOT met" }
BEGIN {
	printf "  %-9s %-8s  %-34s %8s  %-22s %s\n", "binary", "size", "case", "ms", "against", "goal"
}
{
	base = $1; size = $2; z = $3; first = $4; scpc = $5; scpp = $6; same = $7; sshtrue = $8; nobuild = $9; gobuild = $10
	floor = (mode == "limited") ? z * 8 / (rate * 1e6) * 1000 : 0
	printf "  %-9s %-8s  %-34s %8.0f  %-22s %s\n", base, mb(size), "armbench deploy, first", first, sprintf("%.2fx scp -C", first / scpc), verdict(first <= scpc) " (<= 1.00x scp -C)"
	printf "  %-9s %-8s  %-34s %8.0f  %-22s\n", "", "", "scp -C", scpc, ""
	printf "  %-9s %-8s  %-34s %8.0f  %-22s\n", "", "", "scp", scpp, sprintf("%.2fx scp -C", scpp / scpc)
	if (floor > 0)
		printf "  %-9s %-8s  %-34s %8.0f  %-22s\n", "", "", "zstd -3 size / link rate", floor, sprintf("armbench %.2fx", first / floor)
	printf "  %-9s %-8s  %-34s %8.0f  %-22s %s\n", "", "", "armbench deploy, unchanged", same, sprintf("ssh true %+.0f ms", same - sshtrue), verdict(same <= sshtrue + 100) " (<= ssh true + 100 ms)"
	printf "  %-9s %-8s  %-34s %8.0f  %-22s\n", "", "", "ssh HOST true", sshtrue, ""
	printf "  %-9s %-8s  %-34s %8.0f  %-22s\n", "", "", "armbench deploy --no-build, unch.", nobuild, sprintf("ssh true %+.0f ms", nobuild - sshtrue)
	printf "  %-9s %-8s  %-34s %8.0f  %-22s\n", "", "", "go build, up to date (by hand)", gobuild, ""
}'
