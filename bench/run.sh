#!/usr/bin/env bash
# Run the start-up bench inside a private network namespace with a local livekit-server.
#   bash bench/run.sh [--rounds N] [--decode-n N] [--decode-js] [--linger S] [--gate README.md] [--dist DIR] [--compare DIR]
# Prints the table README's "Measured" section records, the per-message decode time and the wheel sizes;
# --gate fails (status 1) when a ratio to livekit-client is worse than twice README's (CI: .ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="$(bash build/setup.sh | tail -n 1)"
exec build/with-server.sh "$PY" -W ignore bench/startup.py "$@"
