#!/usr/bin/env bash
# Save → new program running, on the local-arm64 target (qemu-user): runs
# `armbench watch --json` on a scratch copy of the sample workload, edits
# its main.go ROUNDS times (a one-line change of the header it prints), and
# from the JSON events splits each save's latency into debounce + start of
# the build, the build itself, the deploy, and stop/start until the new
# version's first line. The overhead is everything but the build (the goal
# is ≤ 1 s). The obvious alternative, `armbench deploy && armbench run` by
# hand after the same edit, is timed too.
#
#   scripts/watch-latency.sh [ROUNDS]      (default 5)
#
# Needs go, python3 and qemu-user-static (or binfmt_misc for arm64).
set -euo pipefail

rounds=${ROUNDS:-${1:-5}}
debounce=${DEBOUNCE:-300ms}
cd "$(dirname "$0")/.."
for tool in go python3; do
	command -v "$tool" >/dev/null || { echo "watch-latency: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
watch_pid=
cleanup() {
	if [ -n "$watch_pid" ]; then kill -INT "$watch_pid" 2>/dev/null && wait "$watch_pid" 2>/dev/null || :; fi
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/armbench" .
mkdir "$work/ws"
cp go.mod go.sum targets.toml "$work/ws/"
cp -r examples "$work/ws/"
cd "$work/ws"
main=examples/workload/main.go
cp "$main" "$work/main.go.orig"
args=(--target local-arm64 --profile release)
prog=(-- -duration 50ms -mode chan)

# edit N: the header line says workload-rN, a change the binary carries.
# The save (an atomic rename, as editors do) is timed after the rename.
edit() {
	sed "s|\"workload %s/%s GOMAXPROCS|\"workload-r$1 %s/%s GOMAXPROCS|" "$work/main.go.orig" >"$main.tmp"
	t_save=$(python3 -c 'import os, sys, time; os.rename(sys.argv[1], sys.argv[2]); print(f"{time.time():.6f}")' "$main.tmp" "$main")
}
now() { python3 -c 'import time; print(f"{time.time():.6f}")'; }

# Warm the build cache and the device, as a session that has been running.
"$work/armbench" deploy "${args[@]}" >/dev/null 2>&1

"$work/armbench" watch "${args[@]}" --debounce "$debounce" --json "${prog[@]}" >"$work/events.jsonl" 2>"$work/watch.err" &
watch_pid=$!
wait_for() { # wait_for TEXT FILE: until an output line containing TEXT
	for _ in $(seq 1 1200); do
		grep -q "\"type\":\"output\".*$1" "$2" && return 0
		sleep 0.05
	done
	echo "watch-latency: no output $1 in $2" >&2
	cat "$work/watch.err" >&2
	exit 1
}
wait_for 'workload linux/arm64' "$work/events.jsonl"
sleep 1

: >"$work/saves"
for r in $(seq 1 "$rounds"); do
	edit "w$r"
	echo "w$r $t_save" >>"$work/saves"
	wait_for "workload-rw$r linux" "$work/events.jsonl"
	sleep 1
done
kill -INT "$watch_pid"
wait "$watch_pid" || :
watch_pid=

# The alternative: the same edit, then deploy and run by hand.
: >"$work/manual"
for r in $(seq 1 "$rounds"); do
	edit "m$r"
	t0=$t_save
	"$work/armbench" deploy "${args[@]}" >/dev/null 2>&1
	# The time of the first line, as watch's is: the program runs 50 ms more.
	"$work/armbench" run "${args[@]}" "${prog[@]}" 2>/dev/null | while read -r line; do
		case $line in *"workload-rm$r "*) echo "m$r $t0 $(now)" >>"$work/manual" ;; esac
	done
	grep -q "^m$r " "$work/manual" || { echo "watch-latency: manual round $r did not run the edit" >&2; exit 1; }
done

python3 - "$work/events.jsonl" "$work/saves" "$work/manual" "$debounce" <<'PY'
import json, sys, statistics
from datetime import datetime

def ts(s):
    # RFC 3339 with nanoseconds: keep microseconds for datetime.
    s = s.replace("Z", "+00:00")
    head, _, tz = s.rpartition("+")
    if "." in head:
        a, b = head.split(".")
        head = a + "." + b[:6].ljust(6, "0")
    return datetime.fromisoformat(head + "+" + tz).timestamp()

events = [json.loads(l) for l in open(sys.argv[1])]
saves = [l.split() for l in open(sys.argv[2])]
manual = [l.split() for l in open(sys.argv[3])]
by_cycle = {}
for e in events:
    if "cycle" in e:
        by_cycle.setdefault(e["cycle"], []).append(e)

rows = []
for tag, t_save in saves:
    t_save = float(t_save)
    for c, evs in sorted(by_cycle.items()):
        out = [e for e in evs if e["type"] == "output" and f"workload-r{tag} " in e.get("text", "")]
        if not out:
            continue
        build = [e for e in evs if e["type"] == "build"]
        step = [e for e in evs if e["type"] == "step"]
        dep = [e for e in evs if e["type"] == "deployed"]
        started = [e for e in evs if e["type"] == "started"]
        t_build, t_deploy = ts(build[0]["time"]), ts(step[0]["time"])
        t_started, t_out = ts(started[0]["time"]), ts(out[0]["time"])
        rows.append(dict(total=t_out - t_save, to_build=t_build - t_save, build=t_deploy - t_build,
                         deploy=t_started - t_deploy, start=t_out - t_started, running=t_started - t_save))
        break

def ms(x): return f"{x*1000:7.0f}"
print(f"armbench watch on local-arm64 (release), debounce {sys.argv[4]}, {len(rows)} saves; milliseconds")
print("(save→build includes the debounce; deploy runs to the old program stopped and the new one started;")
print(" start→1st line is the program's own start-up, under qemu-user here)")
print("            save→build  build  deploy  start→1st line  save→running − build  save→1st line − build")
for i, r in enumerate(rows, 1):
    print(f"  save {i:2d}   {ms(r['to_build'])} {ms(r['build'])} {ms(r['deploy'])} {ms(r['start']):>14} {ms(r['running'] - r['build']):>21} {ms(r['total'] - r['build']):>22}")
med = lambda f: statistics.median(f(r) for r in rows)
print(f"  median    {ms(med(lambda r: r['to_build']))} {ms(med(lambda r: r['build']))} {ms(med(lambda r: r['deploy']))} {ms(med(lambda r: r['start'])):>14} "
      f"{ms(med(lambda r: r['running'] - r['build'])):>21} {ms(med(lambda r: r['total'] - r['build'])):>22}")
print(f"  median save→1st line {ms(med(lambda r: r['total'])).strip()} ms")
man = [float(b) - float(a) for _, a, b in manual]
print(f"by hand (edit, armbench deploy && armbench run, to the first line): median {ms(statistics.median(man))} ms over {len(man)} edits")
PY
