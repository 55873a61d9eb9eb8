#!/usr/bin/env bash
# Deploys the sample workload (arm64, default profile, ~2.7 MB) to a fleet
# of 8 real OpenSSH sshd devices, each behind its own 24 Mbit/s link (a
# private network namespace whose loopback is shaped by tc htb, one class
# per device port), and compares, alternating within each round:
#   - `armbench deploy --target fleet` (a rolling deploy, max-unavailable 1,
#     no health check; then again with `health = "true"`, one more round
#     trip per device, in its wave);
#   - `armbench deploy --target devN` to each device alone, one after the
#     other: the slowest of them is the baseline.
# Every deploy is a first deploy (the devices' deploy_dirs emptied) and
# includes the up-to-date build check, as typed. Goal: the fleet deploy
# takes <= 1.5x the slowest single-device deploy.
#
#   scripts/fleet-speed.sh [ROUNDS]      (root: unshare -n and tc need it)
#   DEVICES=4 scripts/fleet-speed.sh     another fleet size
#
# Needs go, sshd, ssh, ssh-keygen, ip and tc (iproute2), unshare.
set -euo pipefail
. "$(dirname "$0")/lib/sshd.sh"

rounds=${ROUNDS:-${1:-3}}
devices=${DEVICES:-8}
rate_mbit=24
base_port=22100

if [ "${1:-}" != "--inner" ]; then
	cd "$(dirname "$0")/.."
	for tool in go ssh ssh-keygen ip tc unshare; do
		command -v "$tool" >/dev/null || { echo "fleet-speed: $tool not found" >&2; exit 1; }
	done
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || { echo "fleet-speed: sshd not found (openssh-server)" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "fleet-speed: run as root (unshare -n, tc)" >&2; exit 1; }
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	export WORK=$work REPO=$PWD SSHD=$sshd ROUNDS=$rounds DEVICES=$devices RATE_MBIT=$rate_mbit BASE_PORT=$base_port
	if [ -n "${ARMBENCH_BIN:-}" ]; then
		cp "$ARMBENCH_BIN" "$work/armbench"
	else
		go build -o "$work/armbench" .
	fi
	make_keys "$work"
	: >"$work/known_hosts"
	{
		echo '[[group]]'
		echo 'name = "fleet"'
		echo 'targets = ['"$(seq -s, -f '"dev%g"' 0 $((devices - 1)))"']'
		for ((i = 0; i < devices; i++)); do
			cat <<TOML

[[target]]
name = "dev$i"
host = "127.0.0.1"
port = $((base_port + i))
user = "$(id -un)"
goarch = "arm64"
deploy_dir = "$work/dev$i/armbench"
identity_file = "$work/client_key"
known_hosts = "$work/known_hosts"
TOML
			echo "[127.0.0.1]:$((base_port + i)) $(cut -d' ' -f1,2 "$work/host_key.pub")" >>"$work/known_hosts"
		done
	} >"$work/targets.toml"
	sed 's/^\[\[group\]\]$/[defaults.health]\ncommand = "true"\n\n[[group]]/' "$work/targets.toml" >"$work/targets-health.toml"
	echo "building the sample workload for arm64…" >&2
	"$work/armbench" build --config "$work/targets.toml" --target dev0 --profile default >/dev/null
	bin=$PWD/.armbench/out/dev0/default/workload
	echo "workload for arm64: $(stat -c %s "$bin") bytes; $devices devices, each behind its own $rate_mbit Mbit/s link; $rounds rounds (median shown)"
	unshare -n bash "$0" --inner
	exit 0
fi

# ---- inside the namespace ------------------------------------------------------
work=$WORK
ip link set lo mtu 1500 up
# One 24 Mbit/s class per device, both directions (loopback carries both),
# everything else unshaped.
tc qdisc add dev lo root handle 1: htb default 99
tc class add dev lo parent 1: classid 1:99 htb rate 10gbit quantum 60000
for ((i = 0; i < DEVICES; i++)); do
	port=$((BASE_PORT + i))
	tc class add dev lo parent 1: classid 1:$((10 + i)) htb rate "${RATE_MBIT}mbit" ceil "${RATE_MBIT}mbit" burst 64kb quantum 1514
	tc filter add dev lo protocol ip parent 1: prio 1 u32 match ip dport "$port" 0xffff flowid 1:$((10 + i))
	tc filter add dev lo protocol ip parent 1: prio 1 u32 match ip sport "$port" 0xffff flowid 1:$((10 + i))
done

trap sshd_stop EXIT
for ((i = 0; i < DEVICES; i++)); do
	sshd_start "$work" $((BASE_PORT + i)) "dev$i" "MaxStartups 64"
done
for ((i = 0; i < DEVICES; i++)); do
	sshd_wait $((BASE_PORT + i))
done
unset SSH_AUTH_SOCK
cd "$REPO"

clean() { for ((i = 0; i < DEVICES; i++)); do rm -rf "$work/dev$i/armbench"; done; }
ms() {
	local t0 t1
	t0=$(now)
	"$@" >"$work/out" 2>&1 </dev/null || { echo "fleet-speed: failed: $*" >&2; cat "$work/out" >&2; exit 1; }
	t1=$(now)
	echo $(((t1 - t0) / 1000000))
}
check() {
	local want got
	want=$(sha256sum <"$REPO/.armbench/out/dev0/default/workload" | cut -d' ' -f1)
	for ((i = 0; i < DEVICES; i++)); do
		got=$(sha256sum <"$work/dev$i/armbench/workload-default" | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "fleet-speed: dev$i has $got, want $want" >&2; exit 1; }
	done
}
ab=("$work/armbench" deploy --profile default)
singles() {
	local worst=0 t
	for ((i = 0; i < DEVICES; i++)); do
		t=$(ms "${ab[@]}" --config "$work/targets.toml" --target "dev$i")
		((t > worst)) && worst=$t
		echo "$t" >>"$work/each"
	done
	echo "$worst"
}
fleet=() checked=() slowest=()
: >"$work/each"
for ((r = 0; r < ROUNDS; r++)); do
	clean
	if ((r % 2)); then
		slowest+=("$(singles)")
		check
		clean
		fleet+=("$(ms "${ab[@]}" --config "$work/targets.toml" --target fleet)")
	else
		fleet+=("$(ms "${ab[@]}" --config "$work/targets.toml" --target fleet)")
		check
		clean
		slowest+=("$(singles)")
	fi
	check
	clean
	checked+=("$(ms "${ab[@]}" --config "$work/targets-health.toml" --target fleet)")
	check
done
mf=$(median "${fleet[@]}") mh=$(median "${checked[@]}") ms_=$(median "${slowest[@]}")
me=$(median $(cat "$work/each"))
awk -v f="$mf" -v h="$mh" -v s="$ms_" -v e="$me" -v n="$DEVICES" 'BEGIN {
	printf "  %-52s %8s  %s\n", "case", "ms", "against the slowest single deploy"
	printf "  %-52s %8.0f  %.2fx (goal <= 1.50x: %s)\n", "armbench deploy --target fleet (" n " devices)", f, f / s, (f <= 1.5 * s) ? "met" : "NOT met"
	printf "  %-52s %8.0f  %.2fx\n", "  the same with a health check (command = \"true\")", h, h / s
	printf "  %-52s %8.0f\n", "slowest of " n " single-device deploys (one at a time)", s
	printf "  %-52s %8.0f\n", "median single-device deploy", e
	printf "  %-52s %8.0f  %.2fx\n", "the " n " single deploys one after the other (median x n)", e * n, f / (e * n)
}'
