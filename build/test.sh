#!/usr/bin/env bash
# Run every test: unit (CPython), browser (pytest-pyodide in Chromium) and e2e (real livekit-server + Chromium +
# the official Python SDK and livekit-client as peers).
#
#   bash build/test.sh [PYTEST ARGS...]       e.g. bash build/test.sh -k walking -x
#   bash build/test.sh tests/e2e/test_x.py    only the named files or folders (any arg starting with tests/)
#
# Installs what is missing (build/setup.sh), then runs the server, the browser and the peers inside a private
# network namespace (build/with-server.sh): test traffic never leaves loopback and the namespace's own veth pair.
# Every test has a deadline (pytest-timeout; per layer in each conftest): a hang fails that test, names it and
# prints every thread's stack, and the run goes on.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# One run at a time per checkout: each run rebuilds this checkout's dist/, which a concurrent run would be serving.
# Runs in different checkouts (git worktrees) may overlap: each has its own dist/ and its own network namespace
# (server on the same port, but in another namespace); only the set-up, which fills the shared caches, is one at a
# time per machine.
exec 9>"${TMPDIR:-/tmp}/livekit-pyweb-test.$(printf %s "$ROOT" | md5sum | cut -c1-12).lock"
if ! flock -n 9; then
  echo "test.sh: another test run in this checkout holds the lock; waiting" >&2
  flock 9
fi
exec 8>"${TMPDIR:-/tmp}/livekit-pyweb-setup.lock"
flock 8
PY="$(bash build/setup.sh | tail -n 1)"
flock -u 8
export LKPW_RUN_DIR="$(mktemp -d /tmp/livekit-pyweb-test.XXXXXX)"
targets=(tests/unit tests/browser tests/e2e)
for arg in "$@"; do
  [[ "$arg" == tests/* ]] && targets=()
done
started=$(date +%s)
set +e
build/with-server.sh "$PY" -m pytest -p no:cacheprovider --runtime chrome --dist-dir dist -rfER \
  --reruns 1 --only-rerun "tab crashed" \
  -W ignore::jwt.warnings.InsecureKeyLengthWarning "${targets[@]}" "$@"
status=$?
set -e
echo "test.sh: finished in $(( $(date +%s) - started )) s with status $status (server log: $LKPW_RUN_DIR/server.log)" >&2
exit $status
