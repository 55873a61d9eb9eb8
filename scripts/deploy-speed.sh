#!/usr/bin/env bash
# Deploys arm64 binaries of two sizes to a real OpenSSH sshd over a
# 24 Mbit/s link (a private network namespace whose loopback is shaped by
# tc tbf, with sshd and the clients inside) as a new user would: a fresh
# HOME (its own go build cache, no armbench cache), a project other than
# armbench's checkout (a copy of the sample workload with its own go.mod,
# in a git repository of its own),
# the default profile. It compares, alternating within each round:
#   - a first deploy by a new user (`armbench deploy` as typed, the
#     up-to-date build check included; the device's deploy_dir emptied and
#     armbench's state on this host, in HOME and in the project, removed)
#     against `scp -C` of the same file;
#   - the unchanged redeploy right after it against `ssh HOST true` (a
#     handshake and one round trip);
#   - the same two once armbench has deployed before (its state kept, the
#     device emptied again for the first deploy), with `scp`, `deploy
#     --no-build` and the hand-typed up-to-date `go build` beside them;
# and counts the temporary files left on this host and on the device
# after all those deploys (the goal is none).
# The sizes: the sample workload's `default` binary (~2.7 MB) and cmd/go
# (~19 MB). It prints medians as a table, with the goals: first deploy
# <= 1.0x scp -C, unchanged redeploy <= ssh true + 100 ms.
#
#   scripts/deploy-speed.sh [ROUNDS]      (root: unshare -n and tc need it)
#   LOOPBACK=1 scripts/deploy-speed.sh    also measures over plain loopback
#   ARMBENCH_BIN=/path/to/armbench …      measures that build (a baseline)
#   IN_CHECKOUT=1 scripts/deploy-speed.sh deploys from armbench's own
#                                         checkout instead (as issue 22 was
#                                         first measured)
#
# Needs go, sshd, ssh, scp, ssh-keygen, zstd, ip and tc (iproute2), unshare.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
. "$(dirname "$self")/lib/sshd.sh"

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

	# The new user: a HOME of their own (go's build and module caches,
	# go's env file and armbench's cache all live under it) and a project
	# of their own, outside armbench's checkout.
	export HOME=$work/home
	proj=$work/workload
	mkdir -p "$HOME" "$proj"
	cp "$repo"/examples/workload/*.go "$proj/"
	(cd "$proj" && go mod init example.com/workload >/dev/null 2>&1)
	if [ -n "${IN_CHECKOUT:-}" ]; then
		proj=$repo
	fi
	export PROJ=$proj

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
	# A git checkout, as a user's project usually is: the go command stamps
	# its revision into the binary, and an up-to-date check asks git.
	if [ -n "${IN_CHECKOUT:-}" ]; then
		export ARMBENCH_CONFIG=$work/targets.toml # the checkout's own stays as it is
	else
		cp "$work/targets.toml" "$proj/targets.toml"
		echo .armbench/ >"$proj/.gitignore"
		(cd "$proj" && git init -q && git add -A && git -c user.name=speed -c user.email=speed@localhost commit -qm project)
	fi
	# armbench builds each binary once here (the builds inside the rounds
	# are up-to-date checks); scp sends the very same artifacts. The
	# hand-typed go build writes elsewhere, once to warm up.
	: >"$work/sizes"
	cd "$proj"
	first=.
	[ -n "${IN_CHECKOUT:-}" ] && first=./examples/workload
	for pkg in $first cmd/go; do
		echo "building $pkg for arm64 with armbench (an empty go build cache: a few minutes for cmd/go)…" >&2
		"$work/armbench" build --pkg "$pkg" --target speed --profile default >/dev/null
		base=$(basename "$pkg")
		[ "$pkg" = . ] && base=workload
		bin=$proj/.armbench/out/speed/default/$base
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
		bash "$self" --inner loopback
		echo
	fi
	echo "== $rate_mbit Mbit/s link (netns, lo mtu 1500, tc tbf rate ${rate_mbit}mbit burst 64kb latency 400ms)"
	unshare -n bash "$self" --inner limited
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
cd "$PROJ"

clean() { ssh -n "${sshopts[@]}" -p $port 127.0.0.1 "rm -rf '$dev/armbench' '$dev/scp-copy'"; }
# forget removes what armbench keeps on this host between deploys: the
# project's state and delta cache, and the user's cache (the delta
# helper). The build outputs stay: a new user has just built.
forget() { rm -rf "$PROJ/.armbench/state" "$PROJ/.armbench/deployed" "$HOME/.cache/armbench"; }
# ms CMD… runs CMD quietly and prints how long it took in ms; a failure
# stops the script with its output.
ms() {
	local t0 t1
	t0=$(now)
	"$@" >"$work/out" 2>&1 </dev/null || { echo "deploy-speed: failed: $*" >&2; cat "$work/out" >&2; exit 1; }
	t1=$(now)
	echo $(((t1 - t0) / 1000000))
}
deploys=0
# pair A B: runs the two commands (strings of words) alternating which
# goes first by round $i, and appends their times to the arrays named in
# $3 and $4. The output of A is kept in $work/a.out.
pair() {
	local ta tb
	if ((i % 2)); then
		tb=$(ms $2)
		ta=$(ms $1)
		cp "$work/out" "$work/a.out"
	else
		ta=$(ms $1)
		cp "$work/out" "$work/a.out"
		tb=$(ms $2)
	fi
	eval "$3+=($ta)"
	eval "$4+=($tb)"
}
check_sha() {
	got=$(sha256sum <"$dev/armbench/$base-default" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "deploy-speed: deployed sha256 $got != $want" >&2; exit 1; }
}
check_skipped() {
	grep -q '^unchanged' "$work/a.out" || { echo "deploy-speed: redeploy did not skip: $(cat "$work/a.out")" >&2; exit 1; }
}

rows=()
# The list is read on fd 3: ssh and scp read their stdin.
while read -r pkg base bin size zsize <&3; do
	c_ab="$work/armbench deploy --pkg $pkg --target speed --profile default"
	c_scpc="scp -q -C ${sshopts[*]} -P $port $bin 127.0.0.1:$dev/scp-copy"
	c_ssh="ssh ${sshopts[*]} -p $port 127.0.0.1 true"
	want=$(sha256sum <"$bin" | cut -d' ' -f1)
	newfirst=() newscpc=() newsame=() newsshtrue=()
	first=() scpc=() scpp=() same=() nobuild=() sshtrue=() gobuild=()
	for ((i = 0; i < ROUNDS; i++)); do
		# A new user: nothing on the device, nothing kept on this host.
		clean
		forget
		pair "$c_ab" "$c_scpc" newfirst newscpc
		check_sha
		pair "$c_ab" "$c_ssh" newsame newsshtrue
		check_skipped
		# armbench has deployed before: the device emptied again.
		clean
		pair "$c_ab" "$c_scpc" first scpc
		check_sha
		scpp+=("$(ms scp -q "${sshopts[@]}" -P $port "$bin" "127.0.0.1:$dev/scp-copy")")
		pair "$c_ab" "$c_ssh" same sshtrue
		check_skipped
		nobuild+=("$(ms $c_ab --no-build)")
		gobuild+=("$(ms env CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOARM64=v8.0 go build -o "$work/handtyped-$base" "$pkg")")
		deploys=$((deploys + 5))
	done
	rows+=("$base $size $zsize new $(median "${newfirst[@]}") $(median "${newscpc[@]}") $(median "${newsame[@]}") $(median "${newsshtrue[@]}") - - -")
	rows+=("$base $size $zsize warm $(median "${first[@]}") $(median "${scpc[@]}") $(median "${same[@]}") $(median "${sshtrue[@]}") $(median "${scpp[@]}") $(median "${nobuild[@]}") $(median "${gobuild[@]}")")
done 3<"$work/sizes"

printf '%s\n' "${rows[@]}" | awk -v rate="$RATE_MBIT" -v mode="$mode" '
function mb(b) { return sprintf("%.1f MB", b / 1e6) }
function verdict(ok) { return ok ? "met" : "NOT met" }
BEGIN {
	printf "  %-9s %-8s  %-40s %8s  %-22s %s\n", "binary", "size", "case", "ms", "against", "goal"
}
{
	base = $1; size = $2; z = $3; state = $4; first = $5; scpc = $6; same = $7; sshtrue = $8; scpp = $9; nobuild = $10; gobuild = $11
	who = (state == "new") ? "new user" : "deployed before"
	floor = (mode == "limited") ? z * 8 / (rate * 1e6) * 1000 : 0
	printf "  %-9s %-8s  %-40s %8.0f  %-22s %s\n", base, mb(size), "armbench deploy, first, " who, first, sprintf("%.2fx scp -C", first / scpc), verdict(first <= scpc) " (<= 1.00x scp -C)"
	printf "  %-9s %-8s  %-40s %8.0f  %-22s\n", "", "", "scp -C", scpc, ""
	if (scpp != "-")
		printf "  %-9s %-8s  %-40s %8.0f  %-22s\n", "", "", "scp", scpp, sprintf("%.2fx scp -C", scpp / scpc)
	if (floor > 0 && state == "new")
		printf "  %-9s %-8s  %-40s %8.0f  %-22s\n", "", "", "zstd -3 size / link rate", floor, sprintf("armbench %.2fx", first / floor)
	printf "  %-9s %-8s  %-40s %8.0f  %-22s %s\n", "", "", "armbench deploy, unchanged, " who, same, sprintf("ssh true %+.0f ms", same - sshtrue), verdict(same <= sshtrue + 100) " (<= ssh true + 100 ms)"
	printf "  %-9s %-8s  %-40s %8.0f  %-22s\n", "", "", "ssh HOST true", sshtrue, ""
	if (nobuild != "-") {
		printf "  %-9s %-8s  %-40s %8.0f  %-22s\n", "", "", "armbench deploy --no-build, unchanged", nobuild, sprintf("ssh true %+.0f ms", nobuild - sshtrue)
		printf "  %-9s %-8s  %-40s %8.0f  %-22s\n", "", "", "go build, up to date (by hand)", gobuild, ""
	}
}'

# What the deploys left under temporary names: the build outputs and
# armbench's caches on this host, deploy_dir on the device.
left=$( { find "$PROJ/.armbench" "$HOME/.cache/armbench" -name '*.tmp*' -o -name '.stamp-*' 2>/dev/null
	find "$dev" -name '*armbench-tmp*' 2>/dev/null; } | wc -l)
echo "  temporary files left after $deploys armbench deploys: $left ($(((left == 0)) && echo met || echo NOT met): 0)"
