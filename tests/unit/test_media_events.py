"""Media events on the CPython fakes of the port: local_audio_silence_detected (livekit-client's
LocalAudioSilenceDetected after publishing a silent microphone)."""

from __future__ import annotations

import asyncio

from livekit_pyweb.events import EVENT_NAMES, TRACK_EVENT_NAMES, LocalAudioSilenceDetected

from .fakes import FakePlatform, connected_room, until
from .test_publishing import _Server


async def test_a_silent_microphone_is_reported_once_published_and_a_sounding_one_is_not():
    assert "local_audio_silence_detected" in EVENT_NAMES and "audio_silence_detected" in TRACK_EVENT_NAMES
    platform = FakePlatform()
    platform.silent_microphone = True
    room, socket, pc = await connected_room(platform)
    server = _Server(socket)
    order: list[str] = []
    room.on("local_track_published", lambda pub, track: order.append("published"))
    room.on("local_audio_silence_detected", lambda pub: order.append(f"silent {pub.sid}"))
    stream = room.events()
    mic = await room.local_participant.set_microphone_enabled(True)
    assert mic is not None and mic.track is not None
    heard: list[str] = []
    mic.track.on("audio_silence_detected", lambda: heard.append("track"))
    await until(lambda: len(order) == 2)
    assert order == ["published", f"silent {mic.sid}"] and heard == ["track"]
    assert mic.track._port.silence_checks == [200]  # livekit-client's window: 200 ms
    events = [await anext(stream) for _ in range(3)]
    assert [e.name for e in events] == ["local_track_published", "active_device_changed",
                                        "local_audio_silence_detected"] and events[2] == LocalAudioSilenceDetected(mic)

    # A camera is never checked; a microphone with sound gives no event.
    cam = await room.local_participant.set_camera_enabled(True)
    assert cam is not None and cam.track is not None and cam.track._port.silence_checks == []
    await room.local_participant.set_microphone_enabled(False)
    await room.local_participant.unpublish_track(mic.sid)
    platform.silent_microphone = False
    again = await room.local_participant.set_microphone_enabled(True)
    assert again is not None and again.track is not None
    await until(lambda: again.track._port.silence_checks == [200])
    await asyncio.sleep(0.5)
    assert order == ["published", f"silent {mic.sid}", "published", "published"]
    await server.stop()
    await room.disconnect()


async def test_participant_level_subscription_and_stream_state_events_come_before_the_rooms():
    """livekit-client's ParticipantEvent TrackSubscriptionStatusChanged(publication, status),
    TrackStreamStateChanged(publication, state), TrackSubscriptionFailed(track_sid, error): on the remote
    participant, each just before the room's event of the same change."""
    from livekit_pyweb import RoomOptions, StreamState, SubscriptionStatus
    from livekit_pyweb._core import proto
    from livekit_pyweb.events import PARTICIPANT_EVENT_NAMES

    from .fakes import FakeTrack, TrackEvent, participant

    names = ("track_subscription_status_changed", "track_stream_state_changed", "track_subscription_failed")
    assert set(names) <= set(PARTICIPANT_EVENT_NAMES)
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(options=RoomOptions(auto_subscribe=False), others=[alice])
    who = room.remote_participants["alice"]
    pub = who.track_publications["TR_v"]
    log: list[tuple] = []

    def describe(a):
        return a.name if isinstance(a, (StreamState, SubscriptionStatus)) else getattr(a, "identity", None) or \
            getattr(a, "sid", None) or a

    for name in names:
        who.on(name, lambda *args, n=name: log.append(("alice", n, *[describe(a) for a in args])))
        room.on(name, lambda *args, n=name: log.append(("room", n, *[describe(a) for a in args])))
    pub.set_subscribed(True)
    pc.on_track(TrackEvent(FakeTrack("TR_v", "video"), ["PA_a|TR_v"], mid="1"))
    await until(lambda: pub.track is not None)
    rtc, m = proto.rtc(), proto.models()
    socket.push(stream_state_update=rtc.StreamStateUpdate(stream_states=[
        rtc.StreamStateInfo(participant_sid="PA_a", track_sid="TR_v", state=rtc.StreamState.PAUSED)]))
    socket.push(subscription_response=rtc.SubscriptionResponse(track_sid="TR_v",
                                                               err=m.SubscriptionError.SE_CODEC_UNSUPPORTED))
    await until(lambda: len(log) == 8)
    assert log == [
        ("alice", "track_subscription_status_changed", "TR_v", "DESIRED"),
        ("room", "track_subscription_status_changed", "TR_v", "DESIRED", "alice"),
        ("alice", "track_subscription_status_changed", "TR_v", "SUBSCRIBED"),
        ("room", "track_subscription_status_changed", "TR_v", "SUBSCRIBED", "alice"),
        ("alice", "track_stream_state_changed", "TR_v", "STATE_PAUSED"),
        ("room", "track_stream_state_changed", "TR_v", "STATE_PAUSED", "alice"),
        ("alice", "track_subscription_failed", "TR_v", "SE_CODEC_UNSUPPORTED"),
        ("room", "track_subscription_failed", "alice", "TR_v", "SE_CODEC_UNSUPPORTED"),
    ]
    await room.disconnect()


async def test_a_track_that_ends_by_itself_emits_ended_local_and_remote():
    """livekit-client's TrackEvent.Ended: the port's on_ended (the page's MediaStreamTrack ``ended``) is the track's
    ``ended(track)``; for a published screen share, before it is unpublished; our own stop() is no ``ended``."""
    from .fakes import FakeTrack, TrackEvent, participant

    alice = participant("PA_a", "alice", [("TR_a", 0)])
    room, socket, pc = await connected_room(others=[alice])
    server = _Server(socket)
    order: list[str] = []
    room.on("local_track_unpublished", lambda pub: order.append(f"unpublished {pub.sid}"))
    share = await room.local_participant.set_screen_share_enabled(True)
    assert share is not None and share.track is not None
    share.track.on("ended", lambda track: order.append(f"ended {track.sid}"))
    share.track._port.end()
    await until(lambda: len(order) == 2)
    assert order == [f"ended {share.sid}", f"unpublished {share.sid}"]

    cam = await room.local_participant.set_camera_enabled(True)
    assert cam is not None and cam.track is not None
    cam.track.on("ended", lambda track: order.append(f"ended {track.sid}"))
    cam.track.stop()  # ours: no event
    assert order[2:] == []

    port = FakeTrack("TR_a", "audio")
    pc.on_track(TrackEvent(port, ["PA_a|TR_a"], mid="1"))
    pub = room.remote_participants["alice"].track_publications["TR_a"]
    await until(lambda: pub.track is not None)
    pub.track.on("ended", lambda track: order.append(f"remote ended {track.sid}"))
    port.end()
    assert order[2:] == ["remote ended TR_a"]
    await server.stop()
    await room.disconnect()
