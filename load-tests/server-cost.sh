#!/usr/bin/env bash
# What one acked message costs the server in CPU: runs a scenario once against a fresh
# dynchatd (or the limit relay, or the Node peer) and reports the process's CPU and
# microseconds per acked message, per thread too, next to the generator's CPU and the
# run's figures. Used to weigh server
# changes on a machine where the generator and the server share the cores, where a
# throughput figure alone hides what a change saved.
# Usage: load-tests/server-cost.sh [dynchat|limit|peer] [scenario.toml] [-- extra dynchatd flags]
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
if [ "$server" = peer ] && ! dpkg-query -W -f='${Status}' node-ws 2>/dev/null | grep -q "install ok installed"; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends nodejs node-ws
fi
case "$server" in
  dynchat | limit | peer) start_server "$server" "$@" ;;
  *) echo "server must be dynchat, limit or peer" >&2; exit 2 ;;
esac

/usr/bin/time -f "%U %S" -o "$work/client-time" "$bin/dynchat-load" --port "$port" --scenario-file "$scenario" \
  --admin-token "$admin_token" --procs "$procs" --report "$work/report.json" > /dev/null 2> "$work/load.log" || true
# The server's CPU, read before it exits (utime and stime in clock ticks): the whole
# process from /proc/PID/stat (threads that already ended included), and each thread.
# comm may hold spaces, so the fields are counted from after its closing parenthesis.
tick=$(getconf CLK_TCK)
ticks() { sed 's/.*) //' "$1" | awk '{print $12, $13}'; }
ticks /proc/"$server_pid"/stat > "$work/process"
for t in /proc/"$server_pid"/task/*; do
  echo "$(cat "$t/comm" | tr ' ' '_') $(ticks "$t/stat")"
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
total = sum(int(x) for x in open(f"{work}/process").read().split()) / tick
print(f"{server}: {r['messages_acked']} acked, {r['acked_per_second']:.0f} acked/s, ok {r['ok']}, "
      f"visitor ack p99 {r['latency']['visitor_ack']['p99_us']/1000:.1f} ms")
print(f"server CPU {total:.2f} s = {total / n * 1e6:.1f} us per acked message; generator CPU {cu + cs:.2f} s")
for name, (u, s) in sorted(threads.items(), key=lambda kv: -sum(kv[1])):
    if u + s >= 0.05:
        print(f"  thread {name:<16} user {u:6.2f} s  sys {s:6.2f} s  {(u + s) / n * 1e6:6.1f} us/msg")
PY
