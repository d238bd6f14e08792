#!/usr/bin/env bash
# Start the demo: a local livekit-server (dev keys, 127.0.0.1:7880) and the demo page on http://127.0.0.1:8000.
#
#   bash build/demo.sh            then open the printed URL in Chromium/Chrome/Firefox on this machine
#
# The server is a `livekit-server` on PATH if there is one, else the pinned v1.13.5 build (build/server.sh).
# It binds and advertises 127.0.0.1 only. This runs in the machine's own network namespace, so that a browser
# on this machine can reach it; LKPW_DEMO_NETNS=1 runs it inside a private namespace instead (for checks).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$(bash build/setup.sh | tail -n 1)"
if [[ "${LKPW_DEMO_NETNS:-0}" == 1 && -z "${LKPW_IN_DEMO_NETNS:-}" ]]; then
  export LKPW_IN_DEMO_NETNS=1
  exec build/netns.sh bash build/demo.sh "$@"
fi
[[ -n "${LKPW_IN_DEMO_NETNS:-}" ]] || export LKPW_ALLOW_HOST_NETNS=1
# The demo prefers a livekit-server installed on this machine; the tests always use the pinned build.
if [[ -z "${LKPW_SERVER_BIN:-}" ]] && command -v livekit-server >/dev/null 2>&1; then
  export LKPW_SERVER_BIN="$(command -v livekit-server)"
fi
RUN_DIR="$(mktemp -d /tmp/livekit-pyweb-demo.XXXXXX)"
if curl -s -o /dev/null --max-time 1 http://127.0.0.1:7880/; then
  echo "demo: a LiveKit server already answers on 127.0.0.1:7880; using it" >&2
else
  LKPW_LOG_LEVEL="${LKPW_LOG_LEVEL:-info}" build/server.sh start "$RUN_DIR" >&2
  trap 'build/server.sh stop "$RUN_DIR" >/dev/null 2>&1' EXIT
fi
"$PY" build/demo.py "$@"
