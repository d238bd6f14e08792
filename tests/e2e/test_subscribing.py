"""Subscribing by hand against the real server: a room with RoomOptions(auto_subscribe=False) receives nothing until
RemoteTrackPublication.set_subscribed(True); set_subscribed(False) releases the track and the server stops
forwarding; subscribing again gives a fresh track with frames. Statistics: LocalTrack.get_stats() (bytesSent of our
published camera grows), RemoteTrack.get_stats() and Room.get_rtc_stats() (bytesReceived, framesDecoded). In one
page (two rooms: a publisher and the subscriber) and through the worker bridge (the Python SDK peer publishes)."""

from __future__ import annotations

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_page
from .test_worker_bridge import open_worker_page, run_worker

# Shared by the page and the worker.
HELPERS = """
import asyncio, json, js

async def sleep_until(predicate, timeout, what):
    deadline = js.performance.now() + timeout * 1000
    while not predicate():
        if js.performance.now() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; events={events}")
        await asyncio.sleep(0.05)

events = []
def watch(room):
    def describe(a):
        name = getattr(a, "name", None)
        if hasattr(a, "value") and name is not None:  # an enum
            return name
        return getattr(a, "identity", None) or getattr(a, "sid", None) or str(a)
    for n in ("track_published", "track_subscribed", "track_unsubscribed", "track_subscription_status_changed",
              "track_stream_state_changed", "track_subscription_failed"):
        room.on(n, lambda *args, n=n: events.append([n] + [describe(a) for a in args]))

async def video_received(room):
    # What the subscriber's connections received as video: bytes and frames decoded over every inbound-rtp.
    stats = await room.get_rtc_stats()
    inbound = [s for s in stats.subscriber_stats if s.get("type") == "inbound-rtp" and s.get("kind") == "video"]
    return (sum(int(s.get("bytesReceived", 0)) for s in inbound), sum(int(s.get("framesDecoded", 0)) for s in inbound))

async def frames_of(track, at_least, timeout=20.0):
    seen = []
    deadline = js.performance.now() + timeout * 1000
    while js.performance.now() < deadline:
        stats = await track.get_stats()
        seen.append(int(stats.get("framesDecoded", 0)))
        if seen[-1] >= at_least:
            return seen[-1], int(stats.get("bytesReceived", 0))
        await asyncio.sleep(0.2)
    raise AssertionError(f"framesDecoded stayed below {at_least}: {seen[-10:]}")

async def sent_growth(track, seconds=1.0):
    first = await track.get_stats()
    await asyncio.sleep(seconds)
    last = await track.get_stats()
    return int(first.get("bytesSent", 0)), int(last.get("bytesSent", 0)), int(last.get("framesEncoded", 0))

json.dumps(True)
"""

PAGE_SETUP = """
publisher = Room()
await publisher.connect({url!r}, {pub_token!r})
camera = await publisher.local_participant.set_camera_enabled(True)
room = Room(RoomOptions(auto_subscribe=False))
watch(room)
await room.connect({url!r}, {sub_token!r})
await sleep_until(lambda: "publisher" in room.remote_participants
                  and room.remote_participants["publisher"].track_publications, 15, "the camera publication")
pub = next(iter(room.remote_participants["publisher"].track_publications.values()))
announced = room._engine_required().join_response is not None
# Nothing is subscribed: wait and look at what the subscriber's connection received.
await asyncio.sleep(3)
received_before = await video_received(room)
sent = await sent_growth(camera.track)
rtc_pub = await publisher.get_rtc_stats()
outbound = [s for s in rtc_pub.publisher_stats if s.get("type") == "outbound-rtp" and s.get("kind") == "video"]
json.dumps({{"status": pub.subscription_status.name, "track": pub.track is not None, "received": received_before,
            "sent": sent, "layers": len((await camera.track.get_stats()).get("layers", [])),
            "outbound_bytes": sum(int(s.get("bytesSent", 0)) for s in outbound),
            "subscriber_has_outbound": any(s.get("type") == "outbound-rtp" for s in rtc_pub.subscriber_stats),
            "events": events}})
"""

