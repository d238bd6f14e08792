"""Worker-bridge bench: the same app (web/worker_app.py) on the direct path (Pyodide on the page's main thread) and
through the worker bridge (Pyodide in a plain module Worker, the page serving its browser objects), side by side.

Each round loads web/worker.html in a fresh Chromium, joins a room where the official Python SDK publishes video,
and measures in the Python that runs the room:
  * connect() → connected,
  * connect() started → first remote video frame decoded (framesDecoded > 0, polled every 20 ms),
  * per call: a remote track's get_stats() (both paths), a signalling round trip (ping_req → pong_resp, both paths:
    on the bridge the signalling WebSocket lives in the page host, so every frame takes one BroadcastChannel hop
    each way more) and host.ping (bridge only), median and p95 of N calls.

Run inside the private network namespace with a local server:

    build/with-server.sh ~/.cache/livekit-pyweb/venv/bin/python -W ignore bench/bridge.py [--rounds 3] [--calls 60]

(after build/build_dist.py). No assertion: it prints the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from chromium_flags import apply_selenium_env  # noqa: E402

apply_selenium_env()

from tests.e2e.conftest import LIVEKIT_URL, PyPeer, make_token, serve_dist  # noqa: E402
from tests.e2e.page import own_chromium  # noqa: E402
from tests.e2e.test_worker_bridge import run_worker  # noqa: E402


def measure(base: str, mode: str, room: str, identity: str, calls: int) -> dict[str, Any]:
    with own_chromium() as driver:
        driver.get(f"{base}/worker.html?mode={mode}")
        driver.set_script_timeout(180)
        token = make_token(identity, room)
        bridge = mode == "worker"
        run_worker(driver, "import worker_app, json\njson.dumps(1)")  # booted and imported: not part of connect
        joined = run_worker(driver, f"import worker_app, json\njson.dumps(await worker_app.join({LIVEKIT_URL!r}, "
                                    f"{token!r}, camera=False, microphone=False, bridge={bridge}))")
        assert joined["platform"] == ("bridge" if bridge else "direct"), joined
        first = run_worker(driver, "import worker_app, json\n"
                                   "json.dumps(await worker_app.first_frame_ms('bench-publisher'))")
        costs = run_worker(driver, f"import worker_app, json\n"
                                   f"json.dumps(await worker_app.call_costs('bench-publisher', {calls}))")
        run_worker(driver, "import worker_app, json\njson.dumps(await worker_app.leave(), default=str)")
        return {"connect_ms": joined["connect_ms"], "first_frame_ms": first, **{
            f"{op}_{k}": v for op, stats in costs.items() for k, v in stats.items() if k in ("median", "p95")}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    base = serve_dist()
    peer = PyPeer("bench-publisher", "bench-bridge", video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published", 30, "the publisher")
    results: dict[str, list[dict[str, Any]]] = {"direct": [], "worker": []}
    try:
        for i in range(args.rounds):
            for mode in ("direct", "worker"):
                t = time.monotonic()
                results[mode].append(measure(base, mode, "bench-bridge", f"{mode}-{i}", args.calls))
                print(f"round {i + 1} {mode}: {json.dumps(results[mode][-1])} ({time.monotonic() - t:.1f} s)",
                      file=sys.stderr)
    finally:
        peer.close()

    def med(mode: str, key: str) -> float:
        values = [r[key] for r in results[mode] if key in r]
        return statistics.median(values) if values else float("nan")

    print(f"\nmedian of {args.rounds} rounds (Chromium headless, loopback SFU; per-call rows: {args.calls} calls "
          f"per round, the round's median / p95)")
    print(f"{'measure (ms)':44s} {'direct':>9s} {'worker bridge':>14s}")
    for label, key in (("connect() → connected", "connect_ms"),
                       ("connect() → first remote frame", "first_frame_ms"),
                       ("track.get_stats(), median", "get_stats_median"),
                       ("track.get_stats(), p95", "get_stats_p95"),
                       ("signal round trip, median", "signal_rtt_median"),
                       ("signal round trip, p95", "signal_rtt_p95"),
                       ("host.ping round trip, median", "ping_median"),
                       ("host.ping round trip, p95", "ping_p95")):
        print(f"{label:44s} {med('direct', key):9.2f} {med('worker', key):14.2f}")


if __name__ == "__main__":
    main()
