#!/usr/bin/env bash
# Run the start-up bench inside a private network namespace with a local livekit-server.
#   bash bench/run.sh [--rounds N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="$(bash build/setup.sh | tail -n 1)"
exec build/with-server.sh "$PY" -W ignore bench/startup.py "$@"
