"""Behaviours of the engine and the public layer that ship today, each pinned on the CPython fakes.

Async tests run on a fake loop clock (looptime, see conftest): a 15 s deadline takes no real time and elapsed
times are exact, so each test checks *which* deadline fired by when it fired.
"""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import (
    ConnectionError,
    ConnectionErrorReason,
    ConnectionState,
    DisconnectReason,
    InvalidStateError,
    PublishTrackError,
    Room,
    RoomOptions,
)
from livekit_pyweb._core import proto
from livekit_pyweb.options import IceServer
from livekit_pyweb.track import LocalAudioTrack

from .fakes import FakeMediaStreamTrack, FakePlatform, connected_room, join_response, participant, until


def _now() -> float:
    return asyncio.get_running_loop().time()


def _answer(sdp: str, offer_id: int) -> proto.Any:
    return proto.rtc().SessionDescription(type="answer", sdp=sdp, id=offer_id)


# -- deadlines: each option drives its own step, exactly ------------------------------------------------------
OPTIONS = RoomOptions(signal_timeout=7, join_timeout=3, peer_connection_timeout=11, publish_timeout=4)


async def test_signal_timeout_bounds_the_websocket_open():
    platform = FakePlatform(hang_open=True)
    start = _now()
    with pytest.raises(ConnectionError) as info:
        await Room(OPTIONS, platform=platform).connect("ws://sfu.test", "TOKEN")
    assert info.value.reason is ConnectionErrorReason.Timeout
    assert str(info.value) == "timed out: the signalling WebSocket did not open"
    assert _now() - start == pytest.approx(7, abs=0.01)
    assert platform.open_timeouts == [7]  # the adapter's own socket deadline is the same option
    assert all(pc.closed for pc in platform.pcs)


