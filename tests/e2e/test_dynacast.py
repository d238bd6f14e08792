"""Dynacast against the real server: with ``RoomOptions(dynacast=True)`` our camera's simulcast encodings follow
the server's ``subscribed_quality_update``: nobody subscribed → no encoding active; the official Python SDK peer
subscribes (HIGH by default) → q, h and f; it asks for LOW → only q. Proven on the real RTCRtpSender (its
``getParameters()`` encodings' ``active``) and by the outbound-rtp stats per rid (``framesEncoded``/``bytesSent``
stop growing for an inactive rid). The same through the worker bridge (host op ``sender.setActive``)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import logged_warnings, open_page
from .test_worker_bridge import open_worker_page, run_worker

# Shared by the page and the worker: per-rid growth of the outbound video stats over a window.
MEASURE = """
import asyncio, json

async def outbound(room):
    stats = await room._engine.publisher.get_stats()
    return {s["rid"]: s for s in stats if s.get("type") == "outbound-rtp" and s.get("kind") == "video" and s.get("rid")}

async def measure(room, seconds=2.0, settle=0.5):
    # A frame already in the encoder when an encoding is switched off may still be sent (seen once: one frame
    # right after the flags changed): the window starts once that has drained.
    await asyncio.sleep(settle)
    before = await outbound(room)
    await asyncio.sleep(seconds)
    after = await outbound(room)
    def grew(key):
        return {rid: int(s.get(key, 0)) - int(before.get(rid, {}).get(key, 0)) for rid, s in after.items()}
    return {"frames": grew("framesEncoded"), "bytes": grew("bytesSent"),
            "stats_active": {rid: s.get("active") for rid, s in after.items()}}

json.dumps(True)
"""

PAGE_SETUP = """
from livekit_pyweb import RoomOptions
room = Room(RoomOptions(dynacast={dynacast}))
record(room)
await room.connect({url!r}, {token!r})
pub = await room.local_participant.set_camera_enabled(True)

def params():
    encodings = pub._sender.transceiver.sender.getParameters().encodings.to_py()
    return {{str(e["rid"]): bool(e["active"]) for e in encodings}}

async def wait_active(expected, timeout):
    deadline = js.performance.now() + timeout * 1000
    while params() != expected:
        if js.performance.now() > deadline:
            raise AssertionError(f"encodings {{params()}} after {{timeout}} s, expected {{expected}}; logged={{logged}}")
        await asyncio.sleep(0.1)
    return {{"params": params(), **(await measure(room))}}

json.dumps({{"rids": [l.rid for l in pub._layers], "widths": [l.width for l in pub._layers], "sid": pub.sid,
            "params": params()}})
"""

WAIT = """
json.dumps(await wait_active({expected!r}, {timeout}))
"""


def _wait(selenium: Any, expected: dict[str, bool], timeout: float = 30) -> dict[str, Any]:
    return run_py(selenium, WAIT.format(expected=expected, timeout=timeout))


def _assert_sending(state: dict[str, Any], expected: dict[str, bool]) -> None:
    """The stats agree with the flags: an active rid encodes and sends, an inactive one does neither."""
    assert state["params"] == expected, state
    for rid, active in expected.items():
        if active:
            assert state["frames"][rid] > 0 and state["bytes"][rid] > 0, (rid, state)
        else:
            assert state["frames"].get(rid, 0) == 0 and state["bytes"].get(rid, 0) == 0, (rid, state)
        assert state["stats_active"].get(rid) in (active, None), (rid, state)


@pytest.mark.driver_timeout(180)
def test_encodings_follow_the_subscribers(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    run_py(selenium, MEASURE)
    setup = run_py(selenium, PAGE_SETUP.format(dynacast=True, url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    rids = setup["rids"]
    assert rids == ["q", "h", "f"], setup  # the fake camera at 1280x720: three layers
    none, low, high = ({r: False for r in rids}, {"q": True, "h": False, "f": False}, {r: True for r in rids})

    # Nobody subscribes: the server says so and no encoding is sent.
    _assert_sending(_wait(selenium, none), none)

    # The Python SDK peer subscribes (HIGH by default): every layer again, and it decodes our camera.
    peer = py_peer("viewer", room_name, video=False, audio=False)
    _assert_sending(_wait(selenium, high), high)
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb" and e["kind"] == "video"
                  and e["count"] >= 10, 30, "our camera at the peer")

    # It asks for LOW: only q is sent, and q is what it receives.
    peer.send("video_quality", participant="pyweb", quality="low")
    _assert_sending(_wait(selenium, low), low)
    since = peer.mark()
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb" and e["kind"] == "video"
                  and e["width"] == setup["widths"][0], 20, "the q layer at the peer", since=since)

    # Back to HIGH: h and f come back.
    peer.send("video_quality", participant="pyweb", quality="high")
    _assert_sending(_wait(selenium, high), high)

    # The peer leaves: nothing is sent again.
    peer.close()
    _assert_sending(_wait(selenium, none), none)
    assert logged_warnings(selenium) == []


@pytest.mark.driver_timeout(120)
def test_without_dynacast_every_encoding_keeps_sending(selenium_standalone, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    run_py(selenium, MEASURE)
    setup = run_py(selenium, PAGE_SETUP.format(dynacast=False, url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    every = {r: True for r in setup["rids"]}
    # Long enough for the server's "nobody subscribes" update (seen within a few seconds with dynacast on).
    state = run_py(selenium, "await asyncio.sleep(8)\njson.dumps({'params': params(), **(await measure(room))})")
    _assert_sending(state, every)
    assert logged_warnings(selenium) == []


WORKER = """
import js
from livekit_pyweb import Room, RoomOptions
room = Room(RoomOptions(dynacast=True))
await room.connect({url!r}, {token!r})
pub = await room.local_participant.set_camera_enabled(True)
json.dumps({{"platform": room._platform.name, "channel": room._platform.channel, "sender": pub._sender.handle,
            "rids": [l.rid for l in pub._layers]}})
"""

WORKER_MEASURE = """
json.dumps(await measure(room))
"""

HOST_PARAMS = """
const host = livekitPyweb.hosts.get(arguments[0]);
if (!host) return {missing: [...livekitPyweb.hosts.keys()], wanted: arguments[0]};
const sender = host._handles.get(arguments[1]).obj.sender;
return Object.fromEntries(sender.getParameters().encodings.map((e) => [e.rid, e.active]));
"""


def _worker_wait(driver: Any, started: dict[str, Any], expected: dict[str, bool], timeout: float = 30) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        params = driver.execute_script(HOST_PARAMS, started["channel"], started["sender"])
        if params == expected:
            return {"params": params, **run_worker(driver, WORKER_MEASURE)}
        if time.monotonic() > deadline:
            raise AssertionError(f"encodings {params} after {timeout} s, expected {expected}")
        time.sleep(0.2)


@pytest.mark.driver_timeout(150)
def test_dynacast_through_the_worker_bridge(selenium_standalone, dist_url, py_peer, room_name):
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    run_worker(driver, MEASURE)
    started = run_worker(driver, WORKER.format(url=LIVEKIT_URL, token=make_token("pyweb-worker", room_name)))
    assert started["platform"] == "bridge" and started["rids"] == ["q", "h", "f"], started
    rids = started["rids"]
    none, high = {r: False for r in rids}, {r: True for r in rids}
    _assert_sending(_worker_wait(driver, started, none), none)  # sender.setActive on the page's real sender
    py_peer("viewer", room_name, video=False, audio=False)
    _assert_sending(_worker_wait(driver, started, high), high)
    run_worker(driver, "await room.disconnect()\njson.dumps(True)")
