"""RPC round-trip bench: livekit_pyweb beside livekit-client, in the same Chromium page and the same run.

One page (web/worker.html?mode=direct: Pyodide on the main thread) holds two participants: ``pyweb`` (livekit_pyweb)
and ``js`` (livekit-client's UMD bundle loaded into the same page). The official Python SDK peer (``py``) offers the
``echo`` method of tests/e2e/peers/py_peer.py, and both page participants offer an ``echo`` of their own. Measured,
sequential calls with a 16-byte payload, after warm-up calls:

  * caller side: pyweb → py and js → py (the round trip of ``perform_rpc``/``performRpc`` in the page),
  * callee side: py → pyweb and py → js (the peer's ``perform_rpc`` round trip, the page handling it).

Run inside the private network namespace with a local server (after build/build_dist.py):

    build/with-server.sh ~/.cache/livekit-pyweb/venv/bin/python -W ignore bench/rpc.py [--calls 200] [--rounds 3]

No assertion: it prints median and p95 per direction (ms), each round and the median of the rounds.
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

PAYLOAD = "0123456789abcdef"

PY_SIDE = """
import json, js
from livekit_pyweb import Room
room = Room()
await room.connect({url!r}, {token!r})
room.local_participant.register_rpc_method("echo", lambda data: data.payload)

async def bench(destination, count, warmup=10):
    times = []
    for i in range(warmup + count):
        t0 = js.performance.now()
        await room.local_participant.perform_rpc(destination_identity=destination, method="echo", payload={payload!r})
        if i >= warmup:
            times.append(js.performance.now() - t0)
    return times

json.dumps(room.local_participant.identity)
"""

JS_SIDE = """
const [url, token, payload, done] = [arguments[0], arguments[1], arguments[2], arguments[arguments.length - 1]];
(async () => {
  if (!window.LivekitClient) {
    await new Promise((ok, ko) => { const s = document.createElement("script"); s.src = "./livekit-client.umd.js";
                                    s.onload = ok; s.onerror = ko; document.head.append(s); });
  }
  const room = new LivekitClient.Room();
  await room.connect(url, token);
  room.registerRpcMethod("echo", async (d) => d.payload);
  window.jsBench = async (destination, count, warmup = 10) => {
    const times = [];
    for (let i = 0; i < warmup + count; i++) {
      const t0 = performance.now();
      await room.localParticipant.performRpc({ destinationIdentity: destination, method: "echo", payload });
      if (i >= warmup) times.push(performance.now() - t0);
    }
    return times;
  };
  window.jsBenchRoom = room;
  done(room.localParticipant.identity);
})().catch((e) => done("error: " + e));
"""


def stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median": statistics.median(ordered), "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)]}


def measure(base: str, room: str, peer: PyPeer, calls: int, round_no: int) -> dict[str, dict[str, float]]:
    with own_chromium() as driver:
        driver.get(f"{base}/worker.html?mode=direct")
        driver.set_script_timeout(300)
        pyweb, js_id = f"pyweb-{round_no}", f"js-{round_no}"
        run_worker(driver, PY_SIDE.format(url=LIVEKIT_URL, token=make_token(pyweb, room), payload=PAYLOAD))
        joined = driver.execute_async_script(JS_SIDE, LIVEKIT_URL, make_token(js_id, room), PAYLOAD)
        assert joined == js_id, joined
        out: dict[str, dict[str, float]] = {}
        out["pyweb → py"] = stats(run_worker(driver, f"json.dumps(await bench('py', {calls}))"))
        out["js → py"] = stats(driver.execute_async_script(
            "const d = arguments[arguments.length - 1]; jsBench('py', arguments[0]).then(d);", calls))
        for who, identity in (("pyweb", pyweb), ("js", js_id)):
            peer.send("rpc_call", destination=identity, method="echo", payload=PAYLOAD)  # it knows us
            answer = peer.send("rpc_bench", timeout=300, destination=identity, method="echo", payload=PAYLOAD,
                               count=calls + 10)
            out[f"py → {who}"] = stats(answer["ms"][10:])
        run_worker(driver, "await room.disconnect()\njson.dumps(True)")
        driver.execute_script("return jsBenchRoom.disconnect()")
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    base = serve_dist()
    room = "bench-rpc"
    peer = PyPeer("py", room, video=False, audio=False)
    peer.wait_for(lambda e: e["event"] == "connected", 30, "the peer")
    peer.send("rpc_register")
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        for i in range(args.rounds):
            t = time.monotonic()
            rounds.append(measure(base, room, peer, args.calls, i))
            print(f"round {i + 1}: {json.dumps(rounds[-1])} ({time.monotonic() - t:.1f} s)", file=sys.stderr)
    finally:
        peer.close()
    print(f"\nRPC round trip, ms (Chromium headless, loopback SFU, {args.calls} sequential calls per direction and "
          f"round, {len(PAYLOAD)}-byte payload; median of {args.rounds} rounds of each round's median / p95)")
    print(f"{'direction':18s} {'median':>8s} {'p95':>8s}")
    for direction in ("pyweb → py", "js → py", "py → pyweb", "py → js"):
        med = statistics.median(r[direction]["median"] for r in rounds)
        p95 = statistics.median(r[direction]["p95"] for r in rounds)
        print(f"{direction:18s} {med:8.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
