"""Walking skeleton: livekit_pyweb in Pyodide/Chromium and the official Python SDK exchange camera and audio through
the real livekit-server, and a disconnect is seen by the peer and leaves nothing behind."""

from __future__ import annotations

import pytest

import livekit_pyweb

from .conftest import LIVEKIT_URL, make_token, run_py, server_client_info

PRELUDE = """
import asyncio, json, js
from livekit_pyweb import Room, RoomOptions
from livekit_pyweb._browser import live_proxy_count, live_peer_connection_count

base_proxies = live_proxy_count()
log = []

def record(room):
    def make(name):
        def handler(*args):
            log.append([name] + [getattr(a, "identity", None) or getattr(a, "sid", None) or str(a) for a in args])
        return handler
    for n in ("connected", "participant_connected", "participant_disconnected", "track_published",
              "track_subscribed", "track_unsubscribed", "local_track_published", "disconnected"):
        room.on(n, make(n))

async def remote_track(identity, kind, timeout=30.0):
    deadline = js.performance.now() + timeout * 1000
    while js.performance.now() < deadline:
        participant = room.remote_participants.get(identity)
        if participant is not None:
            for pub in participant.track_publications.values():
                if pub.track is not None and pub.kind.name == kind:
                    return pub.track
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} track from {identity}; log={log}")

json.dumps(base_proxies)
"""

def open_page(selenium):
    """Load livekit_pyweb into the test page and define the helpers of PRELUDE there."""
    selenium.load_package(["livekit-pyweb"])
    run_py(selenium, PRELUDE)


JOIN = """
room = Room(RoomOptions(single_peer_connection={single}))
record(room)
t0 = js.performance.now()
await room.connect({url!r}, {token!r})
connect_ms = js.performance.now() - t0
await room.local_participant.set_camera_enabled(True)
await room.local_participant.set_microphone_enabled(True)
json.dumps({{"connect_ms": connect_ms, "room": room.name, "identity": room.local_participant.identity,
            "remotes": sorted(room.remote_participants), "state": room.connection_state.value,
            "published": sorted(p.source.name for p in room.local_participant.track_publications.values()),
            "single_pc": room._engine.single_pc}})
"""

DECODE = """
video = await remote_track({peer!r}, "VIDEO")
audio = await remote_track({peer!r}, "AUDIO")
element = video.attach()
js.document.body.append(element)
frames = []
for _ in range(80):
    stats = await video.get_stats()
    frames.append(int(stats.get("framesDecoded", 0)))
    if frames[-1] >= 30 and len([f for f in frames if f > 0]) >= 3:
        break
    await asyncio.sleep(0.25)
audio_stats = await audio.get_stats()
json.dumps({{"frames": frames, "element_width": int(element.videoWidth), "tag": str(element.tagName),
            "audio_bytes": int(audio_stats.get("bytesReceived", 0)), "log": log}})
"""


@pytest.mark.driver_timeout(120)
@pytest.mark.parametrize("single", [True, False], ids=["single-pc", "dual-pc"])
def test_walking_skeleton_with_python_sdk(selenium_standalone, py_peer, room_name, single):
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")

    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=single))
    assert joined["state"] == "connected" and joined["room"] == room_name
    assert joined["single_pc"] is single
    client = server_client_info(room_name, "pyweb")  # our ClientInfo as the server took it (either path)
    assert client["sdk"] == "PYTHON" and client["version"] == livekit_pyweb.__version__, client
    assert client["browser"] in ("Chrome", "HeadlessChrome") and client["os"] == "Linux", client
    assert joined["identity"] == "pyweb" and joined["remotes"] == ["py-peer"]
    assert joined["published"] == ["CAMERA", "MICROPHONE"]

    # We decode the Python SDK's video: framesDecoded keeps growing on our <video>.
    result = run_py(selenium, DECODE.format(peer="py-peer"))
    decoded = [f for f in result["frames"] if f > 0]
    assert len(decoded) >= 3 and decoded[-1] > decoded[0] and decoded[-1] >= 30, result["frames"]
    assert result["tag"] == "VIDEO" and result["element_width"] > 0
    assert result["audio_bytes"] > 0
    kinds = [entry[0] for entry in result["log"]]
    assert kinds.count("track_subscribed") == 2 and "connected" in kinds
    assert kinds.index("connected") < kinds.index("track_subscribed")  # deferred until connected

    # The Python SDK decodes our camera and receives our microphone.
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb" and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the peer")
    peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["participant"] == "pyweb"
                  and e["kind"] == "audio", 20, "our microphone subscribed at the peer")
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb" and e["kind"] == "audio"
                  and e["count"] > 10, 20, "audio frames of our microphone at the peer")


