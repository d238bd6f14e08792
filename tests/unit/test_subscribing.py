"""Subscribing by hand, subscription status and failure, stream state, and statistics, on the CPython fakes: what
goes to the server, which events fire and in which order."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import InvalidStateError, Room, RoomOptions, RtcStats, StreamState, SubscriptionStatus
from livekit_pyweb._core import proto

from .fakes import (FakePlatform, FakeReceiver, FakeTrack, TrackEvent, answer_offers, connected_room, participant,
                    until)
from .test_public_over_port import _publish_camera

EVENTS = ("track_published", "track_subscribed", "track_unsubscribed", "track_unpublished",
          "track_subscription_status_changed", "track_subscription_failed", "track_stream_state_changed")


def _record(room: Room) -> list[tuple]:
    log: list[tuple] = []

    def describe(a):
        return getattr(a, "name", None) if isinstance(a, (StreamState, SubscriptionStatus)) else \
            getattr(a, "identity", None) or getattr(a, "sid", None) or a

    for name in EVENTS:
        room.on(name, lambda *args, n=name: log.append((n, *[describe(a) for a in args])))
    return log


def _deliver(pc, sid: str, participant_sid: str = "PA_a", kind: str = "video") -> FakeTrack:
    port = FakeTrack(sid, kind)
    event = TrackEvent(port, [f"{participant_sid}|{sid}"], mid="1")
    event.receiver = FakeReceiver([{"type": "inbound-rtp", "framesDecoded": 7}])
    pc.on_track(event)
    return port


def _subscriptions(socket) -> list[tuple[list[str], bool, list[tuple[str, list[str]]]]]:
    return [(list(r.subscription.track_sids), r.subscription.subscribe,
             [(pt.participant_sid, list(pt.track_sids)) for pt in r.subscription.participant_tracks])
            for r in socket.requests("subscription")]


async def test_auto_subscribe_off_is_announced_and_nothing_is_wanted_until_set_subscribed():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(options=RoomOptions(auto_subscribe=False), others=[alice])
    assert socket.join_request.connection_settings.auto_subscribe is False
    log = _record(room)
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    assert pub.subscription_status is SubscriptionStatus.UNSUBSCRIBED and not pub.subscribed
    assert _subscriptions(socket) == []

    pub.set_subscribed(True)
    assert _subscriptions(socket) == [(["TR_v"], True, [("PA_a", ["TR_v"])])]
    assert pub.subscription_status is SubscriptionStatus.DESIRED
    port = _deliver(pc, "TR_v")
    await until(lambda: pub.track is not None)
    assert pub.subscription_status is SubscriptionStatus.SUBSCRIBED
    assert (await pub.track.get_stats())["framesDecoded"] == 7
    assert log == [("track_subscription_status_changed", "TR_v", "DESIRED", "alice"),
                   ("track_subscribed", "TR_v", "TR_v", "alice"),
                   ("track_subscription_status_changed", "TR_v", "SUBSCRIBED", "alice")]
    assert not port.released
    await room.disconnect()


async def test_auto_subscribe_on_announces_it_and_a_publication_starts_desired():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    assert socket.join_request.connection_settings.auto_subscribe is True
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    assert pub.subscription_status is SubscriptionStatus.DESIRED
    await room.disconnect()


async def test_auto_subscribe_off_is_in_the_v0_url_too():
    platform = FakePlatform(v1_missing=True)
    room = Room(RoomOptions(auto_subscribe=False), platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await until(lambda: any("/rtc?" in s.url for s in platform.sockets))
    assert "auto_subscribe=0" in platform.sockets[-1].url
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_unsubscribing_releases_the_track_then_resubscribing_gives_a_fresh_one():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    first_port = _deliver(pc, "TR_v")
    await until(lambda: pub.track is not None)
    first = pub.track
    element = first.attach()
    log = _record(room)

    pub.set_subscribed(False)
    assert _subscriptions(socket) == [(["TR_v"], False, [("PA_a", ["TR_v"])])]
    assert pub.track is None and pub.subscription_status is SubscriptionStatus.UNSUBSCRIBED
    assert first_port.released and first_port.attached == [] and first.attached_elements == []
    assert element not in first_port.attached
    assert log == [("track_subscription_status_changed", "TR_v", "UNSUBSCRIBED", "alice"),
                   ("track_unsubscribed", "TR_v", "TR_v", "alice")]

    # Media of the dropped subscription still on its way is not a subscription: released, no event.
    late = _deliver(pc, "TR_v")
    await until(lambda: late.released)
    assert pub.track is None and len(log) == 2

    log.clear()
    pub.set_subscribed(True)
    second_port = _deliver(pc, "TR_v")
    await until(lambda: pub.track is not None)
    assert pub.track is not first and pub.track._port is second_port
    assert log == [("track_subscription_status_changed", "TR_v", "DESIRED", "alice"),
                   ("track_subscribed", "TR_v", "TR_v", "alice"),
                   ("track_subscription_status_changed", "TR_v", "SUBSCRIBED", "alice")]
    assert [s[1] for s in _subscriptions(socket)] == [False, True]
    await room.disconnect()


async def test_unpublished_while_subscribed_unsubscribes_then_unpublishes():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    _deliver(pc, "TR_v")
    await until(lambda: pub.track is not None)
    log = _record(room)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[participant("PA_a", "alice", [], version=2)]))
    await until(lambda: any(e[0] == "track_unpublished" for e in log))
    assert log == [("track_unsubscribed", "TR_v", "TR_v", "alice"),
                   ("track_subscription_status_changed", "TR_v", "DESIRED", "alice"),
                   ("track_unpublished", "TR_v", "alice")]
    with pytest.raises(InvalidStateError):
        pub.set_subscribed(True)  # no longer published
    await room.disconnect()


async def test_set_subscribed_checks_its_argument_and_the_room():
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(others=[alice])
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    with pytest.raises(TypeError):
        pub.set_subscribed(1)  # type: ignore[arg-type]
    await room.disconnect()
    with pytest.raises(InvalidStateError):
        pub.set_subscribed(True)
    assert _subscriptions(socket) == []


async def test_subscription_response_is_track_subscription_failed_in_livekit_rtc_order():
    m = proto.models()
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    room, socket, pc = await connected_room(options=RoomOptions(auto_subscribe=False), others=[alice])
    log = _record(room)
    failed: list[tuple] = []
    room.on("track_subscription_failed", lambda *args: failed.append(args))
    room.remote_participants["alice"].track_publications["TR_v"].set_subscribed(True)
    socket.push(subscription_response=proto.rtc().SubscriptionResponse(
        track_sid="TR_v", err=m.SubscriptionError.SE_CODEC_UNSUPPORTED))
    # A track of nobody we know (livekit-client says nothing either): logged at debug only.
    socket.push(subscription_response=proto.rtc().SubscriptionResponse(
        track_sid="TR_nobody", err=m.SubscriptionError.SE_TRACK_NOTFOUND))
    socket.push(subscription_response=proto.rtc().SubscriptionResponse(
        track_sid="TR_v", err=m.SubscriptionError.SE_TRACK_NOTFOUND))
    await until(lambda: len(failed) == 2)
    await asyncio.sleep(0.05)
    assert [(p.identity, sid, err) for p, sid, err in failed] == [
        ("alice", "TR_v", "SE_CODEC_UNSUPPORTED"), ("alice", "TR_v", "SE_TRACK_NOTFOUND")]
    assert [e[0] for e in log] == ["track_subscription_status_changed", "track_subscription_failed",
                                   "track_subscription_failed"]
    await room.disconnect()


async def test_stream_state_updates_are_events_on_change_only():
    m = proto.rtc()
    alice = participant("PA_a", "alice", [("TR_v", 1), ("TR_a", 0)])
    room, socket, pc = await connected_room(others=[alice])
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    _deliver(pc, "TR_v")
    await until(lambda: pub.track is not None)
    log = _record(room)

    def push(*states: tuple[str, int]) -> None:
        socket.push(stream_state_update=proto.rtc().StreamStateUpdate(stream_states=[
            proto.rtc().StreamStateInfo(participant_sid="PA_a", track_sid=sid, state=state) for sid, state in states]))

    push(("TR_v", m.StreamState.ACTIVE), ("TR_a", m.StreamState.ACTIVE))  # TR_a: not subscribed, no state
    push(("TR_v", m.StreamState.ACTIVE))  # no change
    push(("TR_v", m.StreamState.PAUSED))
    push(("TR_v", m.StreamState.ACTIVE))
    await until(lambda: len(log) == 3)
    await asyncio.sleep(0.05)
    assert log == [("track_stream_state_changed", "TR_v", "STATE_ACTIVE", "alice"),
                   ("track_stream_state_changed", "TR_v", "STATE_PAUSED", "alice"),
                   ("track_stream_state_changed", "TR_v", "STATE_ACTIVE", "alice")]
    assert pub.track.stream_state is StreamState.STATE_ACTIVE
    await room.disconnect()


async def test_local_track_stats_come_from_its_sender_through_the_port():
    room, socket, pc = await connected_room()
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    sender = pc.senders[-1]
    sender.stats = [
        {"type": "codec", "mimeType": "video/VP8"},
        {"type": "outbound-rtp", "rid": "f", "bytesSent": 300, "packetsSent": 3, "framesEncoded": 30, "frameWidth": 1280},
        {"type": "outbound-rtp", "rid": "q", "bytesSent": 100, "packetsSent": 1, "framesEncoded": 10, "frameWidth": 320},
        {"type": "outbound-rtp", "rid": "h", "bytesSent": 200, "packetsSent": 2, "framesEncoded": 20, "frameWidth": 640},
    ]
    stats = await pub.track.get_stats()
    assert (stats["type"], stats["rid"], stats["frameWidth"]) == ("outbound-rtp", "f", 1280)
    assert (stats["bytesSent"], stats["packetsSent"], stats["framesEncoded"]) == (600, 6, 60)
    assert [layer["rid"] for layer in stats["layers"]] == ["q", "h", "f"]
    sender.stats = [{"type": "outbound-rtp", "bytesSent": 5, "kind": "audio"}]
    assert await pub.track.get_stats() == {"type": "outbound-rtp", "bytesSent": 5, "kind": "audio"}
    track = pub.track
    await room.local_participant.unpublish_track(pub.sid, stop=False)
    assert await track.get_stats() == {}  # not published: no sender
    done.set()
    await server
    await room.disconnect()


async def test_room_rtc_stats_split_one_connection_by_direction():
    room, socket, pc = await connected_room()
    report = [{"type": "outbound-rtp", "bytesSent": 1}, {"type": "inbound-rtp", "bytesReceived": 2},
              {"type": "transport", "id": "T"}, {"type": "remote-inbound-rtp"}, {"type": "remote-outbound-rtp"},
              {"type": "media-source"}]

    async def get_stats():
        return report

    pc.get_stats = get_stats
    stats = await room.get_rtc_stats()
    assert isinstance(stats, RtcStats)
    assert [e["type"] for e in stats.publisher_stats] == ["outbound-rtp", "transport", "remote-inbound-rtp",
                                                          "media-source"]
    assert [e["type"] for e in stats.subscriber_stats] == ["inbound-rtp", "transport", "remote-outbound-rtp"]
    await room.disconnect()
    with pytest.raises(InvalidStateError):
        await room.get_rtc_stats()


async def test_room_rtc_stats_with_two_connections_give_each_report():
    platform = FakePlatform(v1_missing=True)
    room = Room(platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await until(lambda: any("/rtc?" in s.url for s in platform.sockets))
    from .fakes import join_response

    socket = platform.sockets[-1]
    socket.push(join=join_response())
    await until(lambda: len(platform.pcs) == 3)  # the /rtc/v1 attempt's, then the publisher and subscriber
    _, publisher, subscriber = platform.pcs
    await until(lambda: bool(socket.requests("offer")))
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a", id=socket.requests("offer")[-1].offer.id))
    publisher.connect()
    await asyncio.wait_for(task, 1)

    async def sending():
        return [{"type": "outbound-rtp"}, {"type": "transport"}]

    async def receiving():
        return [{"type": "inbound-rtp"}, {"type": "transport"}]

    publisher.get_stats, subscriber.get_stats = sending, receiving
    stats = await room.get_rtc_stats()
    assert [e["type"] for e in stats.publisher_stats] == ["outbound-rtp", "transport"]
    assert [e["type"] for e in stats.subscriber_stats] == ["inbound-rtp", "transport"]
    await room.disconnect()


async def test_sender_stats_cross_the_bridge_as_an_awaited_call():
    from livekit_pyweb._core import bridge as B

    assert "sender.getStats" in B.OPS and "sender.getStats" not in B.POSTED_OPS | B.UNBOUNDED_OPS
    assert B.call(9, "sender.getStats", [4]) == {"t": "call", "id": 9, "op": "sender.getStats", "args": [4]}


async def test_a_failed_subscription_drops_its_arriving_track_as_livekit_client():
    """livekit-client cancels a track still on its way when the server's SubscriptionResponse says the subscription
    failed (``cancelPendingTrackAdded``), and drops a bound track once the page removes it from its stream (the
    server stopped sending it: ``removetrack`` → ``TrackUnsubscribed``). Seen for real with a Firefox subscriber of
    an H264-only track (tests/e2e/test_backup_codec.py): either order happens."""
    m = proto.models()
    alice = participant("PA_a", "alice", [("TR_v", 1), ("TR_w", 1)])
    room, socket, pc = await connected_room(others=[alice])
    log = _record(room)
    pubs = room.remote_participants["alice"].track_publications
    # the answer's track event, then the failure before the track is bound: never subscribed
    early = _deliver(pc, "TR_v")
    room._on_subscription_response(proto.rtc().SubscriptionResponse(
        track_sid="TR_v", err=m.SubscriptionError.SE_CODEC_UNSUPPORTED))
    await until(lambda: early.released)
    assert pubs["TR_v"].track is None and early.on_play is None
    assert log == [("track_subscription_failed", "alice", "TR_v", "SE_CODEC_UNSUPPORTED")]
    # bound first, then the failure, then the page removes the track from its stream: unsubscribed
    late = _deliver(pc, "TR_w")
    await until(lambda: pubs["TR_w"].track is not None)
    track = pubs["TR_w"].track
    socket.push(subscription_response=proto.rtc().SubscriptionResponse(
        track_sid="TR_w", err=m.SubscriptionError.SE_CODEC_UNSUPPORTED))
    await until(lambda: len(log) == 4)
    late.removed()
    await until(lambda: pubs["TR_w"].track is None)
    assert late.released
    assert log[1:] == [("track_subscribed", track.sid, "TR_w", "alice"),
                       ("track_subscription_status_changed", "TR_w", "SUBSCRIBED", "alice"),
                       ("track_subscription_failed", "alice", "TR_w", "SE_CODEC_UNSUPPORTED"),
                       ("track_unsubscribed", track.sid, "TR_w", "alice"),
                       ("track_subscription_status_changed", "TR_w", "DESIRED", "alice")]
    late.removed()  # told again: nothing more
    await asyncio.sleep(0.05)
    assert len(log) == 6
    await room.disconnect()
