#!/usr/bin/env bash
# The Marketo sync's benchmark, in one run on this machine (loopback only, bounded):
#   1. chat alone: the load tester's chat scenario (visitors saying things, acked once
#      durable), its ack p50/p99;
#   2. a full sync of N leads x 50 fields from the stand-in Marketo (load-tests/
#      marketo_standin*), with the same chat load running during it: the ingest rate, the
#      sync's wall time, dynchatd's peak memory, and the chat ack p99 beside (1)'s.
# Usage: load-tests/bench-marketo.sh [leads] [chat visitors]   (after scripts/build.sh)
#   BENCH_SET="--set marketo.sync_batch_leads=100 ..." adds settings to dynchatd's.
# Writes reports/bench-marketo-*.json and prints the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
leads="${1:-1000000}"
visitors="${2:-200}"
msg_rate=5        # per visitor per second: 1,000 messages/s with 200 visitors
duration=12
port=18450
bin=build
mkdir -p reports
work=$(mktemp -d /tmp/dynchat-bench-marketo.XXXXXX)
server_pid=""; standin_pid=""; sampler_pid=""
cleanup() {
  for p in "$sampler_pid" "$server_pid" "$standin_pid"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The stand-in: leads created over 400 days (13 export windows), a quota the whole
# export fits in (Marketo's default 500 MB would make a sync this size wait a day).
# It runs at idle CPU priority: Marketo is a remote service, and here its CSV generator
# would otherwise take a core's worth of CPU from the chat being measured.
chrt --idle 0 "$bin/marketo-standin" --leads "$leads" --custom-fields 60 --created-span-days 400 --quota-mb 4000 --ignore-stdin \
  > "$work/standin.out" 2>&1 &
standin_pid=$!; disown
for _ in $(seq 100); do grep -q listening "$work/standin.out" 2>/dev/null && break; sleep 0.1; done
standin_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/standin.out")

since=$(python3 -c "import datetime; print((datetime.date.today() - datetime.timedelta(days=401)).isoformat())")
"$bin/dynchatd" --no-seed --admin-token bench --data-dir "$work/data" --listen "127.0.0.1:$port" \
  --port-file "$work/port" --log-level warn \
  --set websocket.rate_per_second=100000 --set websocket.rate_burst=100000 \
  --set chat.new_conversations_per_second=1000000 --set chat.new_conversations_burst=1000000 \
  --set server.max_connections_per_address=20000 --set store.map_size_mb=8192 \
  --set marketo.poll_interval_ms=200 --set marketo.download_chunk_bytes=16777216 \
  --set "marketo.full_sync_since=\"$since\"" ${BENCH_SET:-} > "$work/server.out" 2>&1 &
server_pid=$!; disown
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "server did not start" >&2; exit 1; }

# Peak anonymous memory (the heap: what the 256 MiB target is about) and peak RSS
# (which also counts LMDB's file pages the kernel maps in and may drop), sampled.
(peak_anon=0; peak_rss=0
 while kill -0 "$server_pid" 2>/dev/null; do
   a=$(awk '/^RssAnon/{print $2}' /proc/$server_pid/status 2>/dev/null || echo 0)
   r=$(awk '/^VmRSS/{print $2}' /proc/$server_pid/status 2>/dev/null || echo 0)
   [ "${a:-0}" -gt "$peak_anon" ] && peak_anon=$a; [ "${r:-0}" -gt "$peak_rss" ] && peak_rss=$r
   echo "$peak_anon $peak_rss" > "$work/peak"; sleep 0.2
 done) &
sampler_pid=$!; disown

python3 - "$port" "$standin_url" <<'PY'
import json, sys, urllib.request
port, standin = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Authorization": "Bearer bench"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")
c = call("PUT", "/v1/integrations/marketo", {"rest_url": standin + "/rest", "identity_url": standin + "/identity",
         "client_id": "standin-client", "client_secret": "standin-secret"})
assert c["status"] == "connected", c
described = [f["name"] for f in call("GET", "/v1/integrations/marketo/fields")["fields"] if not f["read_only"]]
chosen = [f for f in described if f != "email"][:49]  # + email: 50
call("PUT", "/v1/integrations/marketo/fields", {"fields": chosen})
PY

