#!/usr/bin/env bash
# Redeploys after a one-line source change, over a 24 Mbit/s link (a private
# network namespace whose loopback is shaped by tc tbf, with a real OpenSSH
# sshd and the clients inside), alternating `armbench deploy` (a zstd
# patch-from delta against the binary the device has) with `scp -C` of the
# same binary, and prints the median times, the bytes armbench sent and
# both ratios: wire bytes ÷ binary size, and scp -C time ÷ armbench time.
#
# Subjects: the sample workload (examples/workload) and cmd/go (~19 MB for
# arm64), each in the default profile (with DWARF, which the Go linker
# compresses) and in release (-s -w). The one-line change is made with
# `go build -overlay` (through GOFLAGS), so the tree is never edited:
#   workload: `if len(args) > 99 { fmt.Fprintln(stderr, "one line changed") }` in run
#   cmd/go:   `if len(os.Args) > 99 { println("one line changed") }` in main
# Each armbench deploy alternates between the two builds, so each one is a
# real one-line-change redeploy; every deployed file's sha256 is checked.
#
#   scripts/redeploy-speed.sh [ROUNDS]        (root: unshare -n and tc need it)
#   ARMBENCH_BIN=/path/to/armbench …          measures that build (a baseline)
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

rounds=${ROUNDS:-${1:-3}}
rate_mbit=24

if [ -z "$inner" ]; then
	cd "$(dirname "$0")/.."
	repo=$PWD
	for tool in go ssh scp ssh-keygen zstd ip tc unshare; do
		command -v "$tool" >/dev/null || { echo "redeploy-speed: $tool not found" >&2; exit 1; }
	done
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || { echo "redeploy-speed: sshd not found (openssh-server)" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "redeploy-speed: run as root (unshare -n, tc)" >&2; exit 1; }

	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	export WORK=$work REPO=$repo SSHD=$sshd ROUNDS=$rounds
	if [ -n "${ARMBENCH_BIN:-}" ]; then
		cp "$ARMBENCH_BIN" "$work/armbench"
	else
		go build -o "$work/armbench" .
	fi

	make_keys "$work"
	mkdir -p "$work/device" "$work/bins"

	cat >"$work/targets.toml" <<TOML
[[target]]
name = "redeploy"
host = "127.0.0.1"
port = 22023
user = "$(id -un)"
goarch = "arm64"
deploy_dir = "$work/device/armbench"
identity_file = "$work/client_key"
known_hosts = "$work/known_hosts"
TOML

	# The one-line changes, as overlays of the real files.
	goroot=$(go env GOROOT)
	wsrc=$repo/examples/workload/main.go
	gsrc=$goroot/src/cmd/go/main.go
	awk '{print} /^func run\(/ {print "\tif len(args) > 99 { fmt.Fprintln(stderr, \"one line changed\") }"}' "$wsrc" >"$work/workload-main.go"
	awk '{print} /^func main\(\) \{/ {print "\tif len(os.Args) > 99 { println(\"one line changed\") }"}' "$gsrc" >"$work/go-main.go"
	printf '{"Replace":{"%s":"%s"}}\n' "$wsrc" "$work/workload-main.go" >"$work/workload.overlay"
	printf '{"Replace":{"%s":"%s"}}\n' "$gsrc" "$work/go-main.go" >"$work/go.overlay"

	echo "building the workload and cmd/go for arm64, before and after the change (first run: minutes)…" >&2
	for subject in workload go; do
		case $subject in
		workload) pkg=./examples/workload ;;
		go) pkg=cmd/go ;;
		esac
		for profile in default release; do
			for v in 1 2; do
				flags=
				[ $v = 2 ] && flags=-overlay=$work/$subject.overlay
				GOFLAGS=$flags "$work/armbench" build --config "$work/targets.toml" --pkg "$pkg" --target redeploy --profile $profile >/dev/null
				cp "$repo/.armbench/out/redeploy/$profile/$subject" "$work/bins/$subject-$profile-$v"
			done
			cmp -s "$work/bins/$subject-$profile-1" "$work/bins/$subject-$profile-2" && { echo "redeploy-speed: the overlay changed nothing in $subject" >&2; exit 1; }
		done
	done
	echo "rounds: $rounds (median shown); each armbench row is a delta redeploy after a one-line change"
	echo "== $rate_mbit Mbit/s link (netns, lo mtu 1500, tc tbf rate ${rate_mbit}mbit burst 64kb latency 400ms)"
	unshare -n bash "$0" --inner
	exit 0
