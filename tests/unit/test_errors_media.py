"""livekit-client's error codes 10 (UnsupportedServer), 15 (SignalRequestError) and 20 (TrackInvalidError), each
raised where livekit-client raises it, on the fakes of the port (the test plays the server)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from livekit_pyweb import (
    ConnectError,
    ConnectionErrorReason,
    ConnectionState,
    PublishTrackError,
    RequestErrorReason,
    Room,
    SignalRequestError,
    TrackError,
    TrackInvalidError,
    UnsupportedServer,
)
from livekit_pyweb._core import proto
from livekit_pyweb.track import LocalAudioTrack, LocalVideoTrack

from .fakes import FakePlatform, FakeTrackPort, connected_room, join_response, until


def test_codes_are_livekit_clients() -> None:
    # errors.ts: UnsupportedServer 10, SignalRequestError 15 and PublishTrackError 15 (both), TrackInvalidError 20
    assert (UnsupportedServer.code, SignalRequestError.code, PublishTrackError.code, TrackInvalidError.code) == \
        (10, 15, 15, 20)
    assert issubclass(TrackInvalidError, TrackError)
    assert [r.value for r in RequestErrorReason][:11] == list(range(1, 12))  # RequestResponse.Reason minus OK
    assert {r.name for r in RequestErrorReason} - {"TimeoutError"} == \
        {n for n, _ in proto.rtc().RequestResponse.Reason.items()} - {"OK"}


@pytest.mark.parametrize("server_info", [None, {"protocol": 16}])
async def test_a_join_response_without_server_version_is_an_unsupported_server(server_info) -> None:
    m = proto.models()
    platform = FakePlatform()
    room = Room(platform=platform)
    connecting = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(platform.socket_ready.wait(), 1)
    socket = platform.sockets[-1]
    info = m.ServerInfo(**server_info) if server_info is not None else m.ServerInfo()
    socket.push(join=join_response(server_info=info))
    with pytest.raises(ConnectError) as raised:
        await asyncio.wait_for(connecting, 1)
    # As livekit-client's connect(): ConnectionError(ServerUnreachable) "could not establish signal connection:
    # unknown server version", the UnsupportedServer (code 10) being its cause.
    assert raised.value.reason is ConnectionErrorReason.ServerUnreachable
    assert "unknown server version" in str(raised.value)
    assert isinstance(raised.value.__cause__, UnsupportedServer) and raised.value.__cause__.code == 10
    assert room.connection_state is ConnectionState.CONN_DISCONNECTED
    assert socket.closed_with is not None and all(pc.closed for pc in platform.pcs)


async def test_an_old_server_version_field_is_enough() -> None:
    # JoinResponse.server_version (the field before ServerInfo) is what livekit-client falls back to.
    room, socket, pc = await connected_room(server_info=None, server_version="0.15.4")
    assert room.connection_state is ConnectionState.CONN_CONNECTED
    await room.disconnect()


def _local_info(socket, **changes):
    """The server applying a change to our ParticipantInfo (a participant update naming us)."""
    m = proto.models()
    info = m.ParticipantInfo(sid="PA_me", identity="me", version=2, permission=m.ParticipantPermission(
        can_publish=True, can_subscribe=True, can_publish_data=True, can_update_metadata=True))
    for key, value in changes.items():
        if key == "attributes":
            info.attributes.update(value)
        else:
            setattr(info, key, value)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[info]))


async def test_set_metadata_name_attributes_succeed_when_our_info_shows_them() -> None:
    room, socket, pc = await connected_room()
    local = room.local_participant
    setting = asyncio.ensure_future(local.set_metadata("hello"))
    await until(lambda: bool(socket.requests("update_metadata")))
    sent = socket.requests("update_metadata")[-1].update_metadata
    assert (sent.metadata, sent.name, sent.request_id) == ("hello", "", 1)  # the current name is sent along
    rr = proto.rtc().RequestResponse
    socket.push(request_response=rr(request_id=1, reason=rr.OK, update_metadata=sent))
    await asyncio.sleep(0.2)
    assert not setting.done()  # OK is not success yet: the change must show in our info
    _local_info(socket, metadata="hello")
    await asyncio.wait_for(setting, 1)
    assert local.metadata == "hello"

    naming = asyncio.ensure_future(local.set_name("Me"))
    await until(lambda: len(socket.requests("update_metadata")) == 2)
    sent = socket.requests("update_metadata")[-1].update_metadata
    assert (sent.metadata, sent.name, sent.request_id) == ("hello", "Me", 2)
    _local_info(socket, metadata="hello", name="Me")
    await asyncio.wait_for(naming, 1)

    tagging = asyncio.ensure_future(local.set_attributes({"a": "1"}))
    await until(lambda: len(socket.requests("update_metadata")) == 3)
    assert dict(socket.requests("update_metadata")[-1].update_metadata.attributes) == {"a": "1"}
    _local_info(socket, metadata="hello", name="Me", attributes={"a": "1"})
    await asyncio.wait_for(tagging, 1)
    assert room._signal_requests == {}
    await room.disconnect()


async def test_a_refused_update_is_a_signal_request_error_at_once() -> None:
    room, socket, pc = await connected_room()
    loop = asyncio.get_running_loop()
    started = loop.time()
    setting = asyncio.ensure_future(room.local_participant.set_metadata("x"))
    await until(lambda: bool(socket.requests("update_metadata")))
    sent = socket.requests("update_metadata")[-1].update_metadata
    rr = proto.rtc().RequestResponse
    socket.push(request_response=rr(request_id=sent.request_id, reason=rr.NOT_ALLOWED,
                                    message="does not have permission to update own metadata",
                                    update_metadata=sent))
    with pytest.raises(SignalRequestError) as raised:
        await asyncio.wait_for(setting, 1)
    assert raised.value.code == 15 and raised.value.reason is RequestErrorReason.NOT_ALLOWED
    assert raised.value.reason_name == "NOT_ALLOWED" and "permission" in str(raised.value)
    assert loop.time() - started < 1.0
    assert room._signal_requests == {}
    await room.disconnect()


async def test_an_unanswered_update_times_out_after_5s() -> None:
    room, socket, pc = await connected_room()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SignalRequestError) as raised:
        await room.local_participant.set_name("never")
    assert raised.value.reason is RequestErrorReason.TimeoutError
    assert 5.0 <= loop.time() - started < 5.2
    await room.disconnect()


async def test_refusals_of_requests_nobody_waits_for_are_logged_not_raised(caplog) -> None:
    caplog.set_level(logging.INFO, "livekit_pyweb")
    room, socket, pc = await connected_room()
    rr = proto.rtc().RequestResponse
    socket.push(request_response=rr(reason=rr.NOT_FOUND, mute=proto.rtc().MuteTrackRequest(sid="TR_x", muted=True)))
    await until(lambda: "NOT_FOUND" in caplog.text)
    assert room.connection_state is ConnectionState.CONN_CONNECTED
    await room.disconnect()


async def test_publishing_an_ended_or_sizeless_track_is_track_invalid() -> None:
    room, socket, pc = await connected_room()
    local = room.local_participant
    ended = FakeTrackPort("mic-x", "audio")
    ended.stop()
    with pytest.raises(TrackInvalidError) as raised:
        await local.publish_track(LocalAudioTrack(ended))
    assert raised.value.code == 20
    with pytest.raises(TrackInvalidError):
        await local.publish_track(LocalVideoTrack(FakeTrackPort("cam-x", "video", {})))
    assert socket.requests("add_track") == []  # nothing was asked of the server
    await room.disconnect()


async def test_the_same_track_published_twice_at_once_is_track_invalid() -> None:
    # livekit-client's RTCEngine.addTrack: an AddTrackRequest for a cid whose publication is still pending.
    room, socket, pc = await connected_room()
    track = LocalAudioTrack(FakeTrackPort("mic-y", "audio"))
    first = asyncio.ensure_future(room.local_participant.publish_track(track))
    await until(lambda: bool(socket.requests("add_track")))
    with pytest.raises(TrackInvalidError, match="already been published"):
        await room.local_participant.publish_track(track)
    assert len(socket.requests("add_track")) == 1
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await room.disconnect()