LEAVE = """
await room.disconnect()
await asyncio.sleep(0.5)
json.dumps({"proxies": live_proxy_count() - base_proxies, "pcs": live_peer_connection_count(),
            "state": room.connection_state.value, "log": log})
"""


@pytest.mark.driver_timeout(120)
def test_disconnect_is_seen_and_releases_everything(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    open_page(selenium)
    run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("leaver", room_name), single=True))
    run_py(selenium, "video = await remote_track('py-peer', 'VIDEO')\njson.dumps(video.sid)")
    peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["participant"] == "leaver", 30,
                  "the peer to subscribe to us")
    camera = run_py(selenium, "cam = [p.track for p in room.local_participant.track_publications.values()]\n"
                              "json.dumps(len(cam))")
    assert camera == 2

    result = run_py(selenium, LEAVE)
    peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == "leaver", 20,
                  "the peer to see us leave")
    assert result["state"] == "disconnected"
    assert result["proxies"] == 0 and result["pcs"] == 0, result
    kinds = [entry[0] for entry in result["log"]]
    # Our side: the remote track goes, then its participant, then we are disconnected.
    assert kinds[-3:] == ["track_unsubscribed", "participant_disconnected", "disconnected"], kinds
    ended = run_py(selenium, "json.dumps([str(t.media_stream_track.readyState) for t in cam])")
    assert ended == ["ended", "ended"]  # local capture stopped


@pytest.mark.driver_timeout(120)
def test_participant_joining_later_is_announced_and_decoded(selenium_standalone, py_peer, room_name):
    """We join an empty room; the peer arrives and publishes afterwards (the server must ask us to re-offer)."""
    selenium = selenium_standalone
    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("early", room_name), single=True))
    assert joined["remotes"] == []
    peer = py_peer("late-peer", room_name, video=True, audio=True)
    result = run_py(selenium, DECODE.format(peer="late-peer"))
    decoded = [f for f in result["frames"] if f > 0]
    assert len(decoded) >= 3 and decoded[-1] > decoded[0], result["frames"]
    events = [(entry[0], entry[-1]) for entry in result["log"]]
    first_connected = events.index(("participant_connected", "late-peer"))
    published = [i for i, e in enumerate(events) if e == ("track_published", "late-peer")]
    subscribed = [i for i, e in enumerate(events) if e == ("track_subscribed", "late-peer")]
    assert len(published) == 2 and len(subscribed) == 2, events
    assert first_connected < min(published) and max(published) <= max(subscribed), events
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "early" and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the late peer")


@pytest.mark.driver_timeout(120)
def test_server_without_v1_falls_back_to_two_peer_connections(selenium_standalone, py_peer, room_name,
                                                             v0_only_server):
    """A server that 404s /rtc/v1 (older than single-PC signalling): we retry on /rtc with publisher + subscriber."""
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    open_page(selenium)
    url = f"ws://127.0.0.1:{v0_only_server.port}"
    joined = run_py(selenium, JOIN.format(url=url, token=make_token("legacy", room_name), single=True))
    assert joined["state"] == "connected" and joined["single_pc"] is False
    assert v0_only_server.v1_requests == 2  # the WebSocket upgrade, then validate
    result = run_py(selenium, DECODE.format(peer="py-peer"))
    decoded = [f for f in result["frames"] if f > 0]
    assert len(decoded) >= 3 and decoded[-1] > decoded[0], result["frames"]
    assert result["audio_bytes"] > 0
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "legacy" and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the peer")


@pytest.mark.driver_timeout(120)
def test_closing_the_page_leaves_the_room(selenium_standalone, py_peer, room_name):
    """Navigating away sends a leave on pagehide: the peer sees us go at once, not after the server's timeout."""
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=False, audio=True)
    open_page(selenium)
    run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("navigator", room_name), single=True))
    peer.wait_for(lambda e: e["event"] == "participant_connected" and e["identity"] == "navigator", 20,
                  "the peer to see us join")
    selenium.driver.get("about:blank")
    left = peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == "navigator", 5,
                         "the peer to see us leave within 5 s")
    assert left["event"] == "participant_disconnected"