chat() { # label
  "$bin/dynchat-load" --port "$port" --scenario chat --visitors "$visitors" --msg-rate "$msg_rate" \
    --duration "$duration" --label "$1" --report "reports/bench-marketo-$1.json" > /dev/null || true
}
chat warm_up  # connections, caches and the page cache settle; not reported
chat chat_alone
read -r anon_before rss_before < "$work/peak"
curl -s -X POST -H "Authorization: Bearer bench" "http://127.0.0.1:$port/v1/integrations/marketo/sync" > /dev/null
chat chat_during_sync
for _ in $(seq 1200); do
  curl -s -H "Authorization: Bearer bench" "http://127.0.0.1:$port/v1/integrations/marketo/sync" > "$work/sync.json"
  python3 -c "import json,sys; sys.exit(0 if json.load(open('$work/sync.json'))['state'] in ('completed','failed') else 1)" && break
  sleep 0.5
done
cp "$work/sync.json" reports/bench-marketo-sync.json
curl -s "http://127.0.0.1:$port/metrics" > reports/bench-marketo-metrics.txt
read -r anon_peak _ < "$work/peak"
rss_peak=$(awk '/^VmHWM/{print $2}' /proc/$server_pid/status)  # the kernel's own peak, not a sample

python3 - "$leads" "$anon_before" "$anon_peak" "$rss_peak" <<'PY'
import json, sys
leads, anon_before, anon_peak, rss_peak = int(sys.argv[1]), *map(int, sys.argv[2:])
s = json.load(open("reports/bench-marketo-sync.json"))
a = json.load(open("reports/bench-marketo-chat_alone.json"))
d = json.load(open("reports/bench-marketo-chat_during_sync.json"))
import datetime
def t(x): return datetime.datetime.strptime(x, "%Y-%m-%dT%H:%M:%SZ")
wall = (t(s["finished_at"]) - t(s["started_at"])).total_seconds() if s["finished_at"] else float("nan")
print(f"sync: {s['state']}, {s['records_done']} of {leads} leads x {s['fields']} columns, {s['bad_rows']} bad rows, "
      f"{s['leads_stored']} stored, {s['window']['of']} windows")
print(f"  ingest rate (fetching, parsing, storing): {s['rate_per_s']} leads/s; wall time {wall:.0f} s "
      f"({s['records_done']/max(wall,1):.0f} leads/s, export waits included)")
print(f"  dynchatd memory: heap (RssAnon) {anon_before/1024:.0f} MiB before the sync, peak {anon_peak/1024:.0f} MiB; "
      f"peak RSS with LMDB's mapped file pages {rss_peak/1024:.0f} MiB")
for label, r in (("chat alone", a), ("chat during the sync", d)):
    l = r["ack_latency"]
    print(f"  {label:<22} acked/s {r['acked_per_second']:>7.0f}  ack p50 {l['p50_us']/1000:6.2f} ms  p99 {l['p99_us']/1000:6.2f} ms"
          f"  unacked {r['unacked']}")
def quantiles(name):  # the bucket bounds holding p50 and p99 of a Prometheus histogram
    buckets = []
    for line in open("reports/bench-marketo-metrics.txt"):
        if line.startswith(name + "_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), int(line.split()[-1])))
    total = buckets[-1][1] if buckets else 0
    q = lambda p: next((le for le, n in buckets if n >= p * total), float("nan")) if total else float("nan")
    return total, q(0.5), q(0.99)
for label, name in (("chat commits", "dynchat_commit_latency_seconds"), ("sync commits", "dynchat_bulk_commit_latency_seconds")):
    n, p50, p99 = quantiles(name)
    print(f"  {label:<22} {n:>7} commits, p50 <= {p50*1000:.1f} ms, p99 <= {p99*1000:.1f} ms")
print(f"  chat ack p99 during / alone: {d['ack_latency']['p99_us']/max(a['ack_latency']['p99_us'],1):.2f}x")
PY
