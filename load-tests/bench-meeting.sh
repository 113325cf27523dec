#!/usr/bin/env bash
# The booking race, in one run on this machine (loopback only, bounded): 10 agents with
# 10 free half hours each (100 slots in all), a published dialogue whose meeting card
# offers them round robin, and the load tester's meeting preset: 1,000 visitors arriving
# within half a second are shown the times, then all send their booking at one instant
# (one of the times shown, at random), and try again from fresh times when theirs was
# just taken, up to 40 times. Afterwards the store is read back over REST:
# exactly 100 meetings, no two of an agent's overlapping.
# Usage: load-tests/bench-meeting.sh [visitors]   (after scripts/build.sh)
# Writes reports/bench-meeting.json and prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
visitors="${1:-1000}"
port=18430
bin=build
mkdir -p reports
work=$(mktemp -d /tmp/dynchat-bench-meeting.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/dynchatd" --admin-token bench --data-dir "$work/data" --listen "127.0.0.1:$port" --no-seed \
  --port-file "$work/port" --log-level warn --set chat.bot_response_delay_ms=0 \
  --set chat.new_conversations_per_second=1000000 --set chat.new_conversations_burst=1000000 \
  --set server.max_connections_per_address=20000 > "$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "server did not start" >&2; exit 1; }

# Ten agents free all day but for one five-hour window tomorrow (their .ics says the rest
# is busy): ten half-hour slots each. A dialogue whose meeting card offers them.
python3 - "$port" <<'PY'
import json, sys, time, urllib.request
port = sys.argv[1]
def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": "Bearer bench"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")
def ics_time(ms): return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ms / 1000))
now = int(time.time() * 1000)
window = (now // 3600000 + 24) * 3600000  # a whole hour, a day from now
week = [{"day": d, "start": "00:00", "end": "24:00"} for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")]
busy = [(now - 86400000, window), (window + 5 * 3600000, now + 20 * 86400000)]
events = "".join(f"BEGIN:VEVENT\r\nUID:busy{i}@bench\r\nDTSTAMP:{ics_time(now)}\r\nDTSTART:{ics_time(a)}\r\n"
                 f"DTEND:{ics_time(b)}\r\nEND:VEVENT\r\n" for i, (a, b) in enumerate(busy))
ics = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n{events}END:VCALENDAR\r\n".encode()
for i in range(10):
    a = call("POST", "/v1/agents", {"name": f"agent{i}", "email": f"agent{i}@bench.example"})
    call("PUT", f"/v1/agents/{a['id']}/calendar",
         {"time_zone": "UTC", "availability": week, "duration_min": 30, "min_notice_min": 0, "horizon_days": 3})
    call("PUT", f"/v1/agents/{a['id']}/calendar/ics", raw=ics)
d = call("POST", "/v1/dialogues", {
    "name": "Book a demo", "priority": 1, "audience": {"urls": ["https://load.test/*"]}, "start": "meet",
    "cards": [{"id": "meet", "kind": "meeting", "text": "Pick a time", "next": "bye", "fallback": "none"},
              {"id": "none", "kind": "end", "text": "Nobody can meet."},
              {"id": "bye", "kind": "end", "text": "Bye!"}]})
call("POST", f"/v1/dialogues/{d['id']}/publish")
free = call("GET", "/v1/slots?limit=500")
print(f"set up: 10 agents, {len(free['slots'])} free slots for the first in turn")
PY

cat > "$work/scenario.toml" <<TOML
[scenario]
preset = "meeting"
[visitors]
arrival_rate = $((visitors * 2))
max_concurrent = $((visitors + 100))
TOML
/usr/bin/time -v "$bin/dynchat-load" --port "$port" --scenario-file "$work/scenario.toml" --max-seconds 60 \
  --label meeting --report reports/bench-meeting.json 2> "$work/load-time.txt" || true
ps -o rss=,time= -p "$server_pid" > "$work/server-ps.txt" || true

python3 - "$port" "$work/server-ps.txt" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/meetings?limit=1000", headers={"Authorization": "Bearer bench"})
meetings = json.loads(urllib.request.urlopen(req, timeout=10).read())["meetings"]
by_agent = {}
for m in meetings:
    by_agent.setdefault(m["agent_id"], []).append((m["start_ms"], m["end_ms"]))
overlaps = 0
for spans in by_agent.values():
    spans.sort()
    overlaps += sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
r = json.load(open("reports/bench-meeting.json"))
lat = r["latency"]
def ms(name, q): return lat[name][q] / 1000.0
print(f"visitors {r['visitors_arrived']}, bookings sent {r['bookings_sent']}, booked {r['meetings_booked']}, "
      f"refused {r['bookings_refused']}, no times left {r['no_times_left']}, double-booked (client) {r['double_booked']}, "
      f"errors {r['errors']}")
print(f"stored meetings {len(meetings)} over {len(by_agent)} agents, overlapping pairs {overlaps}")
for name in ("meeting_slots", "meeting_booking"):
    print(f"{name}: p50 {ms(name, 'p50_us'):.2f} ms  p99 {ms(name, 'p99_us'):.2f} ms  max {ms(name, 'max_us'):.2f} ms")
print("server rss kB, cpu time:", open(sys.argv[2]).read().strip())
ok = len(meetings) == 100 and overlaps == 0 and r["double_booked"] == 0 and r["meetings_booked"] == 100
print("result:", "OK" if ok else "NOT OK")
sys.exit(0 if ok else 1)
PY
status=$?
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
exit $status
