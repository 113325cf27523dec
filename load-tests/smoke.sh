#!/usr/bin/env bash
# A few seconds of the smoke scenario against a real dynchatd on 127.0.0.1: visitors,
# agents, drop-and-resume. Fails unless every acked message arrived once, in order.
# Usage: load-tests/smoke.sh <build dir>
set -euo pipefail
bin="${1:-build}"
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d /tmp/dynchat-smoke.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# Simulated agents answer ten chats each within ~50 ms: lift the per-connection rate
# limit (20 frames/s by default, sized for people) as compare.sh does.
"$bin/dynchatd" --no-seed --admin-token smoke --data-dir "$work/data" --listen 127.0.0.1:0 \
  --port-file "$work/port" --log-level warn --set websocket.rate_per_second=1000 --set websocket.rate_burst=1000 \
  --set chat.new_conversations_per_second=1000000 --set chat.new_conversations_burst=1000000 --set server.max_connections_per_address=20000 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "dynchatd did not start" >&2; exit 1; }
# Once in one client process, once split over two (visitors of one served by agents of
# the other: the merged exactly-once check must still balance).
for procs in 1 2; do
  "$bin/dynchat-load" --port "$(cat "$work/port")" --scenario-file "$here/scenarios/smoke.toml" \
    --admin-token smoke --max-seconds 60 --procs "$procs" --report "$work/report.json"
  python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
problems = [k for k in ("lost", "duplicated", "reordered", "connect_failures", "closed_early", "timed_out") if r[k]]
if r["visitors_finished"] != r["visitors_arrived"] or r["messages_acked"] != r["messages_sent"] or r["visitors_arrived"] != 40:
    problems.append("not every visitor arrived and finished or not every message was acked")
if r["resumed"] == 0:
    problems.append("no visitor resumed")
if r["visitors_known"] == 0:
    problems.append("no visitor was welcomed as a known lead")
if r["errors"]:
    problems.append("errors: " + json.dumps(r["errors"]))
print(f"smoke (procs {r['procs']}):", "ok" if not problems else "FAILED " + ", ".join(problems))
sys.exit(1 if problems else 0)
PY
done
# With no agents (the burst preset, scaled down) acks are all there is to check: every
# message acked once, nothing counted as lost for want of a receiver.
# `--report -` prints the JSON instead of the summary: stdout must parse as the report.
"$bin/dynchat-load" --port "$(cat "$work/port")" --preset burst --arrival-rate 100 --max-seconds 30 \
  --report - > "$work/burst.json"
python3 - "$work/burst.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["ok"] and r["visitors_finished"] == r["visitors_arrived"] == 200 and r["messages_acked"] == 200
print("burst without agents:", "ok" if ok else "FAILED " + json.dumps({k: r[k] for k in ("lost", "messages_acked", "not_ok_because") if k in r}))
sys.exit(0 if ok else 1)
PY
# Capacity mode: two short steps under a generous SLO must both hold.
"$bin/dynchat-load" --port "$(cat "$work/port")" --scenario-file "$here/scenarios/smoke.toml" \
  --admin-token smoke --capacity --capacity-steps 2 --slo-p99-ack-ms 2000 --report "$work/capacity.json" > /dev/null || true
python3 - "$work/capacity.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = len(r["steps"]) == 2 and all(s["ok"] for s in r["steps"]) and r["highest_arrival_rate_held"] == r["steps"][1]["arrival_rate"]
print("capacity:", "ok" if ok else "FAILED", r["highest_arrival_rate_held"], json.dumps(r["steps"]))
sys.exit(0 if ok else 1)
PY
kill -TERM "$server_pid"; wait "$server_pid"; server_pid=""
