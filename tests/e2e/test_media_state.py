"""Track state through the real server: our mute/unmute/unpublish as the Python SDK peer sees and hears it, the
peer's mute as our room reports it, the server taking our publish permission away, room metadata, and
auto_subscribe=False."""

from __future__ import annotations

import time

import pytest

from .conftest import LIVEKIT_URL, make_token, room_service, run_py
from .page import JOIN, logged_warnings, open_page

SET_MUTED = """
pub = room.local_participant.get_track_publication(TrackSource.SOURCE_{source})
{call}
json.dumps({{"muted": pub.muted, "enabled": bool(pub.track.media_stream_track.enabled), "log": log[-1]}})
"""

UNPUBLISH = """
pub = room.local_participant.get_track_publication(TrackSource.SOURCE_{source})
track = pub.track
await room.local_participant.unpublish_track(pub.sid)
json.dumps({{"left": sorted(source_name(p) for p in room.local_participant.track_publications.values()),
            "ready_state": str(track.media_stream_track.readyState), "log": log[-1]}})
"""


def _set(selenium, source: str, call: str) -> dict:
    return run_py(selenium, SET_MUTED.format(source=source, call=call))


@pytest.mark.driver_timeout(120)
def test_local_mute_unmute_and_unpublish_as_the_peer_sees_them(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("listener", room_name, video=False, audio=False)
    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=True))
    mic, cam = joined["sids"]["MICROPHONE"], joined["sids"]["CAMERA"]
    peer.wait_audio("pyweb", loud=True, windows=3, timeout=20, what="our microphone before muting")

    # Microphone muted: the peer is told (track_muted) and hears silence.
    since = peer.mark()
    state = _set(selenium, "MICROPHONE", "await room.local_participant.set_microphone_enabled(False)")
    assert state == {"muted": True, "enabled": False, "log": ["track_muted", "pyweb", mic]}, state
    peer.wait_for(lambda e: e["event"] == "track_muted" and e["sid"] == mic, 10, "our mute at the peer", since=since)
    peer.wait_audio("pyweb", loud=False, windows=4, timeout=10, since=since, what="silence while muted")

    # Unmuted: told again, and the beeps are back.
    since = peer.mark()
    state = _set(selenium, "MICROPHONE", "await room.local_participant.set_track_muted(pub, False)")
    assert state == {"muted": False, "enabled": True, "log": ["track_unmuted", "pyweb", mic]}, state
    peer.wait_for(lambda e: e["event"] == "track_unmuted" and e["sid"] == mic, 10, "our unmute at the peer",
                  since=since)
    peer.wait_audio("pyweb", loud=True, windows=2, timeout=10, since=since, what="our microphone after unmuting")

    # The camera: muted and unmuted the same way.
    since = peer.mark()
    state = _set(selenium, "CAMERA", "await room.local_participant.set_track_muted(pub, True)")
    assert state == {"muted": True, "enabled": False, "log": ["track_muted", "pyweb", cam]}, state
    peer.wait_for(lambda e: e["event"] == "track_muted" and e["sid"] == cam, 10, "camera mute at the peer",
                  since=since)
    state = _set(selenium, "CAMERA", "await room.local_participant.set_camera_enabled(True)")
    assert state == {"muted": False, "enabled": True, "log": ["track_unmuted", "pyweb", cam]}, state
    peer.wait_for(lambda e: e["event"] == "track_unmuted" and e["sid"] == cam, 10, "camera unmute at the peer",
                  since=since)

    # Unpublished: the peer sees the track go, and we stop capturing.
    for source, sid, left in (("MICROPHONE", mic, ["CAMERA"]), ("CAMERA", cam, [])):
        since = peer.mark()
        result = run_py(selenium, UNPUBLISH.format(source=source))
        assert result == {"left": left, "ready_state": "ended", "log": ["local_track_unpublished", sid]}, result
        peer.wait_for(lambda e: e["event"] == "track_unpublished" and e["sid"] == sid, 10,
                      f"our {source} unpublished at the peer", since=since)
    assert logged_warnings(selenium) == []


WAIT_MUTE = """
pub = [p for p in room.remote_participants["py-peer"].track_publications.values() if p.kind.name == "KIND_{kind}"][0]
await wait_until(lambda: pub.muted is {muted} and log[-1][0] == "{event}", 10, "{event} of {kind}")
peer = room.remote_participants["py-peer"]
json.dumps({{"entry": log[-1], "sid": pub.sid, "muted": pub.muted,
            "enabled": {{"mic": peer.is_microphone_enabled, "cam": peer.is_camera_enabled}}}})
"""


