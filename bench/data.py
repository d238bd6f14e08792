"""Data-packet bench: reliable throughput with 15 KB messages, livekit_pyweb beside livekit-client, same run.

One Chromium, one room, three senders in three tabs: livekit_pyweb on the page's main thread (web/worker.html
?mode=direct), livekit_pyweb in a Web Worker through the bridge (web/worker.html), and livekit-client 2.23
(web/js-peer.html?media=0). The receiver is the same for all: the official Python SDK (tests/e2e/peers/py_peer.py),
which timestamps every packet it gets. Each round, each sender publishes N reliable packets of 15,000 bytes to the
receiver only, as fast as its publish call returns (both SDKs' publish waits while the channel holds more than its
1 MiB high-water mark); throughput = bytes received / (last arrival - first arrival) on the receiver's clock, so
connection set-up and the first packet's latency are left out for every sender alike. Also printed: the rate of
the publish calls themselves (N x 15,000 B over the time the loop took: all but at most the 1 MiB still buffered
had left the sender by then), which is the sender's own pace when the receiver is the slower end.

    build/with-server.sh ~/.cache/livekit-pyweb/venv/bin/python -W ignore bench/data.py [--rounds 3] [--count 1000]

(after build/build_dist.py). No assertion: it prints the figures and the ratio ours / livekit-client.
"""

from __future__ import annotations

import argparse
import statistics
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
from tests.e2e.test_worker_bridge import run_worker  # noqa: E402

SIZE = 15_000
ROOM = "bench-data"

PY_JOIN = """
import json, js
from livekit_pyweb import Room
room = Room()
await room.connect({url!r}, {token!r})
json.dumps(room._platform.name)
"""

PY_SEND = """
payload = b"." * {size}
t0 = js.performance.now()
for i in range({count}):
    await room.local_participant.publish_data(payload, topic={topic!r}, destination_identities=["sink"])
json.dumps(js.performance.now() - t0)
"""

JS_SEND = """
const [size, count, topic, done] = arguments;
(async () => {
  const payload = new Uint8Array(size).fill(46), lp = window.jsRoom.localParticipant, t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await lp.publishData(payload, { reliable: true, topic, destinationIdentities: ["sink"] });
  }
  return performance.now() - t0;
})().then((ms) => done(ms), (e) => done(String(e)));
"""


def _arrivals(sink: PyPeer, topic: str, count: int, timeout: float = 180) -> list[float]:
    deadline = time.monotonic() + timeout
    while True:
        sink.mark()
        times = [e["t"] for e in sink.events if e["event"] == "data" and e["topic"] == topic]
        if len(times) >= count:
            assert len(times) == count, f"{topic}: {len(times)} packets for {count} sent"
            return times
        assert time.monotonic() < deadline, f"{topic}: {len(times)} of {count} packets after {timeout} s"
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    base = serve_dist()
    sink = PyPeer("sink", ROOM, video=False, audio=False)
    sink.wait_for(lambda e: e["event"] == "connected", 30, "the receiver")
    tabs: dict[str, str] = {}
    with own_chromium() as driver:
        driver.set_script_timeout(300)
        try:
            for name, mode in (("pyweb", "direct"), ("pyweb-worker", "worker")):
                if tabs:
                    driver.switch_to.new_window("tab")
                driver.get(f"{base}/worker.html?mode={mode}")
                tabs[name] = driver.current_window_handle
                platform = run_worker(driver, PY_JOIN.format(url=LIVEKIT_URL, token=make_token(name, ROOM)))
                assert platform == ("direct" if mode == "direct" else "bridge"), platform
            driver.switch_to.new_window("tab")
            driver.get(f"{base}/js-peer.html?" + urllib.parse.urlencode(
                {"url": LIVEKIT_URL, "token": make_token("livekit-client", ROOM), "media": "0"}))
            tabs["livekit-client"] = driver.current_window_handle
            deadline = time.monotonic() + 30
            while driver.execute_script("return (window.jsPeer || {}).state") != "connected":
                assert time.monotonic() < deadline, "livekit-client did not connect"
                time.sleep(0.2)
            for name in tabs:  # the receiver names each sender once the server announced it
                sink.wait_for(lambda e, n=name: e["event"] == "participant_connected" and e["identity"] == n, 30, name)

            results: dict[str, list[dict[str, float]]] = {name: [] for name in tabs}
            for r in range(args.rounds):
                for name, handle in tabs.items():
                    driver.switch_to.window(handle)  # in front: no background-tab timer throttling
                    topic = f"bench-{name}-{r}"
                    if name == "livekit-client":
                        send_ms = driver.execute_async_script(JS_SEND, SIZE, args.count, topic)
                        assert isinstance(send_ms, (int, float)), send_ms
                    else:
                        send_ms = run_worker(driver, PY_SEND.format(size=SIZE, count=args.count, topic=topic))
                    times = _arrivals(sink, topic, args.count)
                    window = max(times) - min(times)
                    mbps = (args.count - 1) * SIZE * 8 / window / 1e6
                    results[name].append({"mbps": mbps, "send_ms": float(send_ms), "window_s": window})
                    print(f"round {r + 1} {name:15s} {mbps:7.1f} Mbit/s ({args.count} x {SIZE} B received over "
                          f"{window:.2f} s; publish calls took {send_ms:.0f} ms)", file=sys.stderr)
        finally:
            sink.close()

    def med(name: str, key: str = "mbps") -> float:
        return statistics.median(r[key] for r in results[name])

    def sent(name: str) -> float:  # what the publish calls handed over per second (all but <= 1 MiB had left)
        return args.count * SIZE * 8 / (med(name, "send_ms") / 1000) / 1e6

    print(f"\nreliable data, {args.count} x {SIZE} B per round to one Python SDK receiver, median of {args.rounds} "
          f"rounds (Chromium headless, loopback SFU)")
    print(f"  {'sender':15s} {'received':>14s} {'publish calls':>16s}")
    for name in tabs:
        print(f"  {name:15s} {med(name):9.1f} Mbit/s {sent(name):11.1f} Mbit/s")
    for label, key in (("received", None), ("publish calls", "sent")):
        rate = sent if key else med
        print(f"ratio livekit_pyweb / livekit-client, {label}: {rate('pyweb') / rate('livekit-client'):.2f} "
              f"(main thread), {rate('pyweb-worker') / rate('livekit-client'):.2f} (worker bridge)")


if __name__ == "__main__":
    main()
