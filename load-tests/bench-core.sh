#!/usr/bin/env bash
# The chat core's benchmark, in one run on this machine (loopback only, bounded):
#   1. acked messages/s and ack latency at the same offered load with group commit,
#      then with one durable commit per message (the ratio is the point);
#   2. the server's RSS per idle visitor session with N sessions open.
# Usage: load-tests/bench-core.sh [offered msgs/s] [idle sessions]   (after scripts/build.sh)
# Writes reports/bench-core-*.json and prints a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
offered="${1:-20000}"
idle="${2:-10000}"
visitors=500
duration=10
port=18400
bin=build
mkdir -p reports
work=$(mktemp -d /tmp/dynchat-bench.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_server() { # extra --set flags
  rm -rf "$work/data"
  "$bin/dynchatd" --no-seed --admin-token bench --data-dir "$work/data" --listen "127.0.0.1:$port" \
    --port-file "$work/port" --log-level warn \
    --set websocket.rate_per_second=100000 --set websocket.rate_burst=100000 \
    --set chat.max_in_flight=100000 --set websocket.max_outbound_frames=200000 \
    --set chat.new_conversations_per_second=1000000 --set chat.new_conversations_burst=1000000 --set server.max_connections_per_address=20000 \
    --set websocket.max_outbound_bytes=104857600 "$@" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && return 0; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop_server() { kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""; rm -f "$work/port"; }

run_chat() { # label, --set value for store.group_commit, offered msgs/s
  start_server --set "store.group_commit=$2"
  "$bin/dynchat-load" --port "$port" --scenario chat --visitors "$visitors" \
    --msg-rate "$(python3 -c "print($3/$visitors)")" --duration "$duration" \
    --label "$1" --report "reports/bench-core-$1.json" > /dev/null || true
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^dynchat_commit_(batch_size|latency_seconds)_(sum|count)' \
    > "reports/bench-core-$1.commits.txt" || true
  stop_server
}

run_chat group_commit true "$offered"
run_chat commit_per_message false "$offered"
run_chat group_commit_saturated true "$((offered * 2))"
start_server
"$bin/dynchat-load" --port "$port" --scenario idle --visitors "$idle" --connect-rate 2000 --hold 8 \
  --server-pid "$server_pid" --label idle --report reports/bench-core-idle.json > /dev/null || true
stop_server

python3 - "$offered" <<'PY'
import json, sys
g = json.load(open("reports/bench-core-group_commit.json"))
s = json.load(open("reports/bench-core-commit_per_message.json"))
x = json.load(open("reports/bench-core-group_commit_saturated.json"))
def commits(label):
    m = dict(l.split() for l in open(f"reports/bench-core-{label}.commits.txt"))
    n = float(m["dynchat_commit_batch_size_count"])
    return n, float(m["dynchat_commit_batch_size_sum"]) / n, 1000 * float(m["dynchat_commit_latency_seconds_sum"]) / n
i = json.load(open("reports/bench-core-idle.json"))
print(f"offered load: {sys.argv[1]} msgs/s, {g['visitors']} visitors, JSON, 64-byte texts")
print(f"{'mode':<26}{'offered/s':>10}{'acked/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'unacked@stop':>13}{'dup':>5}{'reord':>6}{'commits':>9}{'req/commit':>11}{'ms/commit':>10}")
for r in (g, s, x):
    a = r["ack_latency"]
    n, per, ms = commits(r["label"])
    print(f"{r['label']:<26}{r['sent']/10:>10.0f}{r['acked_per_second']:>10.0f}{a['p50_us']/1000:>9.1f}{a['p99_us']/1000:>9.1f}"
          f"{r['unacked']:>13}{r['duplicate_acks']:>5}{r['reordered_acks']:>6}{n:>9.0f}{per:>11.1f}{ms:>10.2f}")
print(f"acked/s ratio at equal offered load: {g['acked_per_second']/max(s['acked_per_second'],1):.1f}x; "
      f"at capacity (saturated group vs per-message): {x['acked_per_second']/max(s['acked_per_second'],1):.1f}x")
print(f"idle: {i['connected']} sessions, server RSS {i.get('server_rss_before_kib')} -> {i.get('server_rss_loaded_kib')} KiB, "
      f"{i.get('server_rss_per_session_bytes', 0)/1024:.1f} KiB per session; "
      f"session set-up p50 {i['session_setup']['p50_us']/1000:.1f} ms p99 {i['session_setup']['p99_us']/1000:.1f} ms")
PY
