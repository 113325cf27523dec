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

python3 load-tests/compare_report.py reports "$slo" "$slo_delivery" "$slo_wait"
