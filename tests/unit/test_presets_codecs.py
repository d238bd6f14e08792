"""Presets, codecs and publish options (issue 9 item 1) on the CPython fakes of the port: livekit-client's preset
tables, the ladder computed from the capture size and the options, room defaults applied, the codec chosen and
preferred on the transceiver, the AddTrackRequest's fields, the backup-codec flow and prepare_connection."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import (
    AudioEncoding,
    BackupCodecPolicy,
    DegradationPreference,
    RoomOptions,
    ScreenSharePresets,
    TrackPublishOptions,
    TrackSource,
    VideoCaptureOptions,
    VideoCodec,
    VideoEncoding,
    VideoPreset,
    VideoPresets,
    VideoPresets43,
)
from livekit_pyweb._core import proto
from livekit_pyweb._core import simulcast as sc
from livekit_pyweb._core.simulcast import HIGH, LOW, MEDIUM, announced_layers, codec_preference_order, compute_layers
from livekit_pyweb.track import LocalAudioTrack, LocalVideoTrack

from .fakes import FakePlatform, FakeTrackPort, answer_offers, connected_room, until


# -- tables and the ladder (sans-IO) ---------------------------------------------------------------------------
def test_public_presets_are_the_tables_the_ladder_uses():
    as_tuples = lambda presets: [tuple(p) for p in presets]  # noqa: E731
    assert as_tuples(sc.PRESETS_169) == [(p.width, p.height, p.max_bitrate, p.max_framerate, p.priority)
                                         for p in VideoPresets.all()]
    assert as_tuples(sc.PRESETS_43) == [(p.width, p.height, p.max_bitrate, p.max_framerate, p.priority)
                                        for p in VideoPresets43.all()]
    assert as_tuples(sc.PRESETS_SCREEN) == [(p.width, p.height, p.max_bitrate, p.max_framerate, p.priority)
                                            for p in ScreenSharePresets.all()]
    assert VideoPresets.h720.encoding == VideoEncoding(max_bitrate=1_700_000, max_framerate=30)
    assert VideoPresets.h360.resolution.width == 640 and VideoPresets43.h480.resolution.height == 480
    capture = VideoCaptureOptions(resolution=VideoPresets.h360)
    assert (capture.width, capture.height, capture.frame_rate) == (640, 360, 20)
    assert capture.constraints()["width"] == {"ideal": 640}


def test_svc_codecs_get_one_encoding_and_three_announced_layers():
    (enc,) = compute_layers(1280, 720, codec="vp9", scalability_mode="L3T3_KEY")
    assert enc.encoding() == {"maxBitrate": 1_445_000, "maxFramerate": 30, "scalabilityMode": "L3T3_KEY"}
    assert announced_layers(1280, 720, [enc]) == [(HIGH, 1280, 720, 1_445_000, 2), (MEDIUM, 640, 360, 481_667, 1),
                                                  (LOW, 320, 180, 160_556, 0)]
    (av1,) = compute_layers(1280, 720, codec="av1", scalability_mode="L2T3h")
    assert av1.max_bitrate == 1_190_000  # 0.7 x h720
    assert announced_layers(1280, 720, [av1]) == [(MEDIUM, 1280, 720, 1_190_000, 1), (LOW, 854, 480, 595_000, 0)]
    # simulcast: each layer's spatial_layer is its quality's rank (a 640x360 capture announces LOW and MEDIUM)
    assert [(l.quality, l.spatial_layer) for l in announced_layers(640, 360, compute_layers(640, 360, codec="vp8"))] \
        == [(LOW, 0), (MEDIUM, 1)]
    # a scalability mode means nothing to vp8: simulcast as usual
    assert [l.rid for l in compute_layers(1280, 720, codec="vp8", scalability_mode="L3T3_KEY")] == ["q", "h", "f"]


def test_screen_share_ladder_and_custom_layers():
    q, h = compute_layers(1920, 1080, is_screen_share=True,
                          encoding=sc.Encoding(2_500_000, 15, "medium"))
    assert q.encoding() == {"rid": "q", "scaleResolutionDownBy": 2.0, "maxBitrate": 625_000, "maxFramerate": 15,
                            "priority": "medium", "networkPriority": "medium"}
    assert h.encoding() == {"rid": "h", "scaleResolutionDownBy": 1.0, "maxBitrate": 2_500_000, "maxFramerate": 15}
    # custom lower layers are sorted by bitrate (livekit-client sortPresets)
    q, h, f = compute_layers(1280, 720, lower_presets=[sc.Preset(960, 540, 800_000, 25), sc.Preset(384, 216, 180_000, 20)])
    assert [(l.width, l.max_bitrate, l.max_framerate) for l in (q, h, f)] == [
        (384, 180_000, 20), (960, 800_000, 25), (1280, 1_700_000, 30)]


def test_codec_preference_order():
    caps = [("video/VP8", ""), ("video/rtx", ""), ("video/H264", "profile-level-id=640c1f"),
            ("video/H264", "profile-level-id=42e01f;packetization-mode=1"), ("video/VP9", "profile-id=0")]
    assert codec_preference_order(caps, "video/VP9") == [4, 0, 1, 2, 3]
    assert codec_preference_order(caps, "video/H264") == [3, 2, 0, 1, 4]
    assert codec_preference_order(caps, "video/AV1") is None


def test_options_are_checked():
    assert TrackPublishOptions(video_codec="VP9").video_codec is VideoCodec.VP9
    assert TrackPublishOptions(video_codec="video/av1").video_codec is VideoCodec.AV1
    assert TrackPublishOptions(degradation_preference="maintain-resolution").degradation_preference is \
        DegradationPreference.MAINTAIN_RESOLUTION
    for bad in (dict(video_codec="theora"), dict(backup_codec="vp9"), dict(scalability_mode="L4T1"),
                dict(degradation_preference="sometimes"), dict(video_simulcast_layers=(VideoPresets.h90,) * 3)):
        with pytest.raises(ValueError):
            TrackPublishOptions(**bad)
    with pytest.raises(ValueError):
        VideoEncoding(max_bitrate=0)


# -- the room on the fakes ---------------------------------------------------------------------------------------
def _confirm(socket, cid, sid="TR_cam", codec_mime=""):
    m = proto.models()
    info = m.TrackInfo(sid=sid, type=m.TrackType.VIDEO, source=m.TrackSource.CAMERA, mime_type=codec_mime)
    if codec_mime:
        info.codecs.append(m.SimulcastCodecInfo(mime_type=codec_mime))
    socket.push(track_published=proto.rtc().TrackPublishedResponse(cid=cid, track=info))


async def _camera(room, socket, **confirm):
    publishing = asyncio.ensure_future(room.local_participant.set_camera_enabled(True))
    await until(lambda: bool(socket.requests("add_track")))
    _confirm(socket, socket.requests("add_track")[-1].add_track.cid, **confirm)
    return await asyncio.wait_for(publishing, 1)


async def test_room_defaults_apply_to_calls_without_options():
    platform = FakePlatform()
    options = RoomOptions(video_capture_defaults=VideoCaptureOptions(resolution=VideoPresets.h360),
                          publish_defaults=TrackPublishOptions(video_codec="vp9", stream="main"))
    room, socket, pc = await connected_room(platform, options)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _camera(room, socket)
    assert platform.captures[0]["video"]["width"] == {"ideal": 640}  # the capture default
    add = socket.requests("add_track")[0].add_track
    assert [(c.codec, c.cid) for c in add.simulcast_codecs] == [("vp9", "cam-1"), ("vp8", "")]  # + backup
    assert add.stream == "main" and add.source == proto.models().TrackSource.CAMERA
    assert pc.codecs == ["video/VP9"]  # preferred on the transceiver through the port
    assert pc.send_encodings[0] == [{"maxBitrate": 1_445_000, "maxFramerate": 30, "scalabilityMode": "L3T3_KEY"}]
    assert pc.senders[0].degradation_preference == "maintain-framerate"
    assert room._dynacast_on  # a backup codec turns dynacast on (livekit-client)
    assert pub._codec == "vp9" and pub.source == TrackSource.SOURCE_CAMERA
    done.set()
    await server
    await room.disconnect()


async def test_explicit_options_win_and_audio_encoding_applies():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform, RoomOptions(
        publish_defaults=TrackPublishOptions(video_codec="vp9"),
        audio_capture_defaults=None))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    lp = room.local_participant
    track = LocalVideoTrack(FakeTrackPort("v1", "video", {"width": 1280, "height": 720}))
    task = asyncio.ensure_future(lp.publish_track(track, TrackPublishOptions(
        video_codec=VideoCodec.H264, backup_codec=False, video_encoding=VideoEncoding(max_bitrate=900_000,
                                                                                        max_framerate=15),
        degradation_preference=DegradationPreference.BALANCED, backup_codec_policy=BackupCodecPolicy.SIMULCAST)))
    await until(lambda: bool(socket.requests("add_track")))
    add = socket.requests("add_track")[0].add_track
    assert [c.codec for c in add.simulcast_codecs] == ["h264"] and add.backup_codec_policy == 1
    assert [(l.quality, l.width, l.bitrate) for l in add.layers] == [(LOW, 320, 160_000), (MEDIUM, 640, 450_000),
                                                                     (HIGH, 1280, 900_000)]
    assert [l.spatial_layer for l in add.layers] == [0, 1, 2]  # each quality's rank (see AnnouncedLayer)
    _confirm(socket, "v1")
    await asyncio.wait_for(task, 1)
    assert pc.codecs == ["video/H264"] and pc.senders[0].degradation_preference == "balanced"
    assert [e["maxFramerate"] for e in pc.send_encodings[0]] == [15, 15, 15]  # capped by the top's frame rate
    assert not room._dynacast_on
    audio = LocalAudioTrack(FakeTrackPort("a1", "audio"))
    task = asyncio.ensure_future(lp.publish_track(audio, TrackPublishOptions(audio_encoding=AudioEncoding(max_bitrate=24_000))))
    await until(lambda: len(socket.requests("add_track")) == 2)
    m = proto.models()
    socket.push(track_published=proto.rtc().TrackPublishedResponse(
        cid="a1", track=m.TrackInfo(sid="TR_a", type=m.TrackType.AUDIO)))
    await asyncio.wait_for(task, 1)
    assert pc.send_encodings[1] == [{"maxBitrate": 24_000}] and pc.codecs[1] is None
    done.set()
    await server
    await room.disconnect()


async def test_codec_falls_back_where_the_browser_or_server_cannot():
    platform = FakePlatform()
    platform.codecs["video"] = ["video/VP8", "video/H264"]  # no VP9/AV1 here
    room, socket, pc = await connected_room(platform, RoomOptions(publish_defaults=TrackPublishOptions(video_codec="av1")))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _camera(room, socket)
    add = socket.requests("add_track")[0].add_track
    assert [c.codec for c in add.simulcast_codecs] == ["vp8"] and pub._codec == "vp8"  # no backup: it is vp8
    assert [e["rid"] for e in pc.send_encodings[0]] == ["q", "h", "f"]
    done.set()
    await server
    await room.disconnect()
    # the server enables only h264
    platform = FakePlatform()
    enabled = [proto.models().Codec(mime="video/H264"), proto.models().Codec(mime="audio/opus")]
    room, socket, pc = await connected_room(platform, enabled_publish_codecs=enabled)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    await _camera(room, socket)
    assert [c.codec for c in socket.requests("add_track")[0].add_track.simulcast_codecs] == ["h264", "vp8"]
    assert pc.codecs == ["video/H264"]
    done.set()
    await server
    await room.disconnect()


async def test_the_servers_codec_wins():
    # asked for vp9; the server's TrackInfo says vp8: encodings recomputed for vp8 (simulcast) before sending
    room, socket, pc = await connected_room(options=RoomOptions(publish_defaults=TrackPublishOptions(video_codec="vp9")))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _camera(room, socket, codec_mime="video/VP8")
    assert pub._codec == "vp8" and pc.codecs == ["video/VP8"]
    assert [e["rid"] for e in pc.send_encodings[0]] == ["q", "h", "f"]
    done.set()
    await server
    await room.disconnect()


def _quality_update(sid, codecs):
    rtc = proto.rtc()
    return rtc.SubscribedQualityUpdate(track_sid=sid, subscribed_codecs=[
        rtc.SubscribedCodec(codec=c, qualities=[rtc.SubscribedQuality(quality=q, enabled=e) for q, e in qs.items()])
        for c, qs in codecs.items()])


async def test_backup_codec_is_published_when_the_server_asks():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform, RoomOptions(publish_defaults=TrackPublishOptions(video_codec="vp9")))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _camera(room, socket, codec_mime="video/VP9")
    # a subscriber that cannot decode vp9: the server wants vp8 (LOW only) and no vp9
    off = {LOW: False, MEDIUM: False, HIGH: False}
    socket.push(subscribed_quality_update=_quality_update("TR_cam", {"vp9": off, "vp8": {LOW: True, MEDIUM: False,
                                                                                          HIGH: False}}))
    await until(lambda: len(socket.requests("add_track")) == 2)
    add = socket.requests("add_track")[1].add_track
    clone = pub.track._port.cloned[0]
    assert (add.sid, add.cid, [(c.codec, c.cid) for c in add.simulcast_codecs]) == ("TR_cam", clone.id,
                                                                                     [("vp8", clone.id)])
    assert [(l.quality, l.spatial_layer) for l in add.layers] == [(LOW, 0), (MEDIUM, 1), (HIGH, 2)]
    assert pc.codecs == ["video/VP9", "video/VP8"] and pc.senders[1].track is clone
    _confirm(socket, clone.id)
    await until(lambda: "vp8" in pub._backups)
    await until(lambda: pc.senders[1].active == [True, False, False])  # the latest wish, applied at once
    await until(lambda: pc.senders[0].active == [False])  # the SVC primary: nobody wants vp9
    # an update later: vp8 HIGH as well; the primary comes back
    socket.push(subscribed_quality_update=_quality_update("TR_cam", {"vp9": {LOW: True, MEDIUM: False, HIGH: False},
                                                                     "vp8": {LOW: True, MEDIUM: False, HIGH: True}}))
    await until(lambda: pc.senders[1].active == [True, False, True] and pc.senders[0].active == [True])
    assert len(socket.requests("add_track")) == 2  # published once
    pub.track.mute()
    assert not clone.enabled
    await room.local_participant.unpublish_track(pub.sid)
    assert pc.senders[0].removed and pc.senders[1].removed and clone.stopped and clone.released
    done.set()
    await server
    await room.disconnect()


async def test_prepare_connection_warms_up_and_never_raises(expect_log):
    from livekit_pyweb import Room

    platform = FakePlatform()
    room = Room(platform=platform)
    await room.prepare_connection("wss://sfu.test/?access_token=SECRET", "TOKEN")
    assert platform.prepared == ["https://sfu.test/"] and expect_log == []
    platform.prepare_error = RuntimeError("TypeError: Failed to fetch")
    await room.prepare_connection("ws://sfu.test", "TOKEN")  # logged, not raised
    await room.prepare_connection("ftp://nowhere", "TOKEN")
    assert [r.levelname for r in expect_log] == ["WARNING", "WARNING"]
    assert "Failed to fetch" in expect_log[0].getMessage() and "TOKEN" not in expect_log[0].getMessage()
    room, socket, pc = await connected_room(platform)
    await room.prepare_connection("ws://sfu.test", "TOKEN")  # connected: nothing
    assert len(platform.prepared) == 2
    await room.disconnect()


async def test_a_restarted_camera_gives_its_backup_codec_a_clone_of_the_new_capture():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform, RoomOptions(publish_defaults=TrackPublishOptions(video_codec="vp9")))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _camera(room, socket, codec_mime="video/VP9")
    socket.push(subscribed_quality_update=_quality_update("TR_cam", {"vp8": {LOW: True, MEDIUM: False, HIGH: False}}))
    await until(lambda: len(socket.requests("add_track")) == 2)
    old_clone = pub.track._port.cloned[0]
    _confirm(socket, old_clone.id)
    await until(lambda: "vp8" in pub._backups)
    pub.track.mute()
    assert await room.switch_active_device("videoinput", "cam-b") is True
    new_port = pub.track._port
    new_clone = new_port.cloned[0]
    assert pc.senders[0].replaced == [new_port] and pc.senders[1].replaced == [new_clone]
    assert pub._backups["vp8"].port is new_clone and not new_clone.enabled  # muted like the track
    assert old_clone.stopped and old_clone.released and new_clone.settings.get("deviceId") == "cam-b"
    assert len(socket.requests("add_track")) == 2  # nothing published again
    await room.local_participant.unpublish_track(pub.sid)
    assert new_clone.stopped and new_clone.released
    done.set()
    await server
    await room.disconnect()
