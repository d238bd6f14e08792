"""The public layer reaches the browser only through the Platform port: capture, publish, mute, unpublish,
render and statistics run here on CPython against the in-memory fakes, with no ``js`` module at all."""

from __future__ import annotations

import asyncio
import sys

import pytest

from livekit_pyweb import (
    ConnectionState,
    DeviceError,
    DeviceErrorReason,
    DisconnectReason,
    Room,
    UnsupportedError,
)
from livekit_pyweb._core import proto

from .fakes import (FakePlatform, FakeReceiver, FakeTrack, TrackEvent, answer_offers, confirm_track, connected_room,
                    participant, until)


async def _publish_camera(room, socket):
    m = proto.models()
    publishing = asyncio.ensure_future(room.local_participant.set_camera_enabled(True))
    await until(lambda: bool(socket.requests("add_track")))
    cid = socket.requests("add_track")[-1].add_track.cid
    confirm_track(socket, cid, "TR_cam", m.TrackType.VIDEO, m.TrackSource.CAMERA)
    return await asyncio.wait_for(publishing, 1)


def test_no_js_module_is_loaded_on_cpython():
    assert "js" not in sys.modules and "pyodide" not in sys.modules


async def test_camera_is_captured_published_and_sent_through_the_port():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    assert platform.captures == [{"video": platform.captures[0]["video"]}]  # video constraints only
    (add,) = socket.requests("add_track")
    assert (add.add_track.cid, add.add_track.width, add.add_track.height) == ("cam-1", 1280, 720)
    (sender,) = pc.senders
    assert sender.track is pub.track._port and pub.track.mst_id == "cam-1"
    assert [e["rid"] for e in pc.send_encodings[0]] == ["q", "h", "f"]  # simulcast from the captured size
    assert pub.track.media_stream_track is None  # no JS object on this side of the port
    await until(lambda: bool(socket.requests("offer")))  # the new sender is negotiated
    done.set()
    await server
    await room.disconnect()
    assert sender.track.stopped and sender.track.released  # leaving stops the capture and frees the handle


async def test_mute_unmute_and_disable_go_through_the_port():
    room, socket, pc = await connected_room()
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    port = pub.track._port
    pub.track.mute()
    assert not port.enabled and pub.muted and [r.mute.muted for r in socket.requests("mute")] == [True]
    pub.track.unmute()
    assert port.enabled and not pub.muted
    assert await room.local_participant.set_camera_enabled(False) is pub  # disable = mute, as livekit-client
    assert not port.enabled and pub.muted and [r.mute.muted for r in socket.requests("mute")] == [True, False, True]
    assert await room.local_participant.set_camera_enabled(True) is pub  # no second capture
    assert port.enabled and len(room._platform.captures) == 1
    done.set()
    await server
    await room.disconnect()


async def test_unpublish_removes_the_sender_renegotiates_and_stops():
    room, socket, pc = await connected_room()
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    await until(lambda: len(socket.requests("offer")) == 1)
    await room.local_participant.unpublish_track(pub.sid)
    (sender,) = pc.senders
    assert sender.removed and pub.track._port.stopped and pub.track._port.released
    await until(lambda: len(socket.requests("offer")) == 2)  # the removal is negotiated
    done.set()
    await server
    await room.disconnect()


async def test_unpublish_without_stop_keeps_capturing():
    room, socket, pc = await connected_room()
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    await room.local_participant.unpublish_track(pub.sid, stop=False)
    assert pc.senders[0].removed and not pub.track._port.stopped
    done.set()
    await server
    await room.disconnect()


async def test_a_refused_capture_is_a_device_error_and_publishes_nothing():
    platform = FakePlatform()
    platform.capture_error = DeviceError("getUserMedia failed: denied", DeviceErrorReason.PermissionDenied,
                                         "NotAllowedError")
    room, socket, pc = await connected_room(platform)
    with pytest.raises(DeviceError) as caught:
        await room.local_participant.set_microphone_enabled(True)
    assert caught.value.reason is DeviceErrorReason.PermissionDenied
    assert not socket.requests("add_track") and not pc.senders
    assert room.local_participant.track_publications == {}
    await room.disconnect()


async def test_extra_captured_tracks_are_stopped_and_released():
    platform = FakePlatform()
    captured = []
    original = platform.get_user_media

    async def both(constraints):
        tracks = await original({"video": True, "audio": True})
        captured.extend(tracks)
        return tracks

    platform.get_user_media = both  # a browser that hands back more than was asked for
    room, socket, pc = await connected_room(platform)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    await _publish_camera(room, socket)
    video, audio = captured
    assert audio.stopped and audio.released and not video.stopped
    done.set()
    await server
    await room.disconnect()


