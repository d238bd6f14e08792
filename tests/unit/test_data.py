"""Data packets: the sans-IO bookkeeping (_core/data.py) on CPython, and publish_data / data_received through the
engine and the data-channel port on the fakes."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import DataPacket, DataPacketKind, InvalidStateError, PublishDataError, Room, RoomOptions
from livekit_pyweb._core import data, proto

from .fakes import FakePlatform, connected_room, join_response, participant, until


# -- _core/data.py ---------------------------------------------------------------------------------------------
def test_reliable_sequences_start_at_1_and_the_buffer_keeps_what_the_channel_may_still_hold():
    buf = data.ReliableSendBuffer()
    assert buf.peek_sequence == 1
    for size in (10, 20, 30):
        seq = buf.next_sequence()
        buf.sent(b"x" * size, seq)
    assert buf.sequences == [1, 2, 3] and buf.peek_sequence == 4
    buf.align(60)  # all 60 bytes may still be buffered
    assert buf.sequences == [1, 2, 3]
    buf.align(50)  # the last 50 bytes are buffered: 1 may have left, but is kept while it may not have
    assert buf.sequences == [1, 2, 3]
    buf.align(49)  # 1 (10 bytes) has surely left
    assert buf.sequences == [2, 3]
    buf.align(29)  # 2 has left; 3 (30 bytes) is partly sent
    assert buf.sequences == [3]
    buf.align(0)  # as livekit-client's DataPacketBuffer: the last packet sent is always kept
    assert buf.sequences == [3]


def test_reliable_buffer_resend_after_the_servers_last_sequence_and_deferred_packets_are_never_trimmed():
    buf = data.ReliableSendBuffer()
    for _ in range(4):
        buf.sent(b"abcd", buf.next_sequence())
    buf.deferred(b"late", buf.next_sequence())  # sequence 5, not sent (a reconnect was under way)
    buf.align(0)
    assert buf.sequences == [4, 5]  # sent ones left the channel (but the last); the unsent one waits for the replay
    buf = data.ReliableSendBuffer()
    for _ in range(5):
        buf.sent(b"abcd", buf.next_sequence())
    buf.pop_to(3)  # the server has 1..3
    items = buf.to_resend()
    assert [i.sequence for i in items] == [4, 5] and not any(i.sent for i in items)
    buf.mark_sent(items[0])
    assert items[0].sent
    buf.reset()
    assert len(buf) == 0 and buf.next_sequence() == 1


def test_receive_state_drops_duplicates_per_sender_for_30_s():
    state = data.ReceiveState()
    assert state.accept("PA_a", 1, 0.0)
    assert state.accept("PA_a", 2, 0.0)
    assert not state.accept("PA_a", 2, 1.0)  # duplicate
    assert not state.accept("PA_a", 1, 1.0)  # older
    assert state.accept("PA_b", 1, 1.0)  # another sender counts on its own
    assert state.accept("PA_a", 0, 1.0) and state.accept("", 7, 1.0)  # lossy (no sequence) / no sid: always
    assert state.states(1.0) == {"PA_a": 2, "PA_b": 1}
    assert state.accept("PA_a", 1, 31.0)  # forgotten after 30 s (a new session of that sid)
    assert state.states(31.0) == {"PA_a": 1}


def test_size_limit_and_watermarks_are_livekit_clients():
    data.check_size(64_000)
    with pytest.raises(PublishDataError) as info:
        data.check_size(64_001)
    assert info.value.code == 14 and "64000" in str(info.value)
    assert not data.must_wait(1024 * 1024, data.RELIABLE) and data.must_wait(1024 * 1024 + 1, data.RELIABLE)
    assert data.must_wait(256 * 1024 + 1, data.LOSSY)
    assert data.LOW_WATER == {data.RELIABLE: 65536, data.LOSSY: 8192}
    assert data.LABELS == {data.RELIABLE: "_reliable", data.LOSSY: "_lossy"}


def test_lossy_gate_drops_above_a_threshold_tuned_to_a_tenth_of_the_byte_rate():
    gate = data.LossyGate()
    assert gate.admit(1000, 8 * 1024, 0.0)  # at the low mark: sent
    assert not gate.admit(1000, 8 * 1024 + 1, 0.1) and gate.dropped == 1
    for i in range(100):  # 100 kB offered within the first second
        assert gate.admit(1000, 0, 0.2 + i * 0.005)
    gate.admit(1000, 0, 1.0)  # a second has passed: threshold = max(100 kB / 10, 8 KiB) = 10.1 kB
    assert gate.threshold == 10_100
    assert gate.admit(10, 10_000, 1.1) and not gate.admit(10, 10_200, 1.1)
    gate.admit(10, 0, 5.0)  # idle for seconds: back to the low mark
    assert gate.threshold == 8 * 1024


# -- engine and room on the fakes ----------------------------------------------------------------------------------
def _user_packet(sender_sid: str, identity: str, payload: bytes, *, seq: int = 0, topic: str = "",
                 kind: int = 0) -> bytes:
    m = proto.models()
    return m.DataPacket(kind=kind, participant_sid=sender_sid, participant_identity=identity, sequence=seq,
                        user=m.UserPacket(payload=payload, topic=topic)).SerializeToString()


async def test_publish_data_sends_a_user_packet_on_each_channel_with_reliable_sequences():
    room, socket, pc = await connected_room(others=[participant("PA_b", "bob")])
    reliable, lossy = pc.data_channels["_reliable"], pc.data_channels["_lossy"]
    assert reliable.buffered_amount_low_threshold == 64 * 1024 and lossy.buffered_amount_low_threshold == 8 * 1024
    assert (reliable.ordered, reliable.max_retransmits, lossy.ordered, lossy.max_retransmits) == (True, None, False, 0)
    await room.local_participant.publish_data("hello", topic="chat")
    await room.local_participant.publish_data(b"\x00\x01", destination_identities=["bob"])
    await room.local_participant.publish_data(b"fast", reliable=False)
    first, second = reliable.packets()
    assert first.WhichOneof("value") == "user" and first.user.payload == b"hello" and first.user.topic == "chat"
    assert (first.kind, first.sequence, first.participant_identity, first.participant_sid) == (0, 1, "me", "PA_me")
    assert first.user.participant_identity == "me"
    assert second.sequence == 2 and list(second.destination_identities) == ["bob"]
    assert list(second.user.destination_identities) == ["bob"]
    (fast,) = lossy.packets()
    assert (fast.kind, fast.sequence, fast.user.payload) == (1, 0, b"fast")
    await room.disconnect()


async def test_an_oversized_packet_is_refused_and_the_channel_goes_on_without_a_gap():
    room, socket, pc = await connected_room()
    reliable = pc.data_channels["_reliable"]
    await room.local_participant.publish_data(b"a")
    with pytest.raises(PublishDataError) as info:
        await room.local_participant.publish_data(b"x" * 64_000)  # the payload fits, the packet does not
    assert info.value.code == 14
    with pytest.raises(PublishDataError):
        await room.local_participant.publish_data(b"x" * 64_000, reliable=False)
    biggest = 64_000 - 30
    await room.local_participant.publish_data(b"y" * biggest)
    assert [p.sequence for p in reliable.packets()] == [1, 2] and len(reliable.sent[-1]) <= 64_000
    assert reliable.ready_state == "open" and pc.data_channels["_lossy"].sent == []
    await room.disconnect()


async def test_reliable_sends_wait_above_the_high_water_mark_and_go_out_in_order():
    room, socket, pc = await connected_room()
    reliable = pc.data_channels["_reliable"]
    reliable.auto_drain = False
    chunk = b"z" * 60_000
    sends = [asyncio.ensure_future(room.local_participant.publish_data(chunk + bytes([i]))) for i in range(40)]
    await until(lambda: len(reliable.sent) == 18)  # 18 x ~60 kB > 1 MiB: the 19th waits
    await asyncio.sleep(0.1)
    assert len(reliable.sent) == 18 and reliable.buffered_amount > 1024 * 1024
    assert sum(s.done() for s in sends) == 18
    reliable.drain(reliable.buffered_amount - 60_000)  # drained to the low mark: bufferedamountlow
    await until(lambda: len(reliable.sent) == 35)  # 60 kB + 17 x 60 kB > 1 MiB
    reliable.drain()
    await asyncio.wait_for(asyncio.gather(*sends), 1)
    packets = reliable.packets()
    assert [p.sequence for p in packets] == list(range(1, 41))
    assert [p.user.payload[-1] for p in packets] == list(range(40))
    assert reliable.max_buffered <= 1024 * 1024 + 61_000  # never more than one packet over the high mark
    assert room._engine.reliable_buffer.sequences == list(range(35, 41))  # may be buffered: kept for a resend
    reliable.drain()
    assert room._engine.reliable_buffer.sequences == [40]  # what left the channel is forgotten (but the last)
    await room.disconnect()


async def test_a_channel_closing_under_a_waiting_send_fails_it(expect_log):
    room, socket, pc = await connected_room()
    reliable = pc.data_channels["_reliable"]
    reliable.auto_drain = False
    reliable.buffered_amount = 2 * 1024 * 1024
    waiting = asyncio.ensure_future(room.local_participant.publish_data(b"late"))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    reliable.remote_close()
    with pytest.raises(PublishDataError, match="closed"):
        await waiting
    assert [r.getMessage() for r in expect_log] == ["data channel _reliable closed unexpectedly"]
    with pytest.raises(PublishDataError, match="closed"):
        await room.local_participant.publish_data(b"after")
    await room.disconnect()


async def test_a_channel_closing_with_its_connection_or_after_the_session_was_lost_is_no_error():
    room, socket, pc = await connected_room()
    pc.connection_state = "disconnected"
    pc.data_channels["_lossy"].remote_close()  # the connection is going: debug only
    pc.connection_state = "connected"
    socket.push(leave=proto.rtc().LeaveRequest(reason=proto.models().DisconnectReason.SERVER_SHUTDOWN))
    await until(lambda: room._engine is None or room._engine._lost is not None)
    pc.data_channels["_reliable"].remote_close()  # the server left us: no error either (conftest: no WARNING+)
    await room.disconnect()


async def test_a_send_before_the_channel_opens_waits_for_it_and_not_connected_is_refused():
    room, socket, pc = await connected_room()
    reliable = pc.data_channels["_reliable"]
    reliable.ready_state = "connecting"
    send = asyncio.ensure_future(room.local_participant.publish_data(b"soon"))
    await asyncio.sleep(0.5)
    assert not send.done()
    reliable.open()
    await asyncio.wait_for(send, 1)
    assert [p.user.payload for p in reliable.packets()] == [b"soon"]
    await room.disconnect()
    with pytest.raises(InvalidStateError):
        await room.local_participant.publish_data(b"gone")


async def test_a_channel_that_never_opens_fails_the_send_after_the_peer_connection_timeout():
    room, socket, pc = await connected_room(options=RoomOptions(peer_connection_timeout=10.0))
    pc.data_channels["_lossy"].ready_state = "connecting"
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(PublishDataError, match="did not open within 10 s"):
        await room.local_participant.publish_data(b"x", reliable=False)
    assert loop.time() - start == pytest.approx(10.0)
    await room.disconnect()


async def test_received_user_packets_become_data_received_with_the_sender_and_duplicates_are_dropped():
    room, socket, pc = await connected_room(others=[participant("PA_b", "bob")])
    got: list[DataPacket] = []
    room.on("data_received", got.append)
    reliable = pc.data_channels["_reliable"]
    reliable.deliver(_user_packet("PA_b", "bob", b"one", seq=1, topic="t"))
    reliable.deliver(_user_packet("PA_b", "bob", b"one again", seq=1))  # a resend: dropped
    reliable.deliver(_user_packet("PA_b", "bob", b"two", seq=2))
    pc.data_channels["_lossy"].deliver(_user_packet("PA_b", "bob", b"lossy", kind=1))
    pc.data_channels["_lossy"].deliver(_user_packet("", "", b"from a server SDK", kind=1))
    assert [(p.data, p.kind, p.topic) for p in got] == [
        (b"one", DataPacketKind.KIND_RELIABLE, "t"), (b"two", DataPacketKind.KIND_RELIABLE, ""),
        (b"lossy", DataPacketKind.KIND_LOSSY, ""), (b"from a server SDK", DataPacketKind.KIND_LOSSY, "")]
    assert [p.participant for p in got[:3]] == [room.remote_participants["bob"]] * 3 and got[3].participant is None
    await room.disconnect()


async def test_an_older_sender_naming_itself_only_in_the_user_packet_is_still_known():
    room, socket, pc = await connected_room(others=[participant("PA_b", "bob")])
    got: list[DataPacket] = []
    room.on("data_received", got.append)
    m = proto.models()
    pc.data_channels["_reliable"].deliver(m.DataPacket(
        user=m.UserPacket(participant_identity="bob", payload=b"old")).SerializeToString())
    assert got[0].participant is room.remote_participants["bob"]
    await room.disconnect()


async def test_dual_mode_receives_on_the_servers_subscriber_channels_and_a_send_negotiates_the_publisher():
    platform = FakePlatform(v1_missing=True)
    room = Room(platform=platform)
    connecting = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(platform.socket_ready.wait(), 1)
    socket = platform.sockets[-1]
    socket.push(join=join_response(subscriber_primary=True, others=[participant("PA_b", "bob")]))
    await until(lambda: len(platform.pcs) == 3)
    _, publisher, subscriber = platform.pcs
    subscriber.connect()
    await asyncio.wait_for(connecting, 1)
    got: list[DataPacket] = []
    room.on("data_received", got.append)
    server_reliable = subscriber.remote_channel("_reliable")
    subscriber.remote_channel("_other")  # not ours: left alone
    server_reliable.deliver(_user_packet("PA_b", "bob", b"down", seq=1))
    assert [(p.data, p.participant.identity) for p in got] == [(b"down", "bob")]
    assert not socket.requests("offer")  # subscriber primary: the publisher is negotiated only when needed
    sending = asyncio.ensure_future(room.local_participant.publish_data(b"up"))
    await until(lambda: bool(socket.requests("offer")))
    offer = socket.requests("offer")[-1].offer
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a", id=offer.id))
    await until(lambda: publisher.has_remote_description)
    assert not sending.done()
    publisher.connect()
    await asyncio.wait_for(sending, 1)
    assert [p.user.payload for p in publisher.data_channels["_reliable"].packets()] == [b"up"]
    assert server_reliable.sent == []  # we only receive on the server's channels
    await room.disconnect()


async def test_other_packet_kinds_are_ignored_on_purpose_and_garbage_is_visible(expect_log):
    room, socket, pc = await connected_room(others=[participant("PA_b", "bob")])
    got: list[DataPacket] = []
    room.on("data_received", got.append)
    m = proto.models()
    reliable = pc.data_channels["_reliable"]
    for packet in (m.DataPacket(rpc_request=m.RpcRequest(id="r", method="x")), m.DataPacket(rpc_ack=m.RpcAck()),
                   m.DataPacket(stream_header=m.DataStream.Header(stream_id="s")),
                   m.DataPacket(stream_chunk=m.DataStream.Chunk(stream_id="s")),
                   m.DataPacket(speaker=m.ActiveSpeakerUpdate()), m.DataPacket(sip_dtmf=m.SipDTMF(code=1)),
                   m.DataPacket(transcription=m.Transcription()), m.DataPacket()):
        reliable.deliver(packet.SerializeToString())
    assert got == [] and expect_log == []
    reliable.deliver(b"\xff\xff\xff not a protobuf")
    assert [r.getMessage() for r in expect_log] == [
        "ignoring a data channel message that is not a DataPacket (18 bytes)"]
    await room.disconnect()
