#!/usr/bin/env bash
# Run a command inside a private network namespace (build/netns.sh) with a local livekit-server up on
# ws://127.0.0.1:7880, and stop the server afterwards. The command's exit status is returned.
#   build/with-server.sh CMD [ARGS...]
# Expects build/setup.sh to have run (the server binary exists). Server log: $LKPW_RUN_DIR/server.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export LKPW_RUN_DIR="${LKPW_RUN_DIR:-$(mktemp -d /tmp/livekit-pyweb-run.XXXXXX)}"
exec build/netns.sh bash -c '
  build/server.sh start "$LKPW_RUN_DIR" >&2 || exit 3
  trap "build/server.sh stop \"\$LKPW_RUN_DIR\" >/dev/null 2>&1" EXIT
  "$@"
' bash "$@"
