"""Walking skeleton: livekit_pyweb in Pyodide/Chromium and the official Python SDK exchange camera and audio through
the real livekit-server, and a disconnect is seen by the peer and leaves nothing behind."""

from __future__ import annotations

import pytest

import livekit_pyweb

from .conftest import LIVEKIT_URL, make_token, run_py, server_client_info
from .page import DECODE, JOIN, assert_decoded, logged_warnings, open_page

MUTE_MIC = """
await room.local_participant.set_microphone_enabled(False)
json.dumps(room.local_participant.get_track_publication(TrackSource.SOURCE_MICROPHONE).muted)
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

    # We decode the Python SDK's video (framesDecoded keeps growing on our <video>) and hear its tone.
    result = run_py(selenium, DECODE.format(peer="py-peer"))
    assert_decoded(result)
    kinds = [entry[0] for entry in result["log"]]
    assert kinds.count("track_subscribed") == 2 and "connected" in kinds
    assert kinds.index("connected") < kinds.index("track_subscribed")  # deferred until connected

    # The Python SDK decodes our camera and hears our microphone (Chromium's fake microphone beeps).
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb" and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the peer")
    peer.wait_audio("pyweb", loud=True, windows=3, timeout=20, what="our microphone at the peer")
    # Muted (MediaStreamTrack.enabled = false): the peer hears silence.
    since = peer.mark()
    assert run_py(selenium, MUTE_MIC) is True
    peer.wait_audio("pyweb", loud=False, windows=3, timeout=10, since=since, what="silence after we muted")
    assert logged_warnings(selenium) == []


LEAVE = """
await room.disconnect()
await asyncio.sleep(0.5)
json.dumps({"proxies": live_proxy_count() - base_proxies, "pcs": live_peer_connection_count(),
            "state": state_name(room), "log": log})
"""


@pytest.mark.driver_timeout(120)
def test_disconnect_is_seen_and_releases_everything(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("leaver", room_name), single=True))
    run_py(selenium, "video = await remote_track('py-peer', 'VIDEO')\njson.dumps(video.sid)")
    peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["participant"] == "leaver", 30,
                  "the peer to subscribe to us")
    camera = run_py(selenium, "cam = [p.track for p in room.local_participant.track_publications.values()]\n"
                              "json.dumps(len(cam))")
    assert camera == 2
    peer.wait_audio("leaver", loud=True, windows=2, timeout=20, what="our microphone at the peer")

    result = run_py(selenium, LEAVE)
    left = peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == "leaver", 20,
                         "the peer to see us leave")
    assert result["state"] == "disconnected"
    assert result["proxies"] == 0 and result["pcs"] == 0, result
    log = [(entry[0], entry[1] if len(entry) > 1 else None) for entry in result["log"]]
    # Our side: the remote track is unsubscribed and unpublished, then its participant goes, then we are
    # disconnected.
    video_sid = [sid for name, sid in log if name == "track_subscribed"][-1]
    assert log[-4:] == [("track_unsubscribed", video_sid), ("track_unpublished", video_sid),
                        ("participant_disconnected", "py-peer"), ("disconnected", "CLIENT_INITIATED")], log
    ended = run_py(selenium, "json.dumps([str(t.media_stream_track.readyState) for t in cam])")
    assert ended == ["ended", "ended"]  # local capture stopped
    # The peer's stream of our microphone ended with our departure: no window of our audio after it.
    mic_sid = joined["sids"]["MICROPHONE"]
    peer.wait_for(lambda e: e["event"] == "track_unsubscribed" and e["sid"] == mic_sid, 5,
                  "our microphone unsubscribed at the peer")
    after = [e for e in peer.levels("leaver", peer.events.index(left)) if e["sid"] == mic_sid]
    assert after == [], after
    assert logged_warnings(selenium) == []


@pytest.mark.driver_timeout(120)
def test_participant_joining_later_is_announced_and_decoded(selenium_standalone, py_peer, room_name):
    """We join an empty room; the peer arrives and publishes afterwards (the server must ask us to re-offer)."""
    selenium = selenium_standalone
    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("early", room_name), single=True))
    assert joined["remotes"] == []
    peer = py_peer("late-peer", room_name, video=True, audio=True)
    result = run_py(selenium, DECODE.format(peer="late-peer"))
    assert_decoded(result)
    events = [(entry[0], entry[-1]) for entry in result["log"]]
    first_connected = events.index(("participant_connected", "late-peer"))
    published = [i for i, e in enumerate(events) if e == ("track_published", "late-peer")]
    subscribed = [i for i, e in enumerate(events) if e == ("track_subscribed", "late-peer")]
    assert len(published) == 2 and len(subscribed) == 2, events
    assert first_connected < min(published) and max(published) <= max(subscribed), events
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "early" and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the late peer")
    peer.wait_audio("early", loud=True, windows=2, timeout=20, what="our microphone at the late peer")
    assert logged_warnings(selenium) == []


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
    assert_decoded(result)
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
