"""Where a visit of the demo page (web/index.html) spends its time: the loader's timings beside Chromium's trace.

One fresh Chromium, N visits of the same page (the first cold, the next warm: HTTP cache filled), each joining a
room where the official Python SDK publishes video. Chromium's trace (chromedriver's performance log, categories
``v8.wasm`` and ``devtools.timeline``) shows whether the wasm module came from V8's code cache
(``v8.wasm.moduleCacheHit``), when it was compiled and cached, and the main thread's busy time.

    build/with-server.sh $PY -W ignore bench/trace_boot.py [--visits 3] [--categories v8.wasm,devtools.timeline]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from chromium_flags import apply_selenium_env  # noqa: E402

apply_selenium_env()

from tests.e2e.conftest import LIVEKIT_URL, PyPeer, make_token, serve_dist  # noqa: E402
from tests.e2e.page import own_chromium  # noqa: E402


class Tracer:
    """Chromium's trace over the DevTools protocol of the browser target (every process: the renderer's V8 too)."""

    def __init__(self, driver: Any, categories: str) -> None:
        import urllib.request

        import websocket

        addr = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{addr}/json/version") as r:
            ws_url = json.load(r)["webSocketDebuggerUrl"]
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.categories = categories
        self.next_id = 0

    def send(self, method: str, **params: Any) -> int:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def start(self) -> None:
        msg_id = self.send("Tracing.start", traceConfig={"includedCategories": self.categories.split(",")},
                           transferMode="ReportEvents")
        while json.loads(self.ws.recv()).get("id") != msg_id:
            pass

    def stop(self) -> list[dict[str, Any]]:
        self.send("Tracing.end")
        events: list[dict[str, Any]] = []
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Tracing.dataCollected":
                events.extend(msg["params"]["value"])
            elif msg.get("method") == "Tracing.tracingComplete":
                return events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--categories", default="v8.wasm,devtools.timeline")
    parser.add_argument("--query", default="", help="extra query string for index.html (e.g. snapshot=0)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to stay on the page after the first frame")
    parser.add_argument("--dist", type=Path, help="serve this dist folder (default: this checkout's)")
    parser.add_argument("--init-script", default="", help="JS run in every page before its scripts")
    parser.add_argument("--dump", type=Path, help="write each visit's trace events as JSON here (prefix)")
    args = parser.parse_args()
    base = serve_dist(args.dist)
    room = f"trace-{int(time.time())}"
    peer = PyPeer("trace-publisher", room, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published", 30, "the publisher")
    with own_chromium() as driver:
        tracer = Tracer(driver, args.categories)
        if args.init_script:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": args.init_script})
        try:
            for visit in range(args.visits):
                tracer.start()
                token = make_token(f"trace-{visit}", room)
                url = f"{base}/index.html?" + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": token})
                if args.query:
                    url += "&" + args.query
                driver.get(url)
                deadline = time.monotonic() + 60
                while True:
                    state = json.loads(driver.execute_script("return JSON.stringify(window.lkpw || null)") or "null")
                    if state and state.get("timings", {}).get("firstFrameAtMs"):
                        break
                    if state and state.get("state") == "error" or time.monotonic() > deadline:
                        raise RuntimeError(f"visit {visit}: {state}")
                    time.sleep(0.02)
                if args.pause:
                    time.sleep(args.pause)
                events = tracer.stop()
                driver.get("about:blank")
                t = state["timings"]
                print(f"\nvisit {visit + 1} ({'cold' if visit == 0 else 'warm'}), snapshot {state.get('snapshot')}:")
                print("  loader: " + ", ".join(f"{k} {v:.0f}" if isinstance(v, (int, float)) else f"{k} {v}"
                                              for k, v in t.items()))
                if args.dump:
                    Path(f"{args.dump}-{visit + 1}.json").write_text(json.dumps(events))
                # Trace timestamps are µs on the monotonic clock; performance.timeOrigin is wall-clock ms. Align on the
                # navigation: the first devtools.timeline event of the page's main frame is close enough for ordering.
                wasm = [e for e in events if e.get("cat", "").startswith("v8.wasm")
                        or "wasm" in e.get("name", "").lower()]
                t0 = min((e["ts"] for e in events if e.get("ts")), default=0)
                print(f"  {len(events)} trace events; wasm ones (ms from the first event):")
                counts: collections.Counter[str] = collections.Counter()
                durs: collections.Counter[str] = collections.Counter()
                for e in wasm:
                    counts[e["name"]] += 1
                    durs[e["name"]] += e.get("dur", 0) / 1000
                for e in sorted(wasm, key=lambda e: e["ts"]):
                    if counts[e["name"]] <= 3:
                        print(f"    {(e['ts'] - t0) / 1000:8.1f} {e.get('dur', 0) / 1000:7.1f} {e['name']} "
                              f"{json.dumps(e.get('args', {}))[:160]}")
                for name, n in counts.items():
                    if n > 3:
                        print(f"    {name}: {n} events, {durs[name]:.1f} ms total")
        finally:
            peer.close()


if __name__ == "__main__":
    main()