@pytest.mark.driver_timeout(120)
def test_remote_mute_and_unmute_reach_our_room(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    sids = {e["kind"]: e["sid"] for e in (
        peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == k, 20, f"its {k} to publish")
        for k in ("audio", "video"))}
    open_page(selenium)
    run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=True))
    run_py(selenium, "await remote_track('py-peer', 'AUDIO')\nawait remote_track('py-peer', 'VIDEO')\njson.dumps(0)")
    for kind in ("audio", "video"):
        for cmd, event, muted in (("mute", "track_muted", True), ("unmute", "track_unmuted", False)):
            peer.send(cmd, kind=kind)
            seen = run_py(selenium, WAIT_MUTE.format(kind=kind.upper(), muted=muted, event=event))
            enabled = {"mic": not (kind == "audio" and muted), "cam": not (kind == "video" and muted)}
            # handler arguments: (participant, publication); is_*_enabled follow the mute
            assert seen == {"entry": [event, "py-peer", sids[kind]], "sid": sids[kind], "muted": muted,
                            "enabled": enabled}, seen
    log = run_py(selenium, "json.dumps(log)")
    changes = [entry for entry in log if entry[0] in ("track_muted", "track_unmuted")]
    assert changes == [["track_muted", "py-peer", sids["audio"]], ["track_unmuted", "py-peer", sids["audio"]],
                       ["track_muted", "py-peer", sids["video"]], ["track_unmuted", "py-peer", sids["video"]]], log
    assert logged_warnings(selenium) == []


REVOKED = """
await wait_until(lambda: not room.local_participant.track_publications, 10, "our publications to go")
await asyncio.sleep(0.5)  # anything that would follow
json.dumps({"log": log, "state": state_name(room),
            "ready_states": [str(t.media_stream_track.readyState) for t in tracks]})
"""


@pytest.mark.driver_timeout(120)
def test_server_revoking_publish_unpublishes_our_tracks(selenium_standalone, py_peer, room_name):
    """UpdateParticipant(permission can_publish=False): livekit-server removes our tracks and sends us
    track_unpublished for each (pkg/rtc/participant.go SetPermission → removePublishedTrack)."""
    from livekit import api

    selenium = selenium_standalone
    peer = py_peer("listener", room_name, video=False, audio=False)
    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=True))
    run_py(selenium, "tracks = [p.track for p in room.local_participant.track_publications.values()]\njson.dumps(0)")
    for sid in joined["sids"].values():
        peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == sid, 20, "the peer to subscribe")
    since = peer.mark()

    room_service(lambda lk: lk.room.update_participant(api.UpdateParticipantRequest(
        room=room_name, identity="pyweb", permission=api.ParticipantPermission(can_publish=False, can_subscribe=True))))
    result = run_py(selenium, REVOKED)
    unpublished = sorted(entry[1] for entry in result["log"] if entry[0] == "local_track_unpublished")
    assert unpublished == sorted(joined["sids"].values()), result["log"]
    assert result["ready_states"] == ["ended", "ended"]  # capture stopped
    assert result["state"] == "connected"  # still in the room, only not publishing
    for sid in joined["sids"].values():
        peer.wait_for(lambda e: e["event"] == "track_unpublished" and e["sid"] == sid, 10,
                      f"the peer to see {sid} unpublished", since=since)
    assert logged_warnings(selenium) == []


SERVER_MUTED = """
pub = room.local_participant.get_track_publication(TrackSource.SOURCE_MICROPHONE)
await wait_until(lambda: pub.muted is {muted} and log[-1][0] == "{event}", 10, "the server's {event}")
json.dumps({{"muted": pub.muted, "enabled": bool(pub.track.media_stream_track.enabled), "log": log[-1]}})
"""


@pytest.mark.driver_timeout(120)
def test_server_muting_our_track_is_obeyed(selenium_standalone, py_peer, room_name):
    """RoomService MutePublishedTrack: livekit-server sends us a mute request for our own track; we obey it (as
    livekit-client does), so our publication, our capture and the peer agree, and unmuting works the same way."""
    from livekit import api

    selenium = selenium_standalone
    peer = py_peer("listener", room_name, video=False, audio=False)
    open_page(selenium)
    joined = run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=True))
    mic = joined["sids"]["MICROPHONE"]
    peer.wait_audio("pyweb", loud=True, windows=2, timeout=20, what="our microphone before the server mutes it")
    for muted, event in ((True, "track_muted"), (False, "track_unmuted")):
        since = peer.mark()
        room_service(lambda lk, m=muted: lk.room.mute_published_track(api.MuteRoomTrackRequest(
            room=room_name, identity="pyweb", track_sid=mic, muted=m)))
        state = run_py(selenium, SERVER_MUTED.format(muted=muted, event=event))
        assert state == {"muted": muted, "enabled": not muted, "log": [event, "pyweb", mic]}, state
        peer.wait_for(lambda e: e["event"] == event and e["sid"] == mic, 10, f"{event} at the peer", since=since)
        peer.wait_audio("pyweb", loud=not muted, windows=3, timeout=10, since=since,
                        what="silence while muted by the server" if muted else "our microphone again")
    assert logged_warnings(selenium) == []


