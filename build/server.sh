#!/usr/bin/env bash
# Local livekit-server for tests and demos (dev keys devkey/secret, ws://127.0.0.1:7880).
#
#   build/server.sh start [RUN_DIR] [-- EXTRA_SERVER_ARGS...]  background; RUN_DIR/server.pid, server.log
#   build/server.sh stop  [RUN_DIR]                            SIGTERM twice (drain+force), SIGKILL after 5 s
#   build/server.sh run   [-- EXTRA_SERVER_ARGS...]            foreground (demo), logs to stderr
#   build/server.sh path                                       print the binary (building it if needed)
#
# RUN_DIR defaults to $LKPW_RUN_DIR or /tmp/livekit-pyweb-server.
#
# The server must run inside a network namespace of our own: start/run refuse when the current
# namespace has interfaces other than lo/veth0/veth1 (set LKPW_ALLOW_HOST_NETNS=1 to override).
# Typical use:  build/netns.sh bash -c 'build/server.sh start /tmp/lk && exec my-test'
#
# Binary: $LKPW_SERVER_BIN, else ${LKPW_CACHE:-$HOME/.cache/livekit-pyweb}/bin/server, else
# `livekit-server` on PATH, else `go install github.com/livekit/livekit-server/cmd/server@v1.13.5`
# into that cache dir (needs the Go module proxy, so do it outside the namespace: `server.sh path`).
#
# Env: LKPW_SERVER_CONFIG (default build/livekit.yaml), LKPW_LOG_LEVEL (overrides the config's
# level: debug|info|warn), LKPW_NODE_IP (default 127.0.0.1), LKPW_START_TIMEOUT (s, default 30).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LKPW_CACHE="${LKPW_CACHE:-$HOME/.cache/livekit-pyweb}"
SERVER_VERSION="v1.13.5"
CONFIG="${LKPW_SERVER_CONFIG:-$HERE/livekit.yaml}"
NODE_IP="${LKPW_NODE_IP:-127.0.0.1}"
HTTP_URL="http://127.0.0.1:7880/"

die() { echo "server.sh: $*" >&2; exit 1; }

server_bin() {
  if [[ -n "${LKPW_SERVER_BIN:-}" ]]; then
    [[ -x "$LKPW_SERVER_BIN" ]] || die "LKPW_SERVER_BIN=$LKPW_SERVER_BIN is not executable"
    echo "$LKPW_SERVER_BIN"; return
  fi
  if [[ -x "$LKPW_CACHE/bin/server" ]]; then echo "$LKPW_CACHE/bin/server"; return; fi
  if command -v livekit-server >/dev/null 2>&1; then command -v livekit-server; return; fi
  command -v go >/dev/null 2>&1 || die "no livekit-server binary and no Go toolchain to build one"
  echo "server.sh: building livekit-server $SERVER_VERSION into $LKPW_CACHE/bin (several minutes)" >&2
  mkdir -p "$LKPW_CACHE/bin"
  CGO_ENABLED=0 GOBIN="$LKPW_CACHE/bin" \
    go install "github.com/livekit/livekit-server/cmd/server@$SERVER_VERSION" >&2 \
    || die "go install failed"
  echo "$LKPW_CACHE/bin/server"
}

check_netns() {
  [[ "${LKPW_ALLOW_HOST_NETNS:-0}" == 1 ]] && return
  local foreign
  foreign="$(ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -vxE 'lo|veth0|veth1' || true)"
  [[ -z "$foreign" ]] || die "refusing to start outside a private network namespace (interfaces: $(echo $foreign)); wrap the command in build/netns.sh"
}

server_args() {
  local args=(--dev --bind 127.0.0.1 --node-ip "$NODE_IP" --config "$CONFIG")
  [[ -n "${LKPW_LOG_LEVEL:-}" ]] && args+=(--logging.level "$LKPW_LOG_LEVEL")
  printf '%s\0' "${args[@]}"
}

http_up() { curl -s -o /dev/null --max-time 1 "$HTTP_URL"; }

cmd="${1:-}"; shift || true
case "$cmd" in
  path)
    server_bin
    ;;
  run)
    [[ "${1:-}" == "--" ]] && shift
    check_netns
    bin="$(server_bin)"
    mapfile -d '' args < <(server_args)
    exec "$bin" "${args[@]}" "$@"
    ;;
  start)
    dir="${LKPW_RUN_DIR:-/tmp/livekit-pyweb-server}"
    if [[ $# -gt 0 && "$1" != "--" ]]; then dir="$1"; shift; fi
    [[ "${1:-}" == "--" ]] && shift
    check_netns
    bin="$(server_bin)"
    mkdir -p "$dir"
    pidfile="$dir/server.pid"; log="$dir/server.log"
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      die "already running (pid $(cat "$pidfile"), $pidfile)"
    fi
    http_up && die "something already answers on $HTTP_URL in this namespace"
    mapfile -d '' args < <(server_args)
    echo "# $(date -Is) $bin ${args[*]} $*" >"$log"
    setsid "$bin" "${args[@]}" "$@" >>"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    deadline=$(( $(date +%s) + ${LKPW_START_TIMEOUT:-30} ))
    until http_up; do
      if ! kill -0 "$pid" 2>/dev/null; then
        tail -n 30 "$log" >&2; rm -f "$pidfile"; die "server exited during start-up (log: $log)"
      fi
      if (( $(date +%s) >= deadline )); then
        tail -n 30 "$log" >&2; kill "$pid" 2>/dev/null || true; rm -f "$pidfile"
        die "server did not answer on $HTTP_URL within ${LKPW_START_TIMEOUT:-30} s (log: $log)"
      fi
      sleep 0.1
    done
    echo "server.sh: livekit-server pid $pid up on ws://127.0.0.1:7880 (log: $log)" >&2
    ;;
  stop)
    dir="${1:-${LKPW_RUN_DIR:-/tmp/livekit-pyweb-server}}"
    pidfile="$dir/server.pid"
    [[ -f "$pidfile" ]] || { echo "server.sh: no $pidfile" >&2; exit 0; }
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      # 1st signal = drain (waits for participants to leave), 2nd = force; it still needs ~2 s.
      kill -TERM "$pid"; sleep 0.2; kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$pidfile"
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