fi

# ---- inside the shaped namespace -----------------------------------------------
work=$WORK
port=22023
ip link set lo mtu 1500 up
tc qdisc add dev lo root tbf rate ${rate_mbit}mbit burst 64kb latency 400ms

sshd_start "$work" $port redeploy "Subsystem sftp internal-sftp"
trap sshd_stop EXIT
sshd_wait $port
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"

unset SSH_AUTH_SOCK
sshopts=(-F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$work/known_hosts"
	-o IdentitiesOnly=yes -i "$work/client_key")
dev=$work/device

jsonnum() { sed -n 's/.*"'"$1"'":\([0-9]*\).*/\1/p' | tail -1; }

printf '  %-18s %10s %10s %8s %10s %10s %8s\n' subject size "delta B" "of size" "armbench" "scp -C" speedup
for subject in workload go; do
	case $subject in
	workload) pkg=./examples/workload ;;
	go) pkg=cmd/go ;;
	esac
	for profile in default release; do
		art=$REPO/.armbench/out/redeploy/$profile/$subject
		ab=("$work/armbench" deploy --config "$work/targets.toml" --pkg "$pkg" --target redeploy --profile $profile --no-build --json)
		rm -rf "$dev/armbench" "$dev/scp-copy"
		# Prime: the device runs version 1 (a full upload).
		cp "$work/bins/$subject-$profile-1" "$art"
		"${ab[@]}" >"$work/ab.out" 2>&1 || { cat "$work/ab.out" >&2; exit 1; }
		a=() c=() w=()
		for ((i = 0; i < 2 * ROUNDS; i++)); do
			v=$((i % 2 == 0 ? 2 : 1))
			bin=$work/bins/$subject-$profile-$v
			cp "$bin" "$art"
			t0=$(now); "${ab[@]}" >"$work/ab.out" 2>&1 || { cat "$work/ab.out" >&2; exit 1; }; t1=$(now)
			grep -q '"type":"result".*"delta":true' "$work/ab.out" || { echo "redeploy-speed: no delta for $subject/$profile: $(grep '"type":"result"' "$work/ab.out")" >&2; exit 1; }
			want=$(sha256sum <"$bin" | cut -d' ' -f1)
			got=$(sha256sum <"$dev/armbench/$subject-$profile" | cut -d' ' -f1)
			[ "$want" = "$got" ] || { echo "deployed sha256 $got != $want" >&2; exit 1; }
			rm -f "$dev/scp-copy"
			t2=$(now); scp -q -C "${sshopts[@]}" -P $port "$bin" "127.0.0.1:$dev/scp-copy"; t3=$(now)
			a+=($(((t1 - t0) / 1000000))) c+=($(((t3 - t2) / 1000000)))
			w+=($(grep '"type":"result"' "$work/ab.out" | jsonnum wire_bytes))
		done
		size=$(stat -c %s "$work/bins/$subject-$profile-2")
		ma=$(median "${a[@]}") mc=$(median "${c[@]}") mw=$(median "${w[@]}")
		awk -v s="$subject/$profile" -v size="$size" -v w="$mw" -v a="$ma" -v c="$mc" 'BEGIN {
			printf "  %-18s %10d %10d %7.1f%% %8.0f ms %7.0f ms %7.2fx\n", s, size, w, 100 * w / size, a, c, c / a
		}'
	done
done

