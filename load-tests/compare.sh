#!/usr/bin/env bash
# Runs one scenario, with the same tool and message size, against three servers in one
# run, so that every figure is a ratio measured side by side:
#   limit   - build/beast_relay: a minimal Beast relay, no actors, no storage
#   peer    - baselines/node_relay.js on Debian's nodejs + node-ws, the same relay
#   dynchat - build/dynchatd, acking every message after a durable commit
# Two passes per server, each a fresh server process:
#   equal load - the scenario as written: latency side by side at one offered load
#   capacity   - capacity mode from --arrival-rate $base, x$factor a step, until an SLO (p99
#                ack $slo ms, p99 delivery each way $slo_delivery ms, p99 wait for an agent
#                $slo_wait ms) or correctness breaks: the highest load each one holds
# The load generator runs in $procs processes (dynchat-load --procs).
# Usage: load-tests/compare.sh [scenario.toml]   (after scripts/build.sh; loopback only)
#   env: COMPARE_PROCS (2), COMPARE_SLO_MS (100), COMPARE_SLO_DELIVERY_MS (250),
#        COMPARE_SLO_WAIT_MS (1000), COMPARE_BASE_RATE (100), COMPARE_FACTOR (1.25),
#        COMPARE_STEPS (12: to 1,164 visitors/s)
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-load-tests/scenarios/compare.toml}"
bin=build
port=18500
procs="${COMPARE_PROCS:-2}"
slo="${COMPARE_SLO_MS:-100}"
slo_delivery="${COMPARE_SLO_DELIVERY_MS:-250}"
slo_wait="${COMPARE_SLO_WAIT_MS:-1000}"
base="${COMPARE_BASE_RATE:-100}"
factor="${COMPARE_FACTOR:-1.25}"
steps="${COMPARE_STEPS:-12}"
mkdir -p reports
missing=()
for p in nodejs node-ws gnuplot-nox; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
work=$(mktemp -d /tmp/dynchat-compare.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

. load-tests/servers.sh

for server in limit peer dynchat; do
  echo "equal load: $server" >&2
  start_server "$server"
  "$bin/dynchat-load" --port "$port" --scenario-file "$scenario" --admin-token "$admin_token" --procs "$procs" \
    --report "reports/compare-$server.json" > /dev/null 2> "reports/compare-$server.log" || true
  stop_server
done
for server in limit peer dynchat; do
  echo "capacity: $server" >&2
  start_server "$server"
  "$bin/dynchat-load" --port "$port" --scenario-file "$scenario" --admin-token "$admin_token" --procs "$procs" \
    --capacity --arrival-rate "$base" --capacity-factor "$factor" --capacity-steps "$steps" --slo-p99-ack-ms "$slo" \
    --slo-p99-delivery-ms "$slo_delivery" --slo-p99-agent-wait-ms "$slo_wait" \
    --report "reports/capacity-$server.json" > /dev/null 2> "reports/capacity-$server.log" || true
  stop_server
done

COMPARE_SLO_MS="$slo" COMPARE_SLO_DELIVERY_MS="$slo_delivery" COMPARE_SLO_WAIT_MS="$slo_wait" python3 - <<'PY'
import json, os, shutil, subprocess
rows = {k: json.load(open(f"reports/compare-{k}.json")) for k in ("limit", "peer", "dynchat")}
# Plots (PNG, beside the JSON): latency percentiles and throughput over time.
if shutil.which("gnuplot"):
    with open("reports/compare-latency.dat", "w") as f:
        f.write("pct limit peer dynchat\n")
        for q in ("p50_us", "p90_us", "p99_us", "p999_us"):
            f.write(q.replace("_us", "") + " " + " ".join(str(rows[k]["latency"]["visitor_ack"][q] / 1000) for k in rows) + "\n")
    for k, r in rows.items():
        with open(f"reports/compare-timeline-{k}.dat", "w") as f:
            for s in r.get("timeline", []):
                f.write(f"{s['t']:.1f} {s['acked']}\n")
    subprocess.run(["gnuplot", "-e", """
set terminal pngcairo size 900,500; set output 'reports/compare-latency.png';
set title 'visitor ack latency by percentile (same scenario, same tool)'; set ylabel 'ms'; set logscale y;
set style data histograms; set style fill solid; set key top left;
plot 'reports/compare-latency.dat' using 2:xtic(1) title 'limit (Beast relay)', '' using 3 title 'peer (Node ws relay)', '' using 4 title 'dynchat (durable)'
"""], check=True)
    subprocess.run(["gnuplot", "-e", """
set terminal pngcairo size 900,500; set output 'reports/compare-throughput.png';
set title 'acked messages per second'; set xlabel 's'; set ylabel 'msgs/s'; set key top left;
plot 'reports/compare-timeline-limit.dat' with lines lw 2 title 'limit', 'reports/compare-timeline-peer.dat' with lines lw 2 title 'peer', 'reports/compare-timeline-dynchat.dat' with lines lw 2 title 'dynchat'
"""], check=True)
    print("plots: reports/compare-latency.png, reports/compare-throughput.png")
print(f"{'server':<9}{'acked/s':>9}{'visitor ack p50/p99 ms':>24}{'v->a p99 ms':>13}{'a->v p99 ms':>13}{'wait p99 ms':>13}"
      f"{'lost':>6}{'dup':>5}{'reord':>6}")
for k, r in rows.items():
    l = r["latency"]
    print(f"{k:<9}{r['acked_per_second']:>9.0f}{l['visitor_ack']['p50_us']/1000:>12.1f}/{l['visitor_ack']['p99_us']/1000:<11.1f}"
          f"{l['visitor_to_agent']['p99_us']/1000:>13.1f}{l['agent_to_visitor']['p99_us']/1000:>13.1f}"
          f"{l['agent_wait']['p99_us']/1000:>13.1f}"
          f"{r['lost']:>6}{r['duplicated']:>5}{r['reordered']:>6}")
d, lim, peer = rows["dynchat"], rows["limit"], rows["peer"]
print(f"equal load: dynchat / limit throughput: {d['acked_per_second']/max(lim['acked_per_second'],1):.2f}; "
      f"dynchat / peer: {d['acked_per_second']/max(peer['acked_per_second'],1):.2f}")
caps = {k: json.load(open(f"reports/capacity-{k}.json")) for k in ("limit", "peer", "dynchat")}
print(f"\ncapacity (p99 visitor ack <= {os.environ['COMPARE_SLO_MS']} ms, p99 delivery <= "
      f"{os.environ['COMPARE_SLO_DELIVERY_MS']} ms, p99 wait for an agent <= {os.environ['COMPARE_SLO_WAIT_MS']} ms, "
      "0 lost/dup/reordered):")
print(f"{'server':<9}{'visitors/s held':>16}{'acked/s there':>15}{'ack p99 ms there':>18}   steps (visitors/s: ok, or what broke)")
held = {}
for k, c in caps.items():
    ok_steps = [s for s in c.get("steps", []) if s["ok"]]
    best = ok_steps[-1] if ok_steps else None
    held[k] = best["acked_per_second"] if best else 0
    trail = ", ".join(f"{s['arrival_rate']:.0f}:" + ("ok" if s["ok"] else "; ".join(s.get("not_ok_because", [])) or "no")
                      for s in c.get("steps", []))
    print(f"{k:<9}{c.get('highest_arrival_rate_held', 0):>16.0f}{held[k]:>15.0f}"
          f"{(best['p99_visitor_ack_us']/1000 if best else 0):>18.1f}   {trail}")
print(f"at capacity: dynchat / limit: {held['dynchat']/max(held['limit'],1):.2f}; dynchat / peer: {held['dynchat']/max(held['peer'],1):.2f}")
for k, c in caps.items():
    if c.get("steps") and all(s["ok"] for s in c["steps"]):
        print(f"note: {k} held every step, so its figure is a lower bound (raise COMPARE_STEPS)")
PY
