"""Autoplay on the port fakes: a refused play() of remote audio (page state pushed through ``on_play``) turns
``Room.can_playback_audio`` False with one ``audio_playback_changed``; ``start_audio()`` plays every attached remote
audio element again, synchronously, and turns it back."""

from __future__ import annotations

import logging

from livekit_pyweb import Room
from livekit_pyweb.events import EVENT_NAMES, AudioPlaybackChanged, VideoPlaybackChanged

from .fakes import FakePlatform, FakeTrack, TrackEvent, connected_room, participant, room_with_remote_audio, until


def test_the_event_is_livekit_clients_in_snake_case():
    assert "audio_playback_changed" in EVENT_NAMES and AudioPlaybackChanged.name == "audio_playback_changed"


async def test_a_refused_play_then_start_audio(caplog):
    platform = FakePlatform()
    room, _socket, _pc, port, track = await room_with_remote_audio(platform)
    changes: list[bool] = []
    room.on("audio_playback_changed", changes.append)
    stream = room.events()
    assert room.can_playback_audio is True
    element = track.attach()
    with caplog.at_level(logging.DEBUG, logger="livekit_pyweb"):
        port.played(False, "NotAllowedError")
        port.played(False, "NotAllowedError")  # a second refused element: no second event
    assert room.can_playback_audio is False and changes == [False]
    assert all(r.levelno <= logging.INFO for r in caplog.records)  # expected: no warning

    port.played(False, "AbortError")  # another play() superseded this one: not an autoplay refusal
    assert changes == [False]

    pending = room.start_audio()  # the plays happen inside the call, before any await
    assert platform.started_audio == [[element]]
    assert await pending is True
    assert room.can_playback_audio is True and changes == [False, True]
    assert [await anext(stream), await anext(stream)] == [AudioPlaybackChanged(False), AudioPlaybackChanged(True)]
    port.played(True)  # a later element that plays: no change, no event
    assert changes == [False, True]
    await room.disconnect()


async def test_start_audio_refused_stays_false_without_raising():
    platform = FakePlatform()
    room, _socket, _pc, port, track = await room_with_remote_audio(platform)
    changes: list[bool] = []
    room.on("audio_playback_changed", changes.append)
    track.attach()
    platform.autoplay_refused = True
    assert await room.start_audio() is False
    assert changes == [False]
    room.start_audio()  # fire and forget from a click handler: nothing to await, nothing logged
    platform.autoplay_refused = False
    assert await room.start_audio() is True and changes == [False, True]
    await room.disconnect()


async def test_start_audio_plays_only_remote_audio_and_works_unconnected():
    from livekit_pyweb import Room

    assert await Room().start_audio() is True  # nothing attached, no platform yet: nothing refused
    platform = FakePlatform()
    room, _socket, _pc, port, track = await room_with_remote_audio(platform)
    video_port = FakeTrack("TR_v", "video")
    assert await room.start_audio() is True and platform.started_audio == [[]]  # nothing attached yet
    a, b = track.attach(), track.attach("<my audio>")
    await room.start_audio()
    assert platform.started_audio[-1] == [a, b] and video_port.attached == []
    await room.disconnect()
    assert port.released and port.on_play is not None  # released by the room; the page reports no more


async def _room_with_remote_video(platform: FakePlatform):
    alice = participant("PA_a", "alice", [("TR_a", 0), ("TR_v", 1)])
    room, socket, pc = await connected_room(platform, others=[alice])
    audio, video = FakeTrack("TR_a", "audio"), FakeTrack("TR_v", "video")
    pc.on_track(TrackEvent(audio, ["PA_a|TR_a"], mid="1"))
    pc.on_track(TrackEvent(video, ["PA_a|TR_v"], mid="2"))
    pubs = room.remote_participants["alice"].track_publications
    await until(lambda: pubs["TR_a"].track is not None and pubs["TR_v"].track is not None)
    return room, audio, video, pubs["TR_a"].track, pubs["TR_v"].track


async def test_a_refused_video_play_then_start_video(caplog):
    """livekit-client's VideoPlaybackStatusChanged: a refused play() of a remote video element (its track's port
    reports it) turns can_playback_video False with one video_playback_changed(False) and the track event
    video_playback_failed; start_video() plays every element a remote video is attached to (not the audio ones)
    and turns it back; the audio state is untouched."""
    assert "video_playback_changed" in EVENT_NAMES and VideoPlaybackChanged.name == "video_playback_changed"
    platform = FakePlatform()
    room, audio_port, video_port, audio, video = await _room_with_remote_video(platform)
    changes: list[bool] = []
    audio_changes: list[bool] = []
    track_events: list[object] = []
    room.on("video_playback_changed", changes.append)
    room.on("audio_playback_changed", audio_changes.append)
    video.on("video_playback_started", lambda: track_events.append("started"))
    video.on("video_playback_failed", lambda name: track_events.append(name))
    stream = room.events()
    assert room.can_playback_video is True
    element = video.attach()
    audio.attach()
    video_port.played(True)  # a muted video autoplays: no change
    assert changes == [] and track_events == ["started"]
    with caplog.at_level(logging.DEBUG, logger="livekit_pyweb"):
        video_port.played(False, "NotAllowedError")
        video_port.played(False, "NotAllowedError")
    assert room.can_playback_video is False and changes == [False]
    assert track_events == ["started", "NotAllowedError", "NotAllowedError"]
    assert all(r.levelno <= logging.INFO for r in caplog.records)
    video_port.played(False, "AbortError")  # superseded: not a refusal
    assert changes == [False] and room.can_playback_audio is True and audio_changes == []

    platform.video_autoplay_refused = True
    assert await room.start_video() is False and changes == [False]
    platform.video_autoplay_refused = False
    pending = room.start_video()  # the plays happen inside the call
    assert platform.started_video == [[element], [element]] and platform.started_audio == []
    assert await pending is True and room.can_playback_video is True and changes == [False, True]
    assert [await anext(stream), await anext(stream)] == [VideoPlaybackChanged(False), VideoPlaybackChanged(True)]
    assert audio_changes == [] and room.can_playback_audio is True
    await room.disconnect()
    assert await Room().start_video() is True  # no platform yet: nothing refused

