# Sourced by compare.sh and server-cost.sh: starts and stops one server under test on
# 127.0.0.1:$port, each the same way for every script, so their figures compare.
# Needs bin, work and port set; sets server_pid. Clients pass --admin-token "$admin_token".
admin_token=loadtest

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# start_server limit|peer|dynchat [extra dynchatd flags...]
# dynchat starts on an empty data folder, with the per-connection rate limit (sized for
# people) lifted: a simulated agent answers ten chats within milliseconds.
start_server() {
  local label=$1
  shift
  case "$label" in
    limit) "$bin/beast_relay" "$port" & server_pid=$! ;;
    peer) NODE_PATH=/usr/share/nodejs node load-tests/baselines/node_relay.js "$port" & server_pid=$! ;;
    dynchat) rm -rf "$work/data"
      "$bin/dynchatd" --no-seed --admin-token "$admin_token" --data-dir "$work/data" --listen "127.0.0.1:$port" \
        --log-level warn --set websocket.rate_per_second=1000 --set websocket.rate_burst=1000 \
        --set chat.new_conversations_per_second=1000000 --set chat.new_conversations_burst=1000000 --set server.max_connections_per_address=20000 "$@" & server_pid=$! ;;
    *) echo "unknown server '$label': limit, peer or dynchat" >&2; exit 2 ;;
  esac
  wait_port || { echo "$label did not start" >&2; exit 1; }
}

stop_server() { kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