SUBSCRIBE = """
events.clear()
pub.set_subscribed(True)
status_now = pub.subscription_status.name
await sleep_until(lambda: pub.track is not None, 20, "the subscribed track")
track = pub.track
element = track.attach()
js.document.body.append(element)
frames, track_bytes = await frames_of(track, 15)
received = await video_received(room)
json.dumps({{"status_now": status_now, "status": pub.subscription_status.name, "frames": frames,
            "track_bytes": track_bytes, "received": received, "width": int(element.videoWidth), "events": events}})
"""

UNSUBSCRIBE = """
from pyodide.ffi import jsnull
events.clear()
old = track
pub.set_subscribed(False)
after = {{"track": pub.track is not None, "status": pub.subscription_status.name, "events": list(events),
         "elements": len(old.attached_elements), "src_cleared": element.srcObject is None or element.srcObject is jsnull}}
await asyncio.sleep(2)  # the server stops forwarding
r1 = await video_received(room)
await asyncio.sleep(1.5)
r2 = await video_received(room)
json.dumps({{**after, "bytes_growth_after": r2[0] - r1[0], "events_later": events[len(after["events"]):]}})
"""

RESUBSCRIBE = """
events.clear()
pub.set_subscribed(True)
await sleep_until(lambda: pub.track is not None, 20, "the track again")
fresh = pub.track
element2 = fresh.attach()
js.document.body.append(element2)
frames2, _ = await frames_of(fresh, 15)
json.dumps({{"fresh": fresh is not old, "frames": frames2, "status": pub.subscription_status.name,
            "events": events}})
"""


def _names(events: list[list[str]]) -> list[list[str]]:
    return [e for e in events if e[0] != "track_stream_state_changed"]


