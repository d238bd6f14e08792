"""Start-up bench: livekit_pyweb (the demo page) against livekit-client (js-peer.html), measured in the same run.

Each round starts a fresh Chromium (empty cache: a first visit), opens one page, joins a room where the official
Python SDK publishes video, and reads the page's own timings; then the same for the other page. Prints medians and
the ratio ours / livekit-client. No assertion: targets are read from the ratios, not enforced as timings.

Run with bench/run.sh (it starts the server inside a private network namespace).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from chromium_flags import apply_selenium_env, chromium_flags  # noqa: E402

apply_selenium_env()

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from tests.e2e.conftest import LIVEKIT_URL, PyPeer, make_token, serve_dist  # noqa: E402


def measure(base: str, page: str, state_name: str, room: str, identity: str, reload: bool) -> dict[str, float]:
    options = webdriver.ChromeOptions()
    for flag in chromium_flags():
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        url = f"{base}/{page}?" + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": make_token(identity, room)})
        driver.get(url)
        if reload:  # second visit: HTTP cache warm
            time.sleep(1)
            driver.get(url)
        deadline = time.monotonic() + 60
        while True:
            state = json.loads(driver.execute_script(f"return JSON.stringify(window.{state_name} || null)") or "null")
            if state and state.get("timings", {}).get("firstFrameAtMs"):
                break
            if state and state.get("state") == "error":
                raise RuntimeError(f"{page}: {state.get('error')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{page}: no first frame; state={state}")
            time.sleep(0.05)
        out = dict(state["timings"])
        out["jsHeapMB"] = driver.execute_script("return performance.memory.usedJSHeapSize") / 1e6
        wasm = driver.execute_script("return window.lkpwPyodide ? lkpwPyodide._module.HEAP8.byteLength : 0")
        out["wasmMB"] = wasm / 1e6
        return out
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    base = serve_dist()
    peer = PyPeer("bench-publisher", "bench", video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published", 30, "the publisher")
    results: dict[tuple[str, bool], list[dict[str, float]]] = {}
    try:
        for warm in (False, True):
            for i in range(args.rounds):
                for name, page, state in (("livekit_pyweb", "index.html", "lkpw"),
                                          ("livekit-client", "js-peer.html", "jsPeer")):
                    results.setdefault((name, warm), []).append(
                        measure(base, page, state, "bench", f"{name}-{int(warm)}-{i}", warm))
    finally:
        peer.close()

    def med(name: str, warm: bool, key: str) -> float:
        values = [r[key] for r in results[(name, warm)] if key in r]
        return statistics.median(values) if values else float("nan")

    rows = [
        ("SDK ready (navigation → SDK usable)", "pyodideBootMs+wheelLoadImportMs", "sdkReadyMs"),
        ("connect() → connected", "connectMs", "connectMs"),
        ("connect() → first remote frame", "firstRemoteFrameMs", "firstRemoteFrameMs"),
        ("navigation → first remote frame", "firstFrameAtMs", "firstFrameAtMs"),
        ("JS heap (MB)", "jsHeapMB", "jsHeapMB"),
    ]
    for warm in (False, True):
        print(f"\n{'warm' if warm else 'cold'} cache, median of {args.rounds} (Chromium headless, loopback SFU)")
        print(f"{'measure':40s} {'livekit_pyweb':>14s} {'livekit-client':>15s} {'ratio':>7s}")
        for label, ours_key, theirs_key in rows:
            ours = sum(med("livekit_pyweb", warm, k) for k in ours_key.split("+"))
            theirs = med("livekit-client", warm, theirs_key)
            print(f"{label:40s} {ours:14.1f} {theirs:15.1f} {ours / theirs:7.2f}")
        print(f"{'  of which Pyodide boot (ms)':40s} {med('livekit_pyweb', warm, 'pyodideBootMs'):14.1f}")
        print(f"{'  of which wheel load + import (ms)':40s} {med('livekit_pyweb', warm, 'wheelLoadImportMs'):14.1f}")
        print(f"{'  Pyodide wasm memory (MB)':40s} {med('livekit_pyweb', warm, 'wasmMB'):14.1f}")


if __name__ == "__main__":
    main()
