#!/usr/bin/env bash
# Install everything the demo and the tests need, idempotently (a no-op when all is present):
#   Debian: chromium, chromium-driver, firefox-esr, curl, iproute2, util-linux (unshare)
#   CPython venv at $LKPW_CACHE/venv with build/requirements-dev.txt
#   npm packages (package-lock.json: pyodide, livekit-client, puppeteer-core to drive Firefox) and the offline
#   Pyodide dist/ (build/build_dist.py)
#   the JupyterLite site dist/lite/ (build/build_lite.py; its build venv is $LKPW_CACHE/lite-venv)
#   livekit-server v1.13.5 (a cached build, a `livekit-server` on PATH, or `go install`; build/server.sh path)
# Prints the venv's python on its last line of stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LKPW_CACHE="${LKPW_CACHE:-$HOME/.cache/livekit-pyweb}"
VENV="$LKPW_CACHE/venv"
log() { echo "setup: $*" >&2; }

missing=()
for pair in chromium:/usr/bin/chromium chromium-driver:/usr/bin/chromedriver firefox-esr:/usr/bin/firefox-esr \
            curl:/usr/bin/curl \
            iproute2:/usr/sbin/ip util-linux:/usr/bin/unshare; do
  [[ -x "${pair#*:}" || -x "/bin/${pair#*:/usr/}" ]] || command -v "$(basename "${pair#*:}")" >/dev/null 2>&1 \
    || missing+=("${pair%%:*}")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q "${missing[@]}" >&2
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV"
  mkdir -p "$LKPW_CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -U pip >&2
fi
"$VENV/bin/python" -m pip install -q -r "$ROOT/build/requirements-dev.txt" >&2

log "livekit-server: $("$ROOT/build/server.sh" path)"
"$VENV/bin/python" "$ROOT/build/build_dist.py" >&2
"$VENV/bin/python" "$ROOT/build/build_lite.py" >&2   # dist/lite/: the JupyterLite site (its own build venv)
echo "$VENV/bin/python"
