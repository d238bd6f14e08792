"""The engine and Room on CPython against an in-memory platform: the test plays the server."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import ConnectionError, ConnectionErrorReason, DisconnectReason, Room, RoomOptions
from livekit_pyweb._core import proto
from livekit_pyweb._core.join import JoinState

from .fakes import FakePlatform, FakeTrack, TrackEvent, join_response, participant


async def _until(predicate, timeout=2.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


async def _connect(room: Room, platform: FakePlatform, **join_kw):
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(platform.socket_ready.wait(), 1)
    socket = platform.sockets[-1]
    socket.push(join=join_response(**join_kw))
    return task, socket


async def test_v1_join_offer_in_request_then_answer_then_connected():
    platform = FakePlatform()
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    (pc,) = platform.pcs
    request = socket.join_request
    assert "/rtc/v1?" in socket.url
    assert request.publisher_offer.sdp == "offer-1" and request.publisher_offer.id == 1
    assert request.client_info.sdk == proto.models().ClientInfo.SDK.PYTHON
    assert request.client_info.browser == "Chrome" and request.connection_settings.auto_subscribe
    assert pc.recv_transceivers == ["audio"] * 3 + ["video"] * 3
    assert pc.channels == ["_reliable", "_lossy"]
    # Once the JoinResponse gave the ICE servers, the offer is applied without waiting for the answer.
    await _until(lambda: ("local", "offer", "offer-1") in pc.calls)
    assert pc.calls[:2] == [("set_configuration",), ("local", "offer", "offer-1")]
    assert not pc.has_remote_description

    # A candidate that arrives before the answer waits for the remote description.
    socket.push(trickle=proto.rtc().TrickleRequest(candidateInit='{"candidate": "c1", "sdpMid": "0"}', target=1))
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="answer-1", id=1))
    await _until(lambda: ("candidate", "c1") in pc.calls)
    order = [c for c in pc.calls if c[0] in ("local", "remote", "candidate")]
    assert order == [("local", "offer", "offer-1"), ("remote", "answer", "answer-1"), ("candidate", "c1")]
    assert pc.config["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}]
    assert not task.done()
    pc.connect()
    await asyncio.wait_for(task, 1)
    assert room.isconnected() and room.name == "r" and room.local_participant.identity == "me"
    assert room._engine.machine.state is JoinState.CONNECTED

    # Local candidates trickle to the server with target PUBLISHER.
    pc.on_ice_candidate({"candidate": "mine", "sdpMid": "0"})
    (trickle,) = socket.requests("trickle")
    assert trickle.trickle.target == 0 and "mine" in trickle.trickle.candidateInit

    await room.disconnect()
    assert socket.requests("leave") and socket.closed_with == 1000 and pc.closed
    assert platform.page_hide  # registered while connected


async def test_media_sections_requirement_and_stale_answers():
    platform = FakePlatform()
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    (pc,) = platform.pcs
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
    await _until(lambda: ("remote", "answer", "a1") in pc.calls)
    pc.connect()
    await task
    socket.push(media_sections_requirement=proto.rtc().MediaSectionsRequirement(num_audios=1, num_videos=2))
    await _until(lambda: len(socket.requests("offer")) == 1)
    assert pc.recv_transceivers[-3:] == ["audio", "video", "video"]
    (offer,) = socket.requests("offer")
    assert offer.offer.id == 2 and offer.offer.sdp == "offer-2"
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="stale", id=1))
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a2", id=2))
    await _until(lambda: ("remote", "answer", "a2") in pc.calls)
    assert ("remote", "answer", "stale") not in pc.calls
    await room.disconnect()


async def test_fallback_to_two_peer_connections_when_v1_is_missing():
    platform = FakePlatform(v1_missing=True)
    room = Room(platform=platform)
    task, socket = await _connect(room, platform, subscriber_primary=True)
    assert "/rtc?" in socket.url and "sdk=python" in socket.url
    await _until(lambda: len(platform.pcs) == 3)  # created once the JoinResponse is in
    first, publisher, subscriber = platform.pcs
    assert first.closed  # the v1 attempt's connection is gone
    socket.push(offer=proto.rtc().SessionDescription(type="offer", sdp="server-offer", id=7))
    await _until(lambda: socket.requests("answer"))
    (answer,) = socket.requests("answer")
    assert answer.answer.id == 7 and answer.answer.sdp == "answer-sdp"
    assert subscriber.calls[:2] == [("remote", "offer", "server-offer"), ("local", "answer", "answer-sdp")]
    subscriber.connect()  # subscriber primary: its connection is the one that counts
    await asyncio.wait_for(task, 1)
    assert not room._engine.single_pc and not socket.requests("offer")  # no publisher offer until we publish
    await room.disconnect()
    assert publisher.closed and subscriber.closed


@pytest.mark.parametrize("first, reason", [
    ({"leave": proto.rtc().LeaveRequest(reason=proto.models().DisconnectReason.JOIN_FAILURE)}, "LeaveRequest"),
    ({"refresh_token": "x"}, "InternalError"),
])
async def test_first_message_must_be_join(first, reason):
    platform = FakePlatform()
    room = Room(platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()
    platform.sockets[0].push(**first)
    with pytest.raises(ConnectionError) as info:
        await task
    assert info.value.reason.name == reason
    assert all(pc.closed for pc in platform.pcs) and not room.isconnected()


async def test_timeouts_and_refusals_are_typed_and_clean():
    platform = FakePlatform()
    room = Room(RoomOptions(join_timeout=0.05), platform=platform)
    with pytest.raises(ConnectionError) as info:
        await room.connect("ws://sfu.test", "TOKEN")
    assert info.value.reason is ConnectionErrorReason.Timeout and all(pc.closed for pc in platform.pcs)

    platform = FakePlatform(refuse=ConnectionError("nope", ConnectionErrorReason.NotAllowed, 401))
    room = Room(platform=platform)
    with pytest.raises(ConnectionError) as info:
        await room.connect("ws://sfu.test", "TOKEN")
    assert info.value.status == 401 and all(pc.closed for pc in platform.pcs)

    platform = FakePlatform()
    room = Room(RoomOptions(peer_connection_timeout=0.05), platform=platform)
    task, socket = await _connect(room, platform)
    with pytest.raises(ConnectionError) as info:
        await task
    assert info.value.reason is ConnectionErrorReason.Timeout and socket.requests("leave")

    with pytest.raises(ConnectionError):
        await Room(platform=FakePlatform()).connect("not a url", "TOKEN")


async def test_participants_and_tracks_events_in_order():
    platform = FakePlatform()
    room = Room(platform=platform)
    seen = []
    for name in ("participant_connected", "track_published", "track_subscribed", "track_unsubscribed",
                 "track_unpublished", "participant_disconnected", "disconnected"):
        room.on(name, lambda *args, n=name: seen.append((n, *[getattr(a, "sid", a) for a in args])))
    early = participant("PA_a", "alice", [("TR_v", 1)])
    task, socket = await _connect(room, platform, others=[early])
    (pc,) = platform.pcs
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
    await _until(lambda: "alice" in room.remote_participants)
    # The track arrives before we are connected: bound at once, but track_subscribed waits for "connected".
    pc.on_track(TrackEvent(FakeTrack("TR_v", "video"), ["PA_a|TR_v"]))
    await _until(lambda: room.remote_participants["alice"].track_publications["TR_v"].track is not None)
    assert seen == []
    pc.connect()
    await task
    assert seen == [("track_subscribed", "TR_v", "TR_v", "PA_a")]
    assert room.remote_participants["alice"].track_publications["TR_v"].subscribed

    socket.push(update=proto.rtc().ParticipantUpdate(participants=[participant("PA_b", "bob", [("TR_m", 0)])]))
    await _until(lambda: "bob" in room.remote_participants)
    # A track found only through mid_to_track_id (no PA|TR stream id).
    room._engine.mid_to_track_id["3"] = "TR_m"
    pc.on_track(TrackEvent(FakeTrack("0f3c-local-id", "audio"), ["stream"], mid="3"))
    await _until(lambda: len(seen) == 4)
    assert seen[1:] == [("participant_connected", "PA_b"), ("track_published", "TR_m", "PA_b"),
                        ("track_subscribed", "TR_m", "TR_m", "PA_b")]
    gone = participant("PA_b", "bob", [("TR_m", 0)], version=2)
    gone.state = proto.models().ParticipantInfo.DISCONNECTED
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[gone]))
    await _until(lambda: "bob" not in room.remote_participants)
    assert seen[4:] == [("track_unsubscribed", "TR_m", "TR_m", "PA_b"), ("track_unpublished", "TR_m", "PA_b"),
                        ("participant_disconnected", "PA_b")]
    await room.disconnect()
    assert seen[-4:] == [("track_unsubscribed", "TR_v", "TR_v", "PA_a"), ("track_unpublished", "TR_v", "PA_a"),
                         ("participant_disconnected", "PA_a"), ("disconnected", DisconnectReason.CLIENT_INITIATED)]


async def test_server_leave_and_dropped_socket_disconnect_the_room():
    for trigger in ("leave", "drop"):
        platform = FakePlatform()
        room = Room(platform=platform)
        reasons = []
        room.on("disconnected", reasons.append)
        task, socket = await _connect(room, platform)
        socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
        await _until(lambda: platform.pcs[0].has_remote_description)
        platform.pcs[0].connect()
        await task
        if trigger == "leave":
            socket.push(leave=proto.rtc().LeaveRequest(reason=proto.models().DisconnectReason.ROOM_DELETED))
        else:
            socket.drop(1006)
        await _until(lambda: reasons)
        assert not room.isconnected() and platform.pcs[0].closed
        assert reasons == [DisconnectReason.ROOM_DELETED if trigger == "leave" else DisconnectReason.SIGNAL_CLOSE]


async def test_page_hide_sends_leave_synchronously():
    platform = FakePlatform()
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
    await _until(lambda: platform.pcs[0].has_remote_description)
    platform.pcs[0].connect()
    await task
    platform.page_hide[0]()  # no awaiting: the page is going away
    assert socket.requests("leave") and socket.closed_with == 1000


async def test_the_transport_holds_a_leave_as_its_goodbye_while_joined():
    platform = FakePlatform()
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    await _until(lambda: socket.goodbyes)
    (frame,) = socket.goodbyes  # set once the JoinResponse is in
    req = proto.rtc().SignalRequest()
    req.ParseFromString(frame)
    assert req.WhichOneof("message") == "leave" and not req.leave.can_reconnect
    assert not socket.requests("leave")  # handed over, not sent
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
    await _until(lambda: platform.pcs[0].has_remote_description)
    platform.pcs[0].connect()
    await task
    await room.disconnect()
    assert socket.goodbyes == [frame, None]  # cleared before the socket closes
    assert len(socket.requests("leave")) == 1


async def test_connect_while_connecting_is_refused():
    from livekit_pyweb import InvalidStateError

    platform = FakePlatform()
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    with pytest.raises(InvalidStateError):
        await room.connect("ws://sfu.test", "TOKEN")
    assert len(platform.sockets) == 1  # the refused call opened nothing
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_disconnect_while_connecting_cancels_the_join():
    platform = FakePlatform()
    room = Room(platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()  # the socket is open; no JoinResponse yet
    await room.disconnect()
    with pytest.raises(ConnectionError) as info:
        await task
    assert info.value.reason is ConnectionErrorReason.Cancelled
    assert all(pc.closed for pc in platform.pcs) and not room.isconnected()


@pytest.mark.parametrize("loss, reason", [("leave", "LeaveRequest"), ("drop", "InternalError")])
async def test_session_lost_before_transport_connects(loss, reason):
    platform = FakePlatform()
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    await _until(lambda: room._local is not None)  # joined, waiting for the peer connection
    if loss == "leave":
        socket.push(leave=proto.rtc().LeaveRequest(reason=proto.models().DisconnectReason.ROOM_DELETED))
    else:
        socket.drop(1006)
    with pytest.raises(ConnectionError) as info:
        await task
    assert info.value.reason.name == reason
    assert all(pc.closed for pc in platform.pcs) and not room.isconnected()


async def test_bad_arguments_are_typed():
    room = Room(platform=FakePlatform())
    with pytest.raises(TypeError):
        await room.connect(b"ws://x", "t")  # type: ignore[arg-type]
    with pytest.raises(ConnectionError) as info:
        await room.connect("ws://x", "")
    assert info.value.reason is ConnectionErrorReason.NotAllowed


async def test_firefox_joins_without_offer_then_negotiates():
    platform = FakePlatform(ua=FakePlatform.FIREFOX)
    room = Room(platform=platform)
    task, socket = await _connect(room, platform)
    request = socket.join_request
    assert not request.HasField("publisher_offer")
    assert request.client_info.browser == "Firefox"
    await _until(lambda: socket.requests("offer"))
    (offer,) = socket.requests("offer")
    (pc,) = platform.pcs
    assert offer.offer.id == 1 and ("local", "offer", "offer-1") in pc.calls
    assert pc.recv_transceivers == ["audio"] * 3 + ["video"] * 3  # the first offer carries the media layout
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a1", id=1))
    await _until(lambda: pc.has_remote_description)
    pc.connect()
    await task
    await room.disconnect()