async def test_join_timeout_bounds_the_wait_for_the_join_response():
    platform = FakePlatform()
    task = asyncio.ensure_future(Room(OPTIONS, platform=platform).connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()
    opened = _now()
    with pytest.raises(ConnectionError) as info:
        await task
    assert info.value.reason is ConnectionErrorReason.Timeout
    assert str(info.value) == "timed out: no JoinResponse from the server"
    assert _now() - opened == pytest.approx(3, abs=0.01)
    assert platform.sockets[0].closed_with == 1000 and all(pc.closed for pc in platform.pcs)


async def test_peer_connection_timeout_bounds_the_transport_and_leaves():
    platform = FakePlatform()
    task = asyncio.ensure_future(Room(OPTIONS, platform=platform).connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()
    socket = platform.sockets[0]
    socket.push(join=join_response())
    joined = _now()
    with pytest.raises(ConnectionError) as info:
        await task
    assert str(info.value) == "timed out: the peer connection did not connect"
    assert _now() - joined == pytest.approx(11, abs=0.01)
    assert len(socket.requests("leave")) == 1 and all(pc.closed for pc in platform.pcs)


async def test_publish_timeout_bounds_the_wait_for_track_published():
    room, socket, pc = await connected_room(options=OPTIONS)
    track = LocalAudioTrack(FakeMediaStreamTrack("mic-1", "audio"))
    start = _now()
    with pytest.raises(PublishTrackError) as info:
        await room.local_participant.publish_track(track)
    assert _now() - start == pytest.approx(4, abs=0.01)
    assert str(info.value) == "the server did not confirm track 'mic-1' within 4 s"
    (request,) = socket.requests("add_track")
    assert request.add_track.cid == "mic-1"
    assert room.local_participant.track_publications == {}
    assert not [c for c in pc.calls if c[0] == "send_transceiver"]
    await room.disconnect()


# -- cancellation ---------------------------------------------------------------------------------------------
async def test_cancelling_connect_stays_a_cancellation_and_cleans_up():
    platform = FakePlatform()
    room = Room(platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()
    platform.sockets[0].push(join=join_response())
    await until(lambda: room._local is not None)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(pc.closed for pc in platform.pcs) and platform.sockets[0].closed_with == 1000
    assert room.connection_state is ConnectionState.CONN_DISCONNECTED and room._engine is None


async def test_asyncio_timeout_around_connect_gives_timeout_error():
    platform = FakePlatform()
    room = Room(platform=platform)
    start = _now()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(2):
            await room.connect("ws://sfu.test", "TOKEN")  # the server never answers
    assert _now() - start == pytest.approx(2, abs=0.01)
    assert all(pc.closed for pc in platform.pcs) and room._engine is None


# -- keepalive ------------------------------------------------------------------------------------------------
async def test_keepalive_pings_every_interval_and_measures_rtt():
    room, socket, pc = await connected_room()  # the JoinResponse says ping_interval 5, ping_timeout 15
    joined = _now()
    await asyncio.sleep(5.05)
    pings = socket.requests("ping")
    reqs = socket.requests("ping_req")
    assert len(pings) == 1 and len(reqs) == 1
    assert reqs[0].ping_req.timestamp == pings[0].ping
    assert pings[0].ping / 1000 == pytest.approx(joined + 5, abs=0.06)
    await asyncio.sleep(0.2)
    socket.push(pong_resp=proto.rtc().Pong(last_ping_timestamp=pings[0].ping, timestamp=1))
    await until(lambda: room._engine.session.pongs_received == 1)
    assert room._engine.session.rtt_ms == pytest.approx(250, abs=15)
    await asyncio.sleep(5)
    assert len(socket.requests("ping")) == 2
    assert socket.requests("ping_req")[1].ping_req.rtt == room._engine.session.rtt_ms  # reported back
    assert room.isconnected()
    await room.disconnect()


async def test_ping_timeout_disconnects_when_the_server_goes_silent(expect_log):
    room, socket, pc = await connected_room()
    reasons: list[DisconnectReason] = []
    gone = asyncio.Event()
    room.on("disconnected", lambda reason: (reasons.append(reason), gone.set()))
    await asyncio.sleep(10)
    socket.push(speakers_changed=proto.rtc().SpeakersChanged())  # any message counts as life
    await asyncio.sleep(0)
    last_message = _now()
    await asyncio.wait_for(gone.wait(), 30)
    assert _now() - last_message == pytest.approx(15, abs=0.05)
    assert reasons == [DisconnectReason.SIGNAL_CLOSE]
    assert pc.closed and socket.closed_with == 1000 and not room.isconnected()
    assert [r.getMessage() for r in expect_log] == ["no signal traffic for 15.0 s"]  # WARNING; the loss is INFO


# -- transport failure, negotiation ---------------------------------------------------------------------------
async def test_peer_connection_failure_disconnects_the_room():
    room, socket, pc = await connected_room()
    reasons: list[DisconnectReason] = []
    room.on("disconnected", reasons.append)
    pc.state = "failed"
    pc.on_connection_state("failed")
    await until(lambda: bool(reasons))
    assert reasons == [DisconnectReason.MEDIA_FAILURE]
    assert pc.closed and socket.closed_with == 1000 and not room.isconnected()


async def test_publish_during_an_offer_in_flight_renegotiates_after_its_answer():
    room, socket, pc = await connected_room()
    socket.push(media_sections_requirement=proto.rtc().MediaSectionsRequirement(num_audios=1))
    await until(lambda: len(socket.requests("offer")) == 1)  # offer 2 is in flight, unanswered
    track = LocalAudioTrack(FakeMediaStreamTrack("mic-1", "audio"))
    publishing = asyncio.ensure_future(room.local_participant.publish_track(track))
    await until(lambda: bool(socket.requests("add_track")))
    m = proto.models()
    socket.push(track_published=proto.rtc().TrackPublishedResponse(
        cid="mic-1", track=m.TrackInfo(sid="TR_mic", type=m.TrackType.AUDIO, source=m.TrackSource.MICROPHONE)))
    pub = await asyncio.wait_for(publishing, 1)
    assert pub.sid == "TR_mic" and ("send_transceiver", track.mst_id) in pc.calls
    await asyncio.sleep(0.1)
    assert [r.offer.id for r in socket.requests("offer")] == [2]  # no second offer while one is unanswered
    socket.push(answer=_answer("answer-2", 2))
    await until(lambda: len(socket.requests("offer")) == 2)
    assert [r.offer.id for r in socket.requests("offer")] == [2, 3]  # the publish is negotiated now
    socket.push(answer=_answer("answer-3", 3))
    await until(lambda: ("remote", "answer", "answer-3") in pc.calls)
    await asyncio.sleep(0.1)
    assert len(socket.requests("offer")) == 2  # and nothing more
    await room.disconnect()


async def test_track_events_carrying_no_published_track_are_ignored_quietly():
    from .fakes import FakeTrack, TrackEvent

    room, socket, pc = await connected_room(others=[participant("PA_a", "alice", [("TR_v", 1)])])
    seen: list[str] = []
    room.on("track_subscribed", lambda track, pub, p: seen.append(track.sid))
    pc.on_track(TrackEvent(FakeTrack("a1b2-receiver-id", "audio"), [], mid="0"))  # a pre-created transceiver
    # What Chromium really fires for them: one random stream id shared by all, no mapping for the mid.
    pc.on_track(TrackEvent(FakeTrack("c3d4-receiver-id", "video"), ["8cdf1f81-5a2e-4c59-9d8e-0f5e"], mid="4"))
    pc.on_track(TrackEvent(FakeTrack("TR_v", "video"), ["PA_a|TR_v"], mid="3"))
    await until(lambda: seen == ["TR_v"])
    await asyncio.sleep(5)  # longer than the publication lookup retries: nothing else, and nothing logged
    assert seen == ["TR_v"]
    await room.disconnect()


# -- ICE configuration ----------------------------------------------------------------------------------------
async def test_ice_servers_come_from_the_server_by_default():
    room, socket, pc = await connected_room()
    assert pc.config["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}]
    assert "iceTransportPolicy" not in pc.config
    await room.disconnect()


async def test_our_ice_servers_and_relay_policy_win():
    ours = RoomOptions(ice_servers=(IceServer(urls=("turn:turn.test:3478",), username="u", credential="c"),),
                       ice_transport_policy="relay")
    room, socket, pc = await connected_room(options=ours)
    expected = [{"urls": ["turn:turn.test:3478"], "username": "u", "credential": "c"}]
    assert pc.config["iceServers"] == expected and pc.config["iceTransportPolicy"] == "relay"
    assert ("set_configuration",) in pc.calls  # applied again once the JoinResponse is in
    await room.disconnect()


async def test_server_forced_relay_is_obeyed():
    m = proto.models()
    forced = m.ClientConfiguration(force_relay=m.ClientConfigSetting.ENABLED)
    room, socket, pc = await connected_room(client_configuration=forced)
    assert pc.config["iceTransportPolicy"] == "relay"
    await room.disconnect()


# -- page lifecycle -------------------------------------------------------------------------------------------
async def test_page_hide_listener_is_closed_on_disconnect():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    (handle,) = platform.page_hide_handles
    assert not handle.closed
    await room.disconnect()
    assert handle.closed
    sent = len(socket.sent)
    platform.page_hide[0]()  # a late pagehide after leaving sends nothing
    assert len(socket.sent) == sent


# -- server-driven state --------------------------------------------------------------------------------------
async def test_remote_mute_and_unmute_events():
    alice = participant("PA_a", "alice", [("TR_m", 0)])
    room, socket, pc = await connected_room(others=[alice])
    seen: list[tuple[str, str, str, bool]] = []
    for name in ("track_muted", "track_unmuted"):
        room.on(name, lambda p, pub, n=name: seen.append((n, p.identity, pub.sid, pub.muted)))
    for version, muted in ((2, True), (3, False)):
        update = participant("PA_a", "alice", [("TR_m", 0)], version=version)
        update.tracks[0].muted = muted
        socket.push(update=proto.rtc().ParticipantUpdate(participants=[update]))
        await until(lambda v=version: len(seen) == v - 1)
    assert seen == [("track_muted", "alice", "TR_m", True), ("track_unmuted", "alice", "TR_m", False)]
    await room.disconnect()


async def test_room_metadata_changed_only_on_change():
    room, socket, pc = await connected_room()
    seen: list[tuple[str, str]] = []
    room.on("room_metadata_changed", lambda old, new: seen.append((old, new)))
    m = proto.models()
    for metadata in ("one", "one", "two"):
        socket.push(room_update=proto.rtc().RoomUpdate(room=m.Room(name="r", sid="RM_1", metadata=metadata)))
    await until(lambda: len(seen) == 2)
    await asyncio.sleep(0.1)
    assert seen == [("", "one"), ("one", "two")] and room.metadata == "two"
    await room.disconnect()


async def _published_microphone(room, socket) -> tuple[object, FakeMediaStreamTrack]:
    mst = FakeMediaStreamTrack("mic-1", "audio")
    publishing = asyncio.ensure_future(room.local_participant.publish_track(LocalAudioTrack(mst)))
    await until(lambda: bool(socket.requests("add_track")))
    m = proto.models()
    socket.push(track_published=proto.rtc().TrackPublishedResponse(
        cid="mic-1", track=m.TrackInfo(sid="TR_mic", type=m.TrackType.AUDIO, source=m.TrackSource.MICROPHONE)))
    pub = await asyncio.wait_for(publishing, 1)
    (offer,) = socket.requests("offer")  # the new sender is negotiated; the server answers
    socket.push(answer=_answer("answer-publish", offer.offer.id))
    await until(lambda: not room._engine.queue.in_flight)
    return pub, mst


async def test_local_mute_tells_the_server_and_silences_the_track():
    room, socket, pc = await connected_room()
    pub, mst = await _published_microphone(room, socket)
    seen: list[tuple[str, bool]] = []
    room.on("track_muted", lambda p, publication: seen.append(("track_muted", publication.muted)))
    room.on("track_unmuted", lambda p, publication: seen.append(("track_unmuted", publication.muted)))
    await room.local_participant.set_track_muted(pub, True)
    await room.local_participant.set_track_muted(pub, True)  # no change, nothing sent
    assert not mst.enabled and pub.muted
    await room.local_participant.set_track_muted(pub, False)
    assert mst.enabled and not pub.muted
    assert [(r.mute.sid, r.mute.muted) for r in socket.requests("mute")] == [("TR_mic", True), ("TR_mic", False)]
    assert seen == [("track_muted", True), ("track_unmuted", False)]
    await room.disconnect()


async def test_server_mutes_our_track_and_we_obey():
    room, socket, pc = await connected_room()
    pub, mst = await _published_microphone(room, socket)
    seen: list[tuple[str, str, bool]] = []
    room.on("track_muted", lambda p, publication: seen.append(("track_muted", p.identity, publication.muted)))
    room.on("track_unmuted", lambda p, publication: seen.append(("track_unmuted", p.identity, publication.muted)))
    socket.push(mute=proto.rtc().MuteTrackRequest(sid="TR_mic", muted=True))
    await until(lambda: len(seen) == 1)
    assert seen == [("track_muted", "me", True)] and not mst.enabled and pub.muted
    socket.push(mute=proto.rtc().MuteTrackRequest(sid="TR_mic", muted=False))
    await until(lambda: len(seen) == 2)
    assert seen[1] == ("track_unmuted", "me", False) and mst.enabled and not pub.muted
    socket.push(mute=proto.rtc().MuteTrackRequest(sid="TR_unknown", muted=True))  # not ours: ignored
    await asyncio.sleep(0.1)
    assert len(seen) == 2
    await room.disconnect()


async def test_track_mute_and_unmute_are_livekit_rtc_style():
    room, socket, pc = await connected_room()
    pub, mst = await _published_microphone(room, socket)
    track = pub.track
    seen: list[str] = []
    room.on("track_muted", lambda p, publication: seen.append("muted"))
    room.on("track_unmuted", lambda p, publication: seen.append("unmuted"))
    track.mute()  # synchronous, as livekit.rtc's LocalTrack.mute()
    assert track.muted and pub.muted and not mst.enabled and seen == ["muted"]
    assert [(r.mute.sid, r.mute.muted) for r in socket.requests("mute")] == [("TR_mic", True)]
    track.unmute()
    assert not track.muted and not pub.muted and mst.enabled and seen == ["muted", "unmuted"]
    await room.local_participant.unpublish_track(pub.sid, stop=False)
    track.mute()  # no longer published: only the capture changes, nothing is sent
    assert track.muted and not mst.enabled and len(socket.requests("mute")) == 2 and seen == ["muted", "unmuted"]
    await room.disconnect()


async def test_remote_track_muted_follows_the_publication():
    from .fakes import FakeTrack, TrackEvent

    alice = participant("PA_a", "alice", [("TR_m", 0)])
    alice.tracks[0].muted = True
    room, socket, pc = await connected_room(others=[alice])
    pc.on_track(TrackEvent(FakeTrack("TR_m", "audio"), ["PA_a|TR_m"], mid="0"))
    pub = room.remote_participants["alice"].track_publications["TR_m"]
    await until(lambda: pub.track is not None)
    assert pub.track.muted  # muted before we subscribed: the track says so from the start
    update = participant("PA_a", "alice", [("TR_m", 0)], version=2)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[update]))
    await until(lambda: not pub.muted)
    assert not pub.track.muted
    await room.disconnect()


async def test_public_collections_are_read_only():
    room, socket, pc = await connected_room(others=[participant("PA_a", "alice", [("TR_m", 0)])])
    with pytest.raises(TypeError):
        room.remote_participants["mallory"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        room.remote_participants["alice"].track_publications["TR_x"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        room.local_participant.track_publications["TR_x"] = None  # type: ignore[index]
    assert list(room.remote_participants) == ["alice"]
    await room.disconnect()


async def test_server_unpublishing_our_track_unpublishes_it_here():
    room, socket, pc = await connected_room()
    pub, mst = await _published_microphone(room, socket)
    offers = len(socket.requests("offer"))
    gone: list[str] = []
    room.on("local_track_unpublished", lambda publication: gone.append(publication.sid))
    socket.push(track_unpublished=proto.rtc().TrackUnpublishedResponse(track_sid="TR_mic"))
    await until(lambda: bool(gone))
    assert gone == ["TR_mic"] and room.local_participant.track_publications == {}
    assert mst.stopped and ("remove_sender", "mic-1") in pc.calls
    await until(lambda: len(socket.requests("offer")) == offers + 1)  # the sender's removal is negotiated
    await room.disconnect()


async def test_auto_subscribe_off_is_announced():
    platform = FakePlatform()
    room = Room(RoomOptions(auto_subscribe=False), platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()
    assert platform.sockets[0].join_request.connection_settings.auto_subscribe is False
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -- calls in the wrong state ---------------------------------------------------------------------------------
async def test_publishing_outside_a_connected_room_is_refused_at_once():
    platform = FakePlatform()
    room = Room(platform=platform)
    with pytest.raises(InvalidStateError):
        room.local_participant  # noqa: B018 - nothing joined yet
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await platform.socket_ready.wait()
    platform.sockets[0].push(join=join_response())
    await until(lambda: room._local is not None)  # joined; the peer connection is still connecting
    local = room.local_participant
    track = LocalAudioTrack(FakeMediaStreamTrack("mic-1", "audio"))
    with pytest.raises(InvalidStateError):
        await local.publish_track(track)
    with pytest.raises(InvalidStateError):
        await local.set_microphone_enabled(True)  # refused before any capture is attempted
    assert not platform.sockets[0].requests("add_track")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(InvalidStateError):
        await local.publish_track(track)  # and after leaving


@pytest.mark.parametrize("simulcast, rids", [(True, ["q", "h", "f"]), (False, ["f"])])
async def test_video_publish_sends_the_simulcast_layers(monkeypatch, simulcast, rids):
    from livekit_pyweb.options import TrackPublishOptions
    from livekit_pyweb.track import LocalTrack, LocalVideoTrack

    monkeypatch.setattr(LocalTrack, "dimensions", property(lambda self: (1280, 720)))
    room, socket, pc = await connected_room()
    track = LocalVideoTrack(FakeMediaStreamTrack("cam-1", "video"))
    publishing = asyncio.ensure_future(
        room.local_participant.publish_track(track, TrackPublishOptions(simulcast=simulcast)))
    await until(lambda: bool(socket.requests("add_track")))
    (request,) = socket.requests("add_track")
    add = request.add_track
    assert (add.cid, add.width, add.height, add.type) == ("cam-1", 1280, 720, proto.models().TrackType.VIDEO)
    m = proto.models()
    expected = {"q": (320, 180, m.VideoQuality.LOW), "h": (640, 360, m.VideoQuality.MEDIUM),
                "f": (1280, 720, m.VideoQuality.HIGH)}
    assert [(l.width, l.height, l.quality) for l in add.layers] == [expected[r] for r in rids]
    socket.push(track_published=proto.rtc().TrackPublishedResponse(
        cid="cam-1", track=m.TrackInfo(sid="TR_cam", type=m.TrackType.VIDEO, source=m.TrackSource.CAMERA)))
    await asyncio.wait_for(publishing, 1)
    (encodings,) = pc.send_encodings
    if simulcast:
        assert [(e["rid"], e["scaleResolutionDownBy"]) for e in encodings] == [("q", 4.0), ("h", 2.0), ("f", 1.0)]
        assert all(e["maxBitrate"] > 0 for e in encodings)
    else:
        assert encodings == [{}]  # livekit-client: no simulcast, no video_encoding -> one unlimited encoding
    await room.disconnect()