async def test_remote_track_renders_and_reports_stats_through_the_port():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    port = FakeTrack("TR_v", "video")
    event = TrackEvent(port, ["PA_a|TR_v"], mid="1")
    event.receiver = FakeReceiver([{"type": "codec"}, {"type": "inbound-rtp", "framesDecoded": 42}])
    pc.on_track(event)
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    await until(lambda: pub.track is not None)
    track = pub.track
    element = track.attach()
    assert port.attached == [element] and track.attached_elements == [element]
    assert (await track.get_stats())["framesDecoded"] == 42
    update = participant("PA_a", "alice", [], version=2)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[update]))
    await until(lambda: pub.track is None)
    assert port.attached == [] and port.released  # unsubscribed: detached everywhere, handle freed
    await room.disconnect()


async def test_a_lost_page_host_disconnects_the_room():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    reasons = []
    room.on("disconnected", reasons.append)
    (lost,) = platform.lost
    lost("no heartbeat for 2.0 s")
    await until(lambda: room.connection_state is ConnectionState.CONN_DISCONNECTED)
    assert reasons == [DisconnectReason.MEDIA_FAILURE] and pc.closed


async def test_a_platform_that_cannot_start_fails_connect_with_its_error():
    class NoWebRTC(FakePlatform):
        async def start(self) -> None:
            raise UnsupportedError("no RTCPeerConnection here")

    platform = NoWebRTC()
    room = Room(platform=platform)
    with pytest.raises(UnsupportedError, match="RTCPeerConnection"):
        await room.connect("ws://sfu.test", "TOKEN")
    assert not platform.sockets and not platform.pcs
    assert room.connection_state is ConnectionState.CONN_DISCONNECTED and room._engine is None
    assert not platform.closed  # passed in: the caller's to close


async def test_platform_names_are_checked():
    with pytest.raises(ValueError, match="platform must be one of"):
        Room(platform="worker")
    for name in ("auto", "direct", "bridge"):
        Room(platform=name)  # accepted; chosen at connect()


async def test_a_passed_platform_is_reused_across_connects_and_left_open():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    await room.disconnect()
    assert not platform.closed and platform.started == 1


async def test_attach_to_mounts_a_new_element_and_undoes_it_on_a_miss():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    port = FakeTrack("TR_v", "video")
    pc.on_track(TrackEvent(port, ["PA_a|TR_v"], mid="1"))
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    await until(lambda: pub.track is not None)
    element = pub.track.attach_to("#tiles")
    assert port.mounted == [(element, "#tiles")] and pub.track.attached_elements == [element]
    with pytest.raises(ValueError, match="matches"):
        pub.track.attach_to("nowhere")
    assert pub.track.attached_elements == [element] and port.attached == [element]  # the miss left nothing
    await room.disconnect()


@pytest.mark.parametrize("permission, refused", [
    ({"can_publish": False}, ["camera", "microphone"]),
    ({"can_publish": True, "can_publish_sources": ["MICROPHONE"]}, ["camera"]),
    ({"can_publish": True}, []),
    (None, ["camera", "microphone"]),  # no permissions sent: refused, as livekit-client does
])
async def test_publish_permissions_are_checked_before_capturing(permission, refused):
    from livekit_pyweb import PublishTrackError

    m = proto.models()
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    info = m.ParticipantInfo(sid="PA_me", identity="me")
    if permission is not None:
        sources = [m.TrackSource.Value(s) for s in permission.pop("can_publish_sources", [])]
        info.permission.CopyFrom(m.ParticipantPermission(**permission, can_publish_sources=sources))
    room.local_participant._update_info(info)
    local = room.local_participant
    for name, call in (("camera", local.set_camera_enabled), ("microphone", local.set_microphone_enabled)):
        if name not in refused:
            continue
        started = asyncio.get_running_loop().time()
        with pytest.raises(PublishTrackError, match="cannot publish") as caught:
            await call(True)
        assert caught.value.status == 403
        assert asyncio.get_running_loop().time() - started < 0.01  # at once, not after the publish timeout
    assert platform.captures == [] and not socket.requests("add_track")  # no device prompt, nothing sent
    if not refused:
        done = asyncio.Event()
        server = asyncio.ensure_future(answer_offers(socket, done))
        await _publish_camera(room, socket)
        done.set()
        await server
    await room.disconnect()


async def test_is_source_enabled_follows_publications_and_mute():
    m = proto.models()
    alice = participant("PA_a", "alice", [("TR_m", 0), ("TR_v", 1)])
    alice.tracks[1].muted = True
    alice.tracks.add(sid="TR_s", type=m.TrackType.VIDEO, source=m.TrackSource.SCREEN_SHARE, muted=True)
    room, socket, pc = await connected_room(others=[alice])
    remote = room.remote_participants["alice"]
    assert (remote.is_microphone_enabled, remote.is_camera_enabled, remote.is_screen_share_enabled) == (True, False, True)
    local = room.local_participant
    assert (local.is_camera_enabled, local.is_microphone_enabled, local.is_screen_share_enabled) == (False, False, False)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    assert local.is_camera_enabled
    pub.track.mute()
    assert not local.is_camera_enabled
    done.set()
    await server
    await room.disconnect()


