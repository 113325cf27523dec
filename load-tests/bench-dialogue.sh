#!/usr/bin/env bash
# The dialogue benchmark, in one run on this machine (loopback only, bounded): new
# visitors arrive at the dialogue preset's rate (1,000 a second), meet the demo dialogue
# and walk it (options picked, the email capture filled), and the load tester measures
# each bot message from when it was due (session start, or the visitor's answer) beyond
# the configured response delay.
# Usage: load-tests/bench-dialogue.sh [arrival rate] [bot delay ms]   (after scripts/build.sh)
# Writes reports/bench-dialogue.json and prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-1000}"
delay_ms="${2:-1000}"
port=18420
bin=build
mkdir -p reports
work=$(mktemp -d /tmp/dynchat-bench-dialogue.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Seeded: the first start publishes the demo dialogue, as for a new user.
"$bin/dynchatd" --admin-token bench --data-dir "$work/data" --listen "127.0.0.1:$port" \
  --port-file "$work/port" --log-level warn --set "chat.bot_response_delay_ms=$delay_ms" \
  --set chat.new_conversations_per_second=1000000 --set chat.new_conversations_burst=1000000 \
  --set server.max_connections_per_address=20000 > "$work/server.out" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "server did not start" >&2; exit 1; }

delay_s=$(python3 -c "print($delay_ms/1000)")
cat > "$work/scenario.toml" <<TOML
[scenario]
preset = "dialogue"
[visitors]
arrival_rate = $rate
bot_delay = $delay_s
TOML
"$bin/dynchat-load" --port "$port" --scenario-file "$work/scenario.toml" --max-seconds 90 \
  --label dialogue --report reports/bench-dialogue.json || true
ps -o rss=,time= -p "$server_pid" > "$work/server-ps.txt" || true
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""

python3 - "$work/server-ps.txt" <<'PY'
import json, sys
r = json.load(open("reports/bench-dialogue.json"))
lat = r["latency"]
def ms(name, q): return lat[name][q] / 1000.0
print(f"visitors arrived {r['visitors_arrived']}, met a dialogue {r['dialogues_met']}, answers {r['dialogue_answers']}, "
      f"finished {r['visitors_finished']}, errors {r['errors']}")
for name in ("bot_first", "bot_reply"):
    print(f"{name}: p50 {ms(name, 'p50_us'):.2f} ms  p99 {ms(name, 'p99_us'):.2f} ms  max {ms(name, 'max_us'):.2f} ms beyond the delay")
print("server rss kB, cpu time:", open(sys.argv[1]).read().strip())
PY
