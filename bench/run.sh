#!/usr/bin/env bash
# Run the start-up bench inside a private network namespace with a local livekit-server.
#   bash bench/run.sh [--rounds N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$(bash build/setup.sh | tail -n 1)"
RUN_DIR="$(mktemp -d /tmp/livekit-pyweb-bench.XXXXXX)"
export LKPW_RUN_DIR="$RUN_DIR" PY
build/netns.sh bash -c '
  build/server.sh start "$LKPW_RUN_DIR" >&2
  trap "build/server.sh stop \"\$LKPW_RUN_DIR\" >/dev/null 2>&1" EXIT
  "$PY" -W ignore bench/startup.py "$@"
' bash "$@"