# ---- the inner loop: armbench watch keeps its connection --------------------
# Above, each armbench deploy is a new process and pays a handshake, as scp
# does. In the loop the issue is about (watch, and the TUI), the connection
# stays open between saves. Here `armbench watch` runs on a scratch copy of
# the workload; each round adds one more line of code at the top of run
# (which moves what follows in the line tables, as the change above does)
# and, once the new program printed it, sends the same artifact by scp -C.
# From watch's JSON "deployed" events: the deploy's duration and the bytes
# it sent; every one must be a delta.
ws=$work/ws
rm -rf "$ws" && mkdir -p "$ws"
cp "$REPO/go.mod" "$REPO/go.sum" "$ws/"
cp -r "$REPO/examples" "$ws/"
orig=$work/watch-main.go.orig
cp "$ws/examples/workload/main.go" "$orig"
wedit() { # wedit N: N lines at the top of run, one more each round; saved by rename, as editors do
	awk -v n="$1" '{print} /^func run\(/ {for (i = 1; i <= n; i++) print "\tfmt.Fprintln(stderr, \"edit r" i "\")"}' "$orig" >"$ws/examples/workload/main.go.tmp"
	mv "$ws/examples/workload/main.go.tmp" "$ws/examples/workload/main.go"
}
wait_out() { # wait_out TEXT FILE
	for _ in $(seq 1 1200); do
		grep -q "\"type\":\"output\".*$1" "$2" && return 0
		sleep 0.05
	done
	echo "redeploy-speed: watch never printed $1" >&2
	cat "$work/watch.err" >&2
	exit 1
}
echo
echo "inner loop: armbench watch (one connection kept across saves) against scp -C of the same artifact"
printf '  %-18s %10s %10s %8s %10s %10s %8s\n' subject size "delta B" "of size" "deploy" "scp -C" speedup
for profile in default release; do
	rm -rf "$dev/armbench" "$dev/scp-copy"
	cp "$orig" "$ws/examples/workload/main.go"
	(cd "$ws" && exec "$work/armbench" watch --config "$work/targets.toml" --pkg ./examples/workload --target redeploy --profile $profile --json -- -duration 50ms -mode chan) >"$work/watch.jsonl" 2>"$work/watch.err" &
	wpid=$!
	wait_out 'workload linux/arm64' "$work/watch.jsonl"
	: >"$work/watch-scp"
	for r in $(seq 1 "$ROUNDS"); do
		sleep 1 # past the racy window and the debounce of the previous save
		wedit "$r"
		wait_out "edit r$r\"" "$work/watch.jsonl"
		art=$ws/.armbench/out/redeploy/$profile/workload
		rm -f "$dev/scp-copy"
		t2=$(now); scp -q -C "${sshopts[@]}" -P $port "$art" "127.0.0.1:$dev/scp-copy"; t3=$(now)
		echo "$(((t3 - t2) / 1000000)) $(stat -c %s "$art")" >>"$work/watch-scp"
	done
	kill -INT $wpid; wait $wpid || :
	python3 - "$work/watch.jsonl" "$work/watch-scp" "workload/$profile" <<'PY'
import json, sys, statistics
# Each save's "deployed" event: the deploy's own duration (on the kept
# connection: upload, verify, install) and the bytes it sent.
deployed = [e for e in map(json.loads, open(sys.argv[1])) if e.get("type") == "deployed" and e.get("cycle", 0) > 1]
for e in deployed:
    if not e.get("delta"):
        sys.exit(f"redeploy-speed: watch cycle {e['cycle']} sent the whole file: {e.get('no_delta')}")
dep = [e["duration_ms"] for e in deployed]
wire = [e["wire_bytes"] for e in deployed]
scp = [tuple(map(int, l.split())) for l in open(sys.argv[2])]
if len(dep) != len(scp):
    sys.exit(f"redeploy-speed: {len(dep)} watch deploys for {len(scp)} saves")
size = scp[-1][1]
md, mc, mw = statistics.median(dep), statistics.median(s for s, _ in scp), statistics.median(wire)
print(f"  {sys.argv[3]:<18} {size:10d} {mw:10.0f} {100*mw/size:7.1f}% {md:8.0f} ms {mc:7.0f} ms {mc/md:7.2f}x")
PY
done
