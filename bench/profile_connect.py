"""Where connect() spends its time on the direct path: a timeline of the browser calls and engine steps.

Opens web/worker.html?mode=direct (Pyodide on the page's main thread) in a fresh Chromium, wraps the direct
adapters' async calls (peer connection, WebSocket, platform) and the engine's join steps with timers, joins a
room where the official Python SDK publishes video, and prints every call as start → end (ms from connect()),
then the first remote frame. Rounds after the first run warm (same page: the room is left and joined again).

    build/with-server.sh $PY -W ignore bench/profile_connect.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from chromium_flags import apply_selenium_env  # noqa: E402

apply_selenium_env()

from tests.e2e.conftest import LIVEKIT_URL, PyPeer, make_token, serve_dist  # noqa: E402
from tests.e2e.page import own_chromium  # noqa: E402
from tests.e2e.test_worker_bridge import run_worker  # noqa: E402

INSTRUMENT = r"""
import functools, inspect, json, js
from livekit_pyweb import _engine
from livekit_pyweb._core import codec
from livekit_pyweb._browser import peer_connection, platform, websocket
timeline = []
T0 = [0.0]

def now():
    return float(js.performance.now()) - T0[0]

def wrap(cls, name, label):
    fn = getattr(cls, name)
    if getattr(fn, "_timed", False):
        return
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def timed(*a, **k):
            t = now()
            try:
                return await fn(*a, **k)
            finally:
                timeline.append([label, round(t, 1), round(now(), 1)])
    else:
        @functools.wraps(fn)
        def timed(*a, **k):
            t = now()
            try:
                return fn(*a, **k)
            finally:
                timeline.append([label, round(t, 1), round(now(), 1)])
    timed._timed = True
    setattr(cls, name, timed)

for n in ("create_offer", "create_answer", "set_local_description", "set_remote_description", "add_ice_candidate",
          "add_recv_transceiver", "create_data_channel", "set_configuration"):
    wrap(peer_connection.BrowserPeerConnection, n, "pc." + n)
for n in ("start", "open_signal", "create_peer_connection"):
    wrap(platform.BrowserPlatform, n, "platform." + n)
wrap(websocket.BrowserWebSocket, "recv", "ws.recv")
from livekit_pyweb import room as _room
from livekit_pyweb._core import platforms as _platforms
wrap(_room.Room, "__init__", "Room()")
wrap(_platforms, "for_room", "platforms.for_room")
wrap(platform.BrowserPlatform, "on_devices_changed", "platform.on_devices_changed")
wrap(_engine.Engine, "__init__", "Engine()")
_decode = codec.decode_response

def _decode_named(data):
    t = now()
    kind, msg = _decode(data)
    timeline.append([f"decode {kind}", round(t, 1), round(now(), 1)])
    return kind, msg

codec.decode_response = _decode_named
for n in ("join", "_join", "wait_connected", "_handle_answer", "_handle_offer"):
    if hasattr(_engine.Engine, n):
        wrap(_engine.Engine, n, "engine." + n)
import gc
_gc_start = [0.0]

def _gc(phase, info):
    if phase == "start":
        _gc_start[0] = now()
    else:
        timeline.append([f"gc gen{info['generation']} ({info['collected']} freed)", round(_gc_start[0], 1),
                         round(now(), 1)])

gc.callbacks.append(_gc)
json.dumps(1)
"""

JOIN = r"""
import asyncio, json, js
from pyodide.ffi import create_once_callable
from livekit_pyweb import Room, RoomOptions, TrackKind
timeline.clear()
T0[0] = float(js.performance.now())
room = Room(RoomOptions(), platform="direct")
first = asyncio.get_running_loop().create_future()

def on_track(track, pub, participant):
    if track.kind == TrackKind.KIND_VIDEO and not first.done():
        el = track.attach()
        def frame(*_):
            if not first.done():
                first.set_result(now())
        el.requestVideoFrameCallback(create_once_callable(frame))
        timeline.append(["track_subscribed", round(now(), 1), round(now(), 1)])

room.on("track_subscribed", on_track)
await room.connect(URL, TOKEN)
connected = now()
frame_ms = await asyncio.wait_for(first, 20)
await room.disconnect()
json.dumps({"connected": round(connected, 1), "first_frame": round(frame_ms, 1), "timeline": timeline})
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = serve_dist()
    peer = PyPeer("profile-publisher", "profile", video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published", 30, "the publisher")
    with own_chromium() as driver:
        try:
            driver.get(f"{base}/worker.html?mode=direct")
            driver.set_script_timeout(120)
            run_worker(driver, "import worker_app, json\njson.dumps(1)")
            run_worker(driver, INSTRUMENT)
            for i in range(args.rounds):
                code = JOIN.replace("URL", repr(LIVEKIT_URL)).replace("TOKEN", repr(make_token(f"prof-{i}", "profile")))
                out = run_worker(driver, code)
                print(f"\nround {i + 1}: connected {out['connected']} ms, first frame {out['first_frame']} ms")
                for label, start, end in sorted(out["timeline"], key=lambda r: r[1]):
                    print(f"  {start:8.1f} → {end:8.1f}  ({end - start:6.1f})  {label}")
        finally:
            peer.close()


if __name__ == "__main__":
    main()
