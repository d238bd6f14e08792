"""signal_connected and the participant- and track-level events (livekit-client's ParticipantEvent / TrackEvent,
snake_case): which fire, with what arguments, and in which order against the room's own events. On the fakes."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import Room
from livekit_pyweb._core import proto
from livekit_pyweb.events import Emitted

from .fakes import FakePlatform, FakeTrack, TrackEvent, connected_room, join_response, participant, until


def _name(a):
    return getattr(a, "sid", None) or getattr(a, "identity", None) or getattr(a, "name", None) or a


def _recorder(log, prefix, emitter, names):
    for n in names:
        emitter.on(n, lambda *args, n=n: log.append((prefix, n, *[_name(a) for a in args])))


ROOM = ("track_published", "track_subscribed", "track_muted", "track_unmuted", "track_unsubscribed",
        "track_unpublished", "local_track_published", "local_track_unpublished", "local_track_subscribed",
        "connection_quality_changed", "active_speakers_changed")
PARTICIPANT = ("track_published", "track_unpublished", "track_subscribed", "track_unsubscribed", "track_muted",
               "track_unmuted", "local_track_published", "local_track_unpublished", "local_track_subscribed",
               "connection_quality_changed", "is_speaking_changed")
TRACK = ("muted", "unmuted", "element_attached", "element_detached", "audio_playback_started",
         "audio_playback_failed")


async def test_signal_connected_comes_once_the_join_is_applied_before_the_peer_connection() -> None:
    platform = FakePlatform()
    room = Room(platform=platform)
    seen = []
    room.on("signal_connected", lambda: seen.append(("signal_connected", room.local_participant.identity,
                                                     sorted(room.remote_participants),
                                                     [pc.connection_state for pc in platform.pcs])))
    room.on("connected", lambda: seen.append(("connected",)))
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(platform.socket_ready.wait(), 1)
    socket = platform.sockets[-1]
    socket.push(join=join_response(others=[participant("PA_a", "alice")]))
    await until(lambda: bool(seen))
    assert seen == [("signal_connected", "me", ["alice"], ["new"])]
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
    await until(lambda: platform.pcs[-1].has_remote_description)
    platform.pcs[-1].connect()
    await asyncio.wait_for(task, 1)
    assert [s[0] for s in seen] == ["signal_connected", "connected"]
    await room.disconnect()


async def test_remote_track_events_fire_on_track_then_participant_then_room() -> None:
    room, socket, pc = await connected_room()
    log: list[tuple] = []
    _recorder(log, "room", room, ROOM)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[participant("PA_b", "bob")]))
    await until(lambda: "bob" in room.remote_participants)
    bob = room.remote_participants["bob"]
    _recorder(log, "bob", bob, PARTICIPANT)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[participant("PA_b", "bob", [("TR_m", 0)], 2)]))
    pc.on_track(TrackEvent(FakeTrack("TR_m", "audio"), ["PA_b|TR_m"]))
    await until(lambda: len(log) == 4)
    assert log == [("bob", "track_published", "TR_m"), ("room", "track_published", "TR_m", "PA_b"),
                   ("bob", "track_subscribed", "TR_m", "TR_m"), ("room", "track_subscribed", "TR_m", "TR_m", "PA_b")]
    track = bob.track_publications["TR_m"].track
    _recorder(log, "track", track, TRACK)
    stream = bob.events()

    # The publisher mutes: the track, then bob, then the room.
    muted = participant("PA_b", "bob", [("TR_m", 0)], 3)
    muted.tracks[0].muted = True
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[muted]))
    await until(lambda: len(log) == 7)
    assert log[4:] == [("track", "muted", "TR_m"), ("bob", "track_muted", "TR_m"),
                       ("room", "track_muted", "PA_b", "TR_m")]
    assert track.muted

    # Rendering and autoplay, as the page reports play() of the element.
    element = track.attach()
    track._port.played(False, "NotAllowedError")
    track._port.played(True)
    track.detach()
    assert log[7:] == [("track", "element_attached", element), ("track", "audio_playback_failed", "NotAllowedError"),
                       ("track", "audio_playback_started"), ("track", "element_detached", element)]

    # Quality and speaking.
    m = proto.models()
    socket.push(connection_quality=proto.rtc().ConnectionQualityUpdate(updates=[
        proto.rtc().ConnectionQualityInfo(participant_sid="PA_b", quality=m.ConnectionQuality.POOR)]))
    socket.push(speakers_changed=proto.rtc().SpeakersChanged(speakers=[m.SpeakerInfo(sid="PA_b", level=0.5,
                                                                                      active=True)]))
    socket.push(speakers_changed=proto.rtc().SpeakersChanged(speakers=[m.SpeakerInfo(sid="PA_b", active=False)]))
    await until(lambda: len(log) == 17)
    assert [e[:2] for e in log[11:]] == [("bob", "connection_quality_changed"), ("room", "connection_quality_changed"),
                                         ("bob", "is_speaking_changed"), ("room", "active_speakers_changed"),
                                         ("bob", "is_speaking_changed"), ("room", "active_speakers_changed")]
    assert (log[13][2], log[15][2]) == (True, False)

    # Unpublished: unsubscribed then unpublished, each on bob before the room.
    socket.push(track_unpublished=proto.rtc().TrackUnpublishedResponse(track_sid="TR_m"))
    await until(lambda: len(log) == 21)
    assert log[17:] == [("bob", "track_unsubscribed", "TR_m", "TR_m"),
                        ("room", "track_unsubscribed", "TR_m", "TR_m", "PA_b"),
                        ("bob", "track_unpublished", "TR_m"), ("room", "track_unpublished", "TR_m", "PA_b")]
    first = await asyncio.wait_for(stream.__anext__(), 1)
    assert isinstance(first, Emitted) and (first.name, first.args[0].sid) == ("track_muted", "TR_m")
    await room.disconnect()
    rest = [e.name async for e in stream]  # the stream ends with the participant
    assert rest[-3:] == ["track_unsubscribed", "track_subscription_status_changed", "track_unpublished"]
    assert "is_speaking_changed" in rest


async def test_local_track_events_fire_on_track_then_participant_then_room() -> None:
    m = proto.models()
    room, socket, pc = await connected_room()
    log: list[tuple] = []
    local = room.local_participant
    _recorder(log, "room", room, ROOM)
    _recorder(log, "me", local, PARTICIPANT)
    publishing = asyncio.ensure_future(local.set_microphone_enabled(True))
    await until(lambda: bool(socket.requests("add_track")))
    cid = socket.requests("add_track")[-1].add_track.cid
    socket.push(track_published=proto.rtc().TrackPublishedResponse(
        cid=cid, track=m.TrackInfo(sid="TR_mic", type=m.TrackType.AUDIO, source=m.TrackSource.MICROPHONE)))
    await until(lambda: bool(socket.requests("offer")))
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a", id=socket.requests("offer")[-1].offer.id))
    pub = await asyncio.wait_for(publishing, 1)
    track = pub.track
    _recorder(log, "track", track, TRACK)
    assert log == [("me", "local_track_published", "TR_mic"), ("room", "local_track_published", "TR_mic", "TR_mic")]
    track.mute()
    track.mute()  # no change: no event
    track.unmute()
    assert log[2:] == [("track", "muted", "TR_mic"), ("me", "track_muted", "TR_mic"),
                       ("room", "track_muted", "PA_me", "TR_mic"),
                       ("track", "unmuted", "TR_mic"), ("me", "track_unmuted", "TR_mic"),
                       ("room", "track_unmuted", "PA_me", "TR_mic")]
    socket.push(track_subscribed=proto.rtc().TrackSubscribed(track_sid="TR_mic"))
    await until(lambda: len(log) == 10)
    assert log[8:] == [("me", "local_track_subscribed", "TR_mic"), ("room", "local_track_subscribed", "TR_mic")]
    await local.unpublish_track("TR_mic")
    assert log[10:] == [("me", "local_track_unpublished", "TR_mic"), ("room", "local_track_unpublished", "TR_mic")]
    await room.disconnect()


async def test_participant_and_track_emitters_accept_only_their_event_names() -> None:
    room, socket, pc = await connected_room()
    with pytest.raises(ValueError, match="unknown event 'participant_connected'"):
        room.local_participant.on("participant_connected", lambda: None)  # a room event, not a participant one
    track = FakeTrack("x", "audio")
    from livekit_pyweb.track import LocalAudioTrack

    with pytest.raises(ValueError, match="unknown event 'track_muted'"):
        LocalAudioTrack(track).on("track_muted", lambda: None)
    with pytest.raises(ValueError):
        room.on("muted", lambda: None)
    await room.disconnect()