@pytest.mark.driver_timeout(150)
def test_auto_subscribe_off_then_set_subscribed(selenium_standalone, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    run_py(selenium, HELPERS)
    setup = run_py(selenium, PAGE_SETUP.format(url=LIVEKIT_URL, pub_token=make_token("publisher", room_name),
                                               sub_token=make_token("subscriber", room_name)))
    # auto_subscribe=False: the publication is known, nothing subscribed, no video received in 3 s.
    assert setup["status"] == "UNSUBSCRIBED" and not setup["track"], setup
    assert setup["received"] == [0, 0], setup
    assert [e[0] for e in setup["events"]] in ([], ["track_published"]), setup
    # Our published camera's stats: bytes sent grow (simulcast: the counters of its layers summed).
    first, last, frames_encoded = setup["sent"]
    assert last > first > 0 and frames_encoded > 0, setup
    assert setup["layers"] >= 2 and setup["outbound_bytes"] > 0 and not setup["subscriber_has_outbound"], setup

    sub = run_py(selenium, SUBSCRIBE.format())
    assert sub["status_now"] == "DESIRED" and sub["status"] == "SUBSCRIBED", sub
    assert sub["frames"] >= 15 and sub["track_bytes"] > 0 and sub["width"] > 0, sub
    assert sub["received"][0] > 0 and sub["received"][1] >= 15, sub  # Room.get_rtc_stats sees the same
    assert _names(sub["events"])[:3] == [
        ["track_subscription_status_changed", pub_sid := sub["events"][0][1], "DESIRED", "publisher"],
        ["track_subscribed", pub_sid, pub_sid, "publisher"],
        ["track_subscription_status_changed", pub_sid, "SUBSCRIBED", "publisher"],
    ], sub

    unsub = run_py(selenium, UNSUBSCRIBE.format())
    assert not unsub["track"] and unsub["status"] == "UNSUBSCRIBED" and unsub["elements"] == 0, unsub
    assert unsub["src_cleared"], unsub  # the element no longer plays it
    assert _names(unsub["events"]) == [["track_subscription_status_changed", pub_sid, "UNSUBSCRIBED", "publisher"],
                                       ["track_unsubscribed", pub_sid, pub_sid, "publisher"]], unsub
    assert unsub["bytes_growth_after"] == 0, unsub  # the server forwards nothing any more
    assert _names(unsub["events_later"]) == [], unsub

    again = run_py(selenium, RESUBSCRIBE.format())
    assert again["fresh"] and again["frames"] >= 15 and again["status"] == "SUBSCRIBED", again
    assert [e[0] for e in _names(again["events"])][:3] == [
        "track_subscription_status_changed", "track_subscribed", "track_subscription_status_changed"], again
    run_py(selenium, "await room.disconnect()\nawait publisher.disconnect()\njson.dumps(0)")
    assert logged_warnings(selenium) == []


WORKER = """
from livekit_pyweb import Room, RoomOptions
room = Room(RoomOptions(auto_subscribe=False))
watch(room)
await room.connect({url!r}, {token!r})
camera = await room.local_participant.set_camera_enabled(True)
await sleep_until(lambda: "peer" in room.remote_participants and any(
    p.kind.name == "KIND_VIDEO" for p in room.remote_participants["peer"].track_publications.values()), 20, "peer video")
pub = next(p for p in room.remote_participants["peer"].track_publications.values() if p.kind.name == "KIND_VIDEO")
await asyncio.sleep(2)
before = {{"status": pub.subscription_status.name, "track": pub.track is not None, "received": await video_received(room)}}
pub.set_subscribed(True)
await sleep_until(lambda: pub.track is not None, 20, "the subscribed track")
track = pub.track
frames, track_bytes = await frames_of(track, 15)
sent = await sent_growth(camera.track)
rtc = await room.get_rtc_stats()
pub.set_subscribed(False)
json.dumps({{"platform": room._platform.name, "before": before, "frames": frames, "track_bytes": track_bytes,
            "sent": sent, "received": await video_received(room),
            "after": {{"status": pub.subscription_status.name, "track": pub.track is not None}},
            "publisher_outbound": sum(int(s.get("bytesSent", 0)) for s in rtc.publisher_stats
                                      if s.get("type") == "outbound-rtp"),
            "events": [e[0] for e in events if e[0] != "track_stream_state_changed"]}})
"""


@pytest.mark.driver_timeout(150)
def test_set_subscribed_and_stats_through_the_worker_bridge(selenium_standalone, dist_url, py_peer, room_name):
    driver = selenium_standalone.driver
    py_peer("peer", room_name, video=True, audio=False)
    open_worker_page(driver, dist_url)
    run_worker(driver, WORKER_PRELUDE)
    run_worker(driver, HELPERS)
    out = run_worker(driver, WORKER.format(url=LIVEKIT_URL, token=make_token("pyweb-worker", room_name)))
    assert out["platform"] == "bridge", out
    assert out["before"] == {"status": "UNSUBSCRIBED", "track": False, "received": [0, 0]}, out
    assert out["frames"] >= 15 and out["track_bytes"] > 0, out  # RemoteTrack.get_stats over receiver.getStats
    first, last, frames_encoded = out["sent"]
    assert last > first > 0 and frames_encoded > 0, out  # LocalTrack.get_stats over the new sender.getStats
    assert out["received"][0] > 0 and out["publisher_outbound"] > 0, out  # Room.get_rtc_stats over pc.getStats
    assert out["after"] == {"status": "UNSUBSCRIBED", "track": False}, out
    assert out["events"][-5:] == ["track_subscription_status_changed", "track_subscribed",
                                  "track_subscription_status_changed", "track_subscription_status_changed",
                                  "track_unsubscribed"], out
    left = run_worker(driver, "await room.disconnect()\njson.dumps([logged, live_proxy_count() - base_proxies])")
    assert left == [[], 0], left