async def test_errors_carry_livekit_clients_codes_where_they_are_raised():
    from livekit_pyweb import (
        ConnectError,
        ConnectionErrorReason,
        DeviceUnsupportedError,
        InvalidStateError,
        NegotiationError,
        PublishTrackError,
        UnexpectedConnectionState,
    )

    assert (DeviceUnsupportedError, UnexpectedConnectionState) == (UnsupportedError, InvalidStateError)
    platform = FakePlatform(refuse=ConnectError("no", ConnectionErrorReason.NotAllowed, 401))
    with pytest.raises(ConnectError) as connect:
        await Room(platform=platform).connect("ws://sfu.test", "TOKEN")
    with pytest.raises(UnexpectedConnectionState) as state:
        Room().local_participant  # noqa: B018 - not joined
    room, socket, pc = await connected_room()
    room.local_participant._update_info(proto.models().ParticipantInfo(sid="PA_me", identity="me"))
    with pytest.raises(PublishTrackError) as publish:
        await room.local_participant.set_camera_enabled(True)
    await room.disconnect()
    codes = {type(e.value).__name__: e.value.code for e in (connect, state, publish)}
    assert codes == {"ConnectError": 1, "InvalidStateError": 12, "PublishTrackError": 15}
    assert NegotiationError.code == 13 and UnsupportedError.code == 21


async def test_enable_camera_and_microphone_captures_once_and_publishes_both():
    m = proto.models()
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    enabling = asyncio.ensure_future(room.local_participant.enable_camera_and_microphone())
    await until(lambda: len(socket.requests("add_track")) == 1)
    confirm_track(socket, "cam-1", "TR_cam", m.TrackType.VIDEO, m.TrackSource.CAMERA)
    await until(lambda: len(socket.requests("add_track")) == 2)
    confirm_track(socket, "mic-1", "TR_mic", m.TrackType.AUDIO, m.TrackSource.MICROPHONE)
    cam, mic = await asyncio.wait_for(enabling, 1)
    assert len(platform.captures) == 1 and set(platform.captures[0]) == {"video", "audio"}  # one prompt
    assert (cam.sid, mic.sid) == ("TR_cam", "TR_mic")
    cam.track.mute()
    again = await room.local_participant.enable_camera_and_microphone()  # published: unmutes, captures nothing
    assert again == [cam, mic] and not cam.muted and len(platform.captures) == 1
    done.set()
    await server
    await room.disconnect()


async def test_set_video_quality_asks_the_server_for_one_layer():
    from livekit_pyweb import VideoQuality

    m = proto.models()
    alice = participant("PA_a", "alice", [("TR_m", 0), ("TR_v", 1)])
    alice.tracks[1].simulcast = True
    alice.tracks.add(sid="TR_single", type=m.TrackType.VIDEO, source=m.TrackSource.SCREEN_SHARE)
    room, socket, pc = await connected_room(others=[alice])
    pubs = room.remote_participants["alice"].track_publications
    pubs["TR_v"].set_video_quality(VideoQuality.VIDEO_QUALITY_LOW)
    pubs["TR_v"].set_video_quality(VideoQuality.VIDEO_QUALITY_HIGH)
    sent = [(list(r.track_setting.track_sids), r.track_setting.quality, r.track_setting.disabled)
            for r in socket.requests("track_setting")]
    assert sent == [(["TR_v"], m.VideoQuality.LOW, False), (["TR_v"], m.VideoQuality.HIGH, False)]
    for sid in ("TR_m", "TR_single"):  # audio; video without simulcast
        with pytest.raises(ValueError):
            pubs[sid].set_video_quality(VideoQuality.VIDEO_QUALITY_LOW)
    with pytest.raises(ValueError):
        pubs["TR_v"].set_video_quality(2)  # type: ignore[arg-type]
    assert len(socket.requests("track_setting")) == 2
    await room.disconnect()


async def test_remote_publications_follow_their_track_info():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    assert not pub.simulcasted
    update = participant("PA_a", "alice", [("TR_v", 1)], version=2)
    update.tracks[0].simulcast, update.tracks[0].width = True, 1280
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[update]))
    await until(lambda: pub.simulcasted)
    assert pub.width == 1280
    stale = participant("PA_a", "alice", [("TR_v", 1)], version=1)  # older than what we have: ignored
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[stale]))
    await asyncio.sleep(0.1)
    assert pub.simulcasted and pub.width == 1280
    await room.disconnect()
