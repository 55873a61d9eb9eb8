#!/usr/bin/env bash
# Deploys one big arm64 binary (cmd/go, ~19 MB) to a real OpenSSH sshd with
# `armbench deploy`, `scp` and `scp -C`, first over plain loopback, then
# over a 24 Mbit/s link (a private network namespace whose loopback is
# shaped by tc tbf, with sshd and the clients inside), and prints the
# times and the ratios against scp -C and against the compressed floor
# (zstd -3 size ÷ link rate). Every armbench deploy is a first deploy (the
# device's deploy_dir is emptied); the unchanged redeploy is timed apart.
#
#   scripts/deploy-speed.sh [ROUNDS]        (root: unshare -n and tc need it)
#
# Needs go, sshd, ssh, scp, ssh-keygen, zstd, ip and tc (iproute2), unshare.
set -euo pipefail

if [ "${1:-}" = "--inner" ]; then
	inner=1
	shift
else
	inner=
fi

rounds=${ROUNDS:-${1:-3}}
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
	export WORK=$work REPO=$repo SSHD=$sshd ROUNDS=$rounds
	go build -o "$work/armbench" .

	# The device: a host key, a client key, authorized_keys, known_hosts.
	ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
	cp "$work/client_key.pub" "$work/authorized_keys"
	mkdir -p /run/sshd "$work/device"

	# armbench builds cmd/go for arm64 once (the go build cache makes later
	# runs cheap); scp sends the very same artifact.
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
	echo "building cmd/go for arm64 with armbench (first run: a minute or two)…" >&2
	"$work/armbench" build --config "$work/targets.toml" --pkg cmd/go --target speed --profile default >/dev/null
	bin=$repo/.armbench/out/speed/default/go
	[ -f "$bin" ] || { echo "deploy-speed: no artifact at $bin" >&2; exit 1; }
	export BIN=$bin
	size=$(stat -c %s "$bin")
	zsize=$(zstd -3 -q -c "$bin" | wc -c)
	echo "binary: cmd/go for arm64, $size bytes; zstd -3: $zsize bytes ($(awk -v a="$zsize" -v b="$size" 'BEGIN{printf "%.3f", a/b}'))"
	echo "rounds: $rounds (median shown)"
	echo

	echo "== loopback (no shaping)"
	bash "$0" --inner loopback
	echo
	echo "== $rate_mbit Mbit/s link (netns, lo mtu 1500, tc tbf rate ${rate_mbit}mbit burst 64kb latency 400ms)"
	unshare -n bash "$0" --inner limited "$zsize"
	exit 0
fi

# ---- inside: one network setting ----------------------------------------------
mode=$1
zsize=${2:-0}
work=$WORK
port=22022
if [ "$mode" = limited ]; then
	ip link set lo mtu 1500 up
	tc qdisc add dev lo root tbf rate ${rate_mbit}mbit burst 64kb latency 400ms
fi

cat >"$work/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd-$mode.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
Subsystem sftp internal-sftp
SetEnv SHLVL=1
CFG
"$SSHD" -D -e -f "$work/sshd_config" 2>"$work/sshd-$mode.log" &
sshd_pid=$!
trap 'kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null || :' EXIT
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
	sleep 0.05
done
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"

unset SSH_AUTH_SOCK
sshopts=(-F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$work/known_hosts"
	-o IdentitiesOnly=yes -i "$work/client_key")
dev=$work/device
ab=("$work/armbench" deploy --config "$work/targets.toml" --pkg cmd/go --target speed --profile default --no-build)

now() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
clean() { ssh "${sshopts[@]}" -p $port 127.0.0.1 "rm -rf '$dev/armbench' '$dev/scp-copy'"; }

want=$(sha256sum <"$BIN" | cut -d' ' -f1)
a=() s=() c=() r=()
for ((i = 0; i < ROUNDS; i++)); do
	clean
	t0=$(now); "${ab[@]}" >/dev/null 2>"$work/ab.err" || { cat "$work/ab.err" >&2; exit 1; }; t1=$(now)
	# The deployed file really is the binary.
	got=$(sha256sum <"$dev/armbench/go-default" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "deployed sha256 $got != $want" >&2; exit 1; }
	t2=$(now); "${ab[@]}" >"$work/ab.out" 2>&1; t3=$(now)
	grep -q '^unchanged' "$work/ab.out" || { echo "redeploy did not skip: $(cat "$work/ab.out")" >&2; exit 1; }
	t4=$(now); scp -q "${sshopts[@]}" -P $port "$BIN" "127.0.0.1:$dev/scp-copy"; t5=$(now)
	clean
	t6=$(now); scp -q -C "${sshopts[@]}" -P $port "$BIN" "127.0.0.1:$dev/scp-copy"; t7=$(now)
	a+=($(((t1 - t0) / 1000000))) r+=($(((t3 - t2) / 1000000))) s+=($(((t5 - t4) / 1000000))) c+=($(((t7 - t6) / 1000000)))
done

ma=$(median "${a[@]}") mr=$(median "${r[@]}") ms=$(median "${s[@]}") mc=$(median "${c[@]}")
awk -v a="$ma" -v r="$mr" -v s="$ms" -v c="$mc" -v z="$zsize" -v rate="$rate_mbit" -v mode="$mode" 'BEGIN {
	floor = (mode == "limited") ? z * 8 / (rate * 1e6) * 1000 : 0
	printf "  %-34s %8.0f ms   %5.2fx scp -C", "armbench deploy (first)", a, a / c
	if (floor > 0) printf "   %5.3fx floor", a / floor
	printf "\n  %-34s %8.0f ms\n", "armbench deploy (unchanged, skip)", r
	printf "  %-34s %8.0f ms   %5.2fx scp -C\n", "scp", s, s / c
	printf "  %-34s %8.0f ms   1.00x scp -C\n", "scp -C", c
	if (floor > 0) {
		printf "  %-34s %8.0f ms   (zstd -3 size / %d Mbit/s)\n", "compressed floor", floor, rate
		# TCP/IP headers take 52 of every 1500 bytes tbf counts.
		printf "  %-34s %8.0f ms   (the same with TCP/IP headers at MTU 1500; armbench %.3fx)\n", "compressed floor on the wire", floor * 1500 / 1448, a / (floor * 1500 / 1448)
	}
}'