METADATA = """
await wait_until(lambda: room.metadata == {metadata!r}, 10, "room metadata {metadata!r}")
json.dumps([entry for entry in log if entry[0] == "room_metadata_changed"])
"""


@pytest.mark.driver_timeout(120)
def test_room_metadata_changes_are_reported(selenium_standalone, py_peer, room_name):
    from livekit import api

    selenium = selenium_standalone
    peer = py_peer("listener", room_name, video=False, audio=False)
    open_page(selenium)
    run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=True))
    changes = []
    for metadata in ("first", "second"):
        room_service(lambda lk: lk.room.update_room_metadata(
            api.UpdateRoomMetadataRequest(room=room_name, metadata=metadata)))
        changes = run_py(selenium, METADATA.format(metadata=metadata))
    # handler arguments: (old_metadata, metadata); the peer saw the same changes
    assert changes == [["room_metadata_changed", "", "first"], ["room_metadata_changed", "first", "second"]]
    peer.wait_for(lambda e: e["event"] == "room_metadata_changed" and e["metadata"] == "second", 10,
                  "the second change at the peer")
    assert [(e["old"], e["metadata"]) for e in peer.events if e["event"] == "room_metadata_changed"] == [
        ("", "first"), ("first", "second")]
    assert logged_warnings(selenium) == []


JOIN_NO_SUBSCRIBE = """
room = Room(RoomOptions(auto_subscribe=False))
record(room)
await room.connect({url!r}, {token!r})
await room.local_participant.set_camera_enabled(True)
json.dumps(room.local_participant.identity)
"""

NOT_SUBSCRIBED = """
await wait_until(lambda: len([e for e in log if e[0] == "track_published"]) == 2, 20, "the peer's publications")
published_at = js.performance.now()
json.dumps([e for e in log if e[0] == "track_published"])
"""

STILL_NOT_SUBSCRIBED = """
await asyncio.sleep(max(0.0, 3.0 - (js.performance.now() - published_at) / 1000))
inbound = [s for s in await room._engine.publisher.get_stats() if s.get("type") == "inbound-rtp"]
peer = room.remote_participants["py-peer"]
json.dumps({"log": log, "inbound_bytes": sum(int(s.get("bytesReceived", 0)) for s in inbound),
            "subscribed": [p.subscribed for p in peer.track_publications.values()],
            "waited_s": (js.performance.now() - published_at) / 1000})
"""


@pytest.mark.driver_timeout(120)
def test_without_auto_subscribe_we_see_publications_but_receive_nothing(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    run_py(selenium, JOIN_NO_SUBSCRIBE.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    sids = sorted(e["sid"] for e in (
        peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == k, 20, f"its {k} to publish")
        for k in ("audio", "video")))
    published = run_py(selenium, NOT_SUBSCRIBED)
    assert sorted(e[1] for e in published) == sids and {e[2] for e in published} == {"py-peer"}, published
    # Meanwhile the peer (auto-subscribing) decodes our camera ...
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb" and e["kind"] == "video"
                  and e["count"] >= 30, 30, "frames of our camera at the peer")
    # ... while we, for at least 3 s after the publications arrived, subscribe to nothing and receive no media.
    result = run_py(selenium, STILL_NOT_SUBSCRIBED)
    assert result["waited_s"] >= 3.0
    assert [e[0] for e in result["log"] if e[0] in ("track_subscribed", "track_unsubscribed")] == [], result["log"]
    assert result["subscribed"] == [False, False] and result["inbound_bytes"] == 0, result
    assert logged_warnings(selenium) == []


ENABLE_BOTH = """
calls = js.eval("(() => {{ const md = navigator.mediaDevices; const real = md.getUserMedia.bind(md);"
                " window.__gumCalls = 0; md.getUserMedia = (c) => {{ window.__gumCalls++; return real(c); }}; }})()")
room = Room()
record(room)
await room.connect({url!r}, {token!r})
cam, mic = await room.local_participant.enable_camera_and_microphone(audio=RAW_MIC)
json.dumps({{"sids": {{"CAMERA": cam.sid, "MICROPHONE": mic.sid}}, "gum_calls": int(js.window.__gumCalls),
            "sources": [source_name(cam), source_name(mic)], "enabled": [room.local_participant.is_camera_enabled,
            room.local_participant.is_microphone_enabled]}})
"""


@pytest.mark.driver_timeout(120)
def test_enable_camera_and_microphone_asks_once_and_the_peer_gets_both(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("listener", room_name, video=False, audio=False)
    open_page(selenium)
    result = run_py(selenium, ENABLE_BOTH.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    assert result["gum_calls"] == 1, result  # one capture: one permission prompt for both devices
    assert result["sources"] == ["CAMERA", "MICROPHONE"] and result["enabled"] == [True, True], result
    for sid in result["sids"].values():
        peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == sid, 20, "the peer to subscribe")
    peer.wait_audio("pyweb", loud=True, windows=2, timeout=20, what="our microphone")
    assert logged_warnings(selenium) == []
