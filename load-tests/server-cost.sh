#!/usr/bin/env bash
# What one acked message costs the server in CPU: runs a scenario once against a fresh
# dynchatd (or the limit relay) and reports CPU seconds per thread and microseconds per
# acked message, next to the generator's CPU and the run's figures. Used to weigh server
# changes on a machine where the generator and the server share the cores, where a
# throughput figure alone hides what a change saved.
# Usage: load-tests/server-cost.sh [dynchat|limit] [scenario.toml] [-- extra dynchatd flags]
#   env: COST_PROCS (2), COST_PORT (18802). After scripts/build.sh; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build
server="${1:-dynchat}"
scenario="${2:-load-tests/scenarios/compare.toml}"
shift $(( $# < 2 ? $# : 2 ))
[ "${1:-}" = "--" ] && shift
procs="${COST_PROCS:-2}"
port="${COST_PORT:-18802}"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

. load-tests/servers.sh
case "$server" in
  dynchat | limit) start_server "$server" "$@" ;;
  *) echo "server must be dynchat or limit (the peer is not a native process to read threads from)" >&2; exit 2 ;;
esac

/usr/bin/time -f "%U %S" -o "$work/client-time" "$bin/dynchat-load" --port "$port" --scenario-file "$scenario" \
  --admin-token "$admin_token" --procs "$procs" --report "$work/report.json" > /dev/null 2> "$work/load.log" || true
# Per-thread CPU of the server, read before it exits (utime and stime in clock ticks).
tick=$(getconf CLK_TCK)
for t in /proc/"$server_pid"/task/*; do
  echo "$(cat "$t/comm") $(awk '{print $14, $15}' "$t/stat")"
done > "$work/threads"
stop_server
[ -s "$work/report.json" ] || { echo "the load run wrote no report:" >&2; tail -5 "$work/load.log" >&2; exit 1; }

python3 - "$server" "$work" "$tick" <<'PY'
import json, sys
server, work, tick = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(f"{work}/report.json"))
n = max(r["messages_acked"], 1)
threads = {}
for line in open(f"{work}/threads"):
    name, u, s = line.rsplit(maxsplit=2)
    t = threads.setdefault(name, [0.0, 0.0])
    t[0] += int(u) / tick
    t[1] += int(s) / tick
cu, cs = map(float, open(f"{work}/client-time").read().split())
total = sum(u + s for u, s in threads.values())
print(f"{server}: {r['messages_acked']} acked, {r['acked_per_second']:.0f} acked/s, ok {r['ok']}, "
      f"visitor ack p99 {r['latency']['visitor_ack']['p99_us']/1000:.1f} ms")
print(f"server CPU {total:.2f} s = {total / n * 1e6:.1f} us per acked message; generator CPU {cu + cs:.2f} s")
for name, (u, s) in sorted(threads.items(), key=lambda kv: -sum(kv[1])):
    if u + s >= 0.05:
        print(f"  thread {name:<16} user {u:6.2f} s  sys {s:6.2f} s  {(u + s) / n * 1e6:6.1f} us/msg")
PY
