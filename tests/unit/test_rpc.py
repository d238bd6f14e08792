"""RPC on the public layer (LocalParticipant.perform_rpc / register_rpc_method / interceptors), a connected Room on
the fakes, with a scripted peer "bob" at the other end of the data path: what the room sends, what it raises and
returns, when (fake loop clock: the timeouts are exact)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from livekit_pyweb import RpcCallInfo, RpcError, RpcInterceptor, RpcInvocationData
from livekit_pyweb._core import proto
from livekit_pyweb.errors import LiveKitError

from .fakes import connected_room, participant, until


def m() -> Any:
    return proto.models()


class Wire:
    """The room's reliable data channel on the fakes, seen from the peers' side: the packets the room sent
    (``sent``), and packets from a peer delivered as the server forwards them (sender identity, sid and the next
    reliable sequence filled in)."""

    def __init__(self, pc: Any) -> None:
        self.channel = pc.data_channels["_reliable"]
        self.sequence = 0

    @property
    def sent(self) -> list[Any]:
        return list(self.channel.packets())

    def deliver(self, sender: str, **value: Any) -> None:
        self.sequence += 1
        packet = m().DataPacket(kind=m().DataPacket.Kind.RELIABLE, participant_identity=sender,
                                participant_sid=f"PA_{sender}", sequence=self.sequence, **value)
        self.channel.deliver(packet.SerializeToString())

    def of_kind(self, kind: str) -> list[Any]:
        return [p for p in self.sent if p.WhichOneof("value") == kind]


async def joined() -> tuple[Any, Any, Wire]:
    room, socket, pc = await connected_room(others=[participant("PA_bob", "bob")])
    return room, socket, Wire(pc)


async def request_sent(wire: Wire, count: int = 1) -> Any:
    await until(lambda: len(wire.of_kind("rpc_request")) >= count)
    return wire.of_kind("rpc_request")[count - 1]


# -- calling -----------------------------------------------------------------------------------------------
async def test_perform_rpc_round_trip() -> None:
    room, _socket, wire = await joined()
    call = asyncio.ensure_future(room.local_participant.perform_rpc(
        destination_identity="bob", method="greet", payload="hi", response_timeout=10.0))
    packet = await request_sent(wire)
    assert list(packet.destination_identities) == ["bob"] and packet.kind == m().DataPacket.Kind.RELIABLE
    req = packet.rpc_request
    assert (req.method, req.payload, req.response_timeout_ms, req.version) == ("greet", "hi", 10_000, 1)
    assert len(req.id) == 36  # a UUID
    wire.deliver("bob", rpc_ack=m().RpcAck(request_id=req.id))
    wire.deliver("bob", rpc_response=m().RpcResponse(request_id=req.id, payload="hello me"))
    assert await call == "hello me"
    await room.disconnect()


async def test_remote_rpc_error_arrives_intact() -> None:
    room, _socket, wire = await joined()
    call = asyncio.ensure_future(room.local_participant.perform_rpc(destination_identity="bob", method="x",
                                                                    payload=""))
    req = (await request_sent(wire)).rpc_request
    wire.deliver("bob", rpc_ack=m().RpcAck(request_id=req.id))
    wire.deliver("bob", rpc_response=m().RpcResponse(
        request_id=req.id, error=m().RpcError(code=2001, message="bad input", data='{"field": "x"}')))
    with pytest.raises(RpcError) as caught:
        await call
    assert (caught.value.code, caught.value.message, caught.value.data) == (2001, "bad input", '{"field": "x"}')
    assert isinstance(caught.value, LiveKitError)
    await room.disconnect()


async def test_no_ack_is_connection_timeout_after_7_s() -> None:
    room, _socket, wire = await joined()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    with pytest.raises(RpcError) as caught:
        await room.local_participant.perform_rpc(destination_identity="bob", method="x", payload="")
    assert caught.value.code == RpcError.ErrorCode.CONNECTION_TIMEOUT == 1501
    assert caught.value.message == "Connection timeout"
    assert loop.time() - t0 == pytest.approx(7.0)
    await room.disconnect()


async def test_acked_without_response_is_response_timeout() -> None:
    room, _socket, wire = await joined()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    call = asyncio.ensure_future(room.local_participant.perform_rpc(
        destination_identity="bob", method="x", payload="", response_timeout=3.0))
    req = (await request_sent(wire)).rpc_request
    assert req.response_timeout_ms == 8000  # the callee is given at least 7 + 1 s
    wire.deliver("bob", rpc_ack=m().RpcAck(request_id=req.id))
    with pytest.raises(RpcError) as caught:
        await call
    assert caught.value.code == RpcError.ErrorCode.RESPONSE_TIMEOUT
    assert loop.time() - t0 == pytest.approx(3.0)
    await room.disconnect()


async def test_oversized_payload_is_refused_without_sending() -> None:
    room, _socket, wire = await joined()
    with pytest.raises(RpcError) as caught:
        await room.local_participant.perform_rpc(destination_identity="bob", method="x", payload="x" * 15361)
    assert (caught.value.code, caught.value.message) == (1402, "Request payload too large")
    assert wire.sent == []
    await room.disconnect()


async def test_callee_leaving_fails_the_call_with_recipient_disconnected() -> None:
    room, socket, wire = await joined()
    call = asyncio.ensure_future(room.local_participant.perform_rpc(destination_identity="bob", method="x",
                                                                    payload=""))
    req = (await request_sent(wire)).rpc_request
    wire.deliver("bob", rpc_ack=m().RpcAck(request_id=req.id))
    gone = participant("PA_bob", "bob", version=2)
    gone.state = m().ParticipantInfo.DISCONNECTED
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[gone]))
    with pytest.raises(RpcError) as caught:
        await call
    assert caught.value.code == RpcError.ErrorCode.RECIPIENT_DISCONNECTED
    await room.disconnect()


async def test_our_disconnect_fails_pending_calls_and_later_calls() -> None:
    room, _socket, wire = await joined()
    local = room.local_participant
    call = asyncio.ensure_future(local.perform_rpc(destination_identity="bob", method="x", payload=""))
    await request_sent(wire)
    await room.disconnect()
    with pytest.raises(RpcError) as caught:
        await call
    assert caught.value.code == RpcError.ErrorCode.RECIPIENT_DISCONNECTED
    with pytest.raises(RpcError) as later:
        await local.perform_rpc(destination_identity="bob", method="x", payload="")
    assert (later.value.code, later.value.data) == (1505, "the room is not connected")


async def test_send_failure_is_send_failed(expect_log: list[logging.LogRecord]) -> None:
    from livekit_pyweb import PublishDataError

    room, _socket, wire = await joined()
    wire.channel.remote_close()
    assert [r.getMessage() for r in expect_log] == ["data channel _reliable closed unexpectedly"]
    with pytest.raises(RpcError) as caught:
        await room.local_participant.perform_rpc(destination_identity="bob", method="x", payload="")
    assert (caught.value.code, caught.value.data) == (1505, "the _reliable data channel is closed")
    assert isinstance(caught.value.__cause__, PublishDataError)
    assert room._rpc._state.next_deadline() is None  # nothing left pending
    await room.disconnect()


async def test_a_deadline_passed_during_a_slow_send_fires_on_a_loop_that_refuses_the_past(monkeypatch: Any) -> None:
    """Pyodide's WebLoop raises ``ValueError: Can't schedule in the past`` for a past time; the ack deadline of a
    call whose send took longer than it is past when the send returns, and must still fire."""
    room, _socket, wire = await joined()
    loop = asyncio.get_running_loop()
    real_call_at, real_call_later = loop.call_at, loop.call_later

    def call_later(delay: float, *args: Any, **kw: Any) -> Any:
        if delay < 0:
            raise ValueError("Can't schedule in the past")
        return real_call_later(delay, *args, **kw)

    def call_at(when: float, *args: Any, **kw: Any) -> Any:
        if when < loop.time():
            raise ValueError("Can't schedule in the past")
        return real_call_at(when, *args, **kw)

    monkeypatch.setattr(loop, "call_later", call_later)
    monkeypatch.setattr(loop, "call_at", call_at)
    engine = room._engine
    real_send = engine.send_data

    async def slow_send(packet: Any, *, reliable: bool) -> None:
        await asyncio.sleep(8.0)  # past the 7 s ack deadline, while the timer set for it is blocked below
        await real_send(packet, reliable=reliable)

    engine.send_data = slow_send
    t0 = loop.time()
    call = asyncio.ensure_future(room.local_participant.perform_rpc(destination_identity="bob", method="x",
                                                                    payload=""))
    await asyncio.sleep(0)
    room._rpc._timer.cancel()  # as if the browser's timer had not fired yet when the send returned
    room._rpc._timer = None
    with pytest.raises(RpcError) as caught:
        await call
    assert caught.value.code == RpcError.ErrorCode.CONNECTION_TIMEOUT and loop.time() - t0 == pytest.approx(8.0)
    await room.disconnect()


async def test_cancelled_call_leaves_nothing_pending() -> None:
    room, _socket, wire = await joined()
    call = asyncio.ensure_future(room.local_participant.perform_rpc(destination_identity="bob", method="x",
                                                                    payload=""))
    await request_sent(wire)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert room._rpc._state.next_deadline() is None and room._rpc._calls == {}
    await room.disconnect()


async def test_bad_arguments_are_type_and_value_errors() -> None:
    room, _socket, wire = await joined()
    local = room.local_participant
    with pytest.raises(TypeError, match="payload"):
        await local.perform_rpc(destination_identity="bob", method="x", payload=b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="response_timeout"):
        await local.perform_rpc(destination_identity="bob", method="x", payload="", response_timeout=-1)
    with pytest.raises(TypeError):
        local.perform_rpc("bob", "x", "")  # type: ignore[misc]  # keyword-only, as livekit.rtc
    with pytest.raises(TypeError, match="callable"):
        local.register_rpc_method("x", "not a function")  # type: ignore[call-overload]
    assert wire.sent == []
    await room.disconnect()


# -- handling ----------------------------------------------------------------------------------------------
def request(wire: Wire, request_id: str, method: str, payload: str = "", timeout_ms: int = 10_000,
            version: int = 1, sender: str = "bob") -> None:
    wire.deliver(sender, rpc_request=m().RpcRequest(id=request_id, method=method, payload=payload,
                                                    response_timeout_ms=timeout_ms, version=version))


async def answer(wire: Wire, request_id: str) -> Any:
    def found() -> list[Any]:
        return [p for p in wire.of_kind("rpc_response") if p.rpc_response.request_id == request_id]

    await until(lambda: bool(found()), timeout=30)
    acks = [i for i, p in enumerate(wire.sent) if p.WhichOneof("value") == "rpc_ack"
            and p.rpc_ack.request_id == request_id]
    response = found()[0]
    assert len(acks) == 1 and acks[0] < wire.sent.index(response), "the ack goes first"
    assert list(response.destination_identities) == ["bob"]
    return response.rpc_response


async def test_handler_as_decorator_and_as_call_gets_every_field() -> None:
    room, _socket, wire = await joined()
    seen: list[RpcInvocationData] = []

    @room.local_participant.register_rpc_method("greet")
    async def greet(data: RpcInvocationData) -> str:
        seen.append(data)
        return f"hello {data.caller_identity}: {data.payload}"

    def shout(data: RpcInvocationData) -> str:  # a plain function works too
        return data.payload.upper()

    assert greet.__name__ == "greet"  # the decorator returns the handler
    assert room.local_participant.register_rpc_method("shout", shout) is shout
    request(wire, "r1", "greet", "hi ✓", timeout_ms=12_000)
    assert (await answer(wire, "r1")).payload == "hello bob: hi ✓"
    assert seen == [RpcInvocationData("r1", "bob", "hi ✓", 12.0, method="greet")]
    request(wire, "r2", "shout", "loud")
    assert (await answer(wire, "r2")).payload == "LOUD"
    await room.disconnect()


async def test_handler_rpc_error_reaches_the_caller_intact() -> None:
    room, _socket, wire = await joined()

    @room.local_participant.register_rpc_method("fail")
    async def fail(data: RpcInvocationData) -> str:
        raise RpcError(2002, "custom failure", '{"why": "test"}')

    request(wire, "r1", "fail")
    err = (await answer(wire, "r1")).error
    assert (err.code, err.message, err.data) == (2002, "custom failure", '{"why": "test"}')
    await room.disconnect()


async def test_other_handler_exception_is_application_error(expect_log: list[logging.LogRecord]) -> None:
    room, _socket, wire = await joined()

    @room.local_participant.register_rpc_method("crash")
    def crash(data: RpcInvocationData) -> str:
        raise ValueError("secret details")

    @room.local_participant.register_rpc_method("number")
    def number(data: RpcInvocationData) -> Any:
        return 42

    request(wire, "r1", "crash")
    err = (await answer(wire, "r1")).error
    assert (err.code, err.message) == (1500, "Application error in method handler")
    assert "secret" not in err.message + err.data
    request(wire, "r2", "number")
    assert (await answer(wire, "r2")).error.code == 1500
    assert [r.levelname for r in expect_log] == ["WARNING", "WARNING"]
    assert "crash" in expect_log[0].getMessage() and expect_log[0].exc_info is not None
    await room.disconnect()


async def test_a_handler_raising_cancelled_error_or_timeout_error_of_its_own_is_application_error(
        expect_log: list[logging.LogRecord]) -> None:
    """As livekit.rtc: a CancelledError the SDK did not cause, or a TimeoutError before the deadline (an HTTP
    client timing out), is the handler failing, answered 1500; the caller is not left to wait for its timeout."""
    room, _socket, wire = await joined()

    @room.local_participant.register_rpc_method("cancels")
    async def cancels(data: RpcInvocationData) -> str:
        raise asyncio.CancelledError()

    @room.local_participant.register_rpc_method("times_out")
    async def times_out(data: RpcInvocationData) -> str:
        raise TimeoutError("upstream")

    request(wire, "r1", "cancels")
    request(wire, "r2", "times_out")
    assert ((await answer(wire, "r1")).error.code, (await answer(wire, "r2")).error.code) == (1500, 1500)
    assert len(expect_log) == 2
    await room.disconnect()


async def test_unknown_method_and_unregistered_method_and_other_version() -> None:
    room, _socket, wire = await joined()
    local = room.local_participant
    local.register_rpc_method("gone", lambda data: "x")
    local.unregister_rpc_method("gone")
    local.unregister_rpc_method("never-registered")
    request(wire, "r1", "nothing")
    request(wire, "r2", "gone")
    request(wire, "r3", "gone", version=2)
    assert ((await answer(wire, "r1")).error.code, (await answer(wire, "r2")).error.code) == (1400, 1400)
    assert (await answer(wire, "r3")).error.code == RpcError.ErrorCode.UNSUPPORTED_VERSION
    await room.disconnect()


async def test_slow_handler_is_cancelled_at_the_deadline_and_answered_response_timeout() -> None:
    room, _socket, wire = await joined()
    loop = asyncio.get_running_loop()
    events: list[Any] = []

    @room.local_participant.register_rpc_method("slow")
    async def slow(data: RpcInvocationData) -> str:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            events.append(("cancelled", data.cancel_reason, loop.time() - t0))
            raise
        return "never"

    t0 = loop.time()
    request(wire, "r1", "slow", timeout_ms=8000)
    err = (await answer(wire, "r1")).error
    assert err.code == RpcError.ErrorCode.RESPONSE_TIMEOUT and loop.time() - t0 == pytest.approx(8.0)
    await until(lambda: bool(events))
    assert events == [("cancelled", RpcError.ErrorCode.RESPONSE_TIMEOUT, pytest.approx(8.0))]
    assert len(wire.of_kind("rpc_response")) == 1
    await room.disconnect()


async def test_our_disconnect_cancels_running_handlers() -> None:
    room, _socket, wire = await joined()
    reasons: list[Any] = []
    started = asyncio.Event()

    @room.local_participant.register_rpc_method("slow")
    async def slow(data: RpcInvocationData) -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            reasons.append(data.cancel_reason)
        return "never"

    request(wire, "r1", "slow")
    await started.wait()
    await room.disconnect()
    await until(lambda: bool(reasons))
    assert reasons == [RpcError.ErrorCode.RECIPIENT_DISCONNECTED]
    assert wire.of_kind("rpc_response") == []


async def test_oversized_result_is_response_payload_too_large() -> None:
    room, _socket, wire = await joined()
    room.local_participant.register_rpc_method("big", lambda data: "y" * 15361)
    request(wire, "r1", "big")
    assert (await answer(wire, "r1")).error.code == RpcError.ErrorCode.RESPONSE_PAYLOAD_TOO_LARGE
    await room.disconnect()


# -- interceptors --------------------------------------------------------------------------------------------
class Recorder(RpcInterceptor):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def intercept_outgoing(self, call: RpcCallInfo, next: Any) -> str:
        self.log.append(f"{self.name} out {call.payload}")
        result = await next(RpcCallInfo(call.destination_identity, call.method, call.payload + f"+{self.name}",
                                        call.response_timeout, call.max_round_trip_latency))
        self.log.append(f"{self.name} back {result}")
        return str(result)

    async def intercept_incoming(self, invocation: RpcInvocationData, next: Any) -> str | None:
        self.log.append(f"{self.name} in {invocation.method}")
        try:
            result = await next(invocation)
        except RpcError as exc:
            self.log.append(f"{self.name} saw {exc.code}")
            raise
        return f"{self.name}({result})"


async def test_interceptors_wrap_both_directions_first_added_outermost() -> None:
    room, _socket, wire = await joined()
    local = room.local_participant
    log: list[str] = []
    a, b = Recorder("a", log), Recorder("b", log)
    local.add_rpc_interceptor(a)
    local.add_rpc_interceptor(b)
    local.add_rpc_interceptor(a)  # twice: no-op
    local.register_rpc_method("echo", lambda data: data.payload)

    call = asyncio.ensure_future(local.perform_rpc(destination_identity="bob", method="m", payload="p"))
    req = (await request_sent(wire)).rpc_request
    assert req.payload == "p+a+b"
    wire.deliver("bob", rpc_ack=m().RpcAck(request_id=req.id))
    wire.deliver("bob", rpc_response=m().RpcResponse(request_id=req.id, payload="r"))
    assert await call == "r"
    assert log == ["a out p", "b out p+a", "b back r", "a back r"]

    log.clear()
    request(wire, "r1", "echo", "v")
    assert (await answer(wire, "r1")).payload == "a(b(v))"
    assert log == ["a in echo", "b in echo"]

    log.clear()
    request(wire, "r2", "unregistered")  # with interceptors, the chain runs and next raises UNSUPPORTED_METHOD
    assert (await answer(wire, "r2")).error.code == 1400
    assert log == ["a in unregistered", "b in unregistered", "b saw 1400", "a saw 1400"]

    local.remove_rpc_interceptor(a)
    local.remove_rpc_interceptor(b)
    log.clear()
    request(wire, "r3", "echo", "plain")
    assert (await answer(wire, "r3")).payload == "plain" and log == []
    await room.disconnect()


# -- RPC v2 (text streams) between two rooms on the fakes, each seeing the other announce client_protocol 2 ---------
async def linked_rooms(protocol: int = 2) -> tuple[Any, Any, list[Any]]:
    """Room ``alice`` (sees ``bob``) and room ``bob`` (sees ``alice``), each peer announcing ``protocol``; what one
    sends reliably is delivered to the other as the server forwards it. Returns (alice, bob, packets sent)."""
    def peer(identity: str) -> Any:
        info = participant("PA_" + identity, identity)
        info.client_protocol = protocol
        info.capabilities.append(m().ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW)
        return info

    alice, _, _ = await connected_room(others=[peer("bob")])
    bob, _, _ = await connected_room(others=[peer("alice")])
    sent: list[Any] = []

    def link(room: Any, other: Any, me: str) -> None:
        async def send_data(packet: Any, *, reliable: bool) -> None:
            assert reliable
            delivered = type(packet)()
            delivered.CopyFrom(packet)
            delivered.participant_identity = me
            sent.append(delivered)
            other._on_data_packet(delivered)

        room._engine.send_data = send_data

    link(alice, bob, "alice")
    link(bob, alice, "bob")
    return alice, bob, sent


async def test_v2_round_trip_carries_payloads_over_the_v1_limit_as_text_streams() -> None:
    alice, bob, sent = await linked_rooms()
    seen: list[RpcInvocationData] = []

    @bob.local_participant.register_rpc_method("echo")
    async def echo(data: RpcInvocationData) -> str:
        seen.append(data)
        return data.payload.upper()

    big = "x" * 40_000
    assert await alice.local_participant.perform_rpc(destination_identity="bob", method="echo", payload=big) == \
        big.upper()
    assert seen[0].caller_identity == "alice" and seen[0].payload == big and seen[0].response_timeout == 15.0
    by_sender = [(p.participant_identity, p.WhichOneof("value")) for p in sent]
    assert ("alice", "rpc_request") not in by_sender and ("bob", "rpc_response") not in by_sender
    topics = [(p.participant_identity, p.stream_header.topic) for p in sent if p.WhichOneof("value") == "stream_header"]
    assert topics == [("alice", "lk.rpc_request"), ("bob", "lk.rpc_response")]
    assert by_sender.index(("bob", "rpc_ack")) < by_sender.index(("bob", "stream_header"))  # acked first
    request = next(p.stream_header for p in sent if p.WhichOneof("value") == "stream_header")
    assert dict(request.attributes) == {
        "lk.rpc_request_id": seen[0].request_id, "lk.rpc_request_method": "echo",
        "lk.rpc_request_response_timeout_ms": "15000", "lk.rpc_request_version": "2"}
    await alice.disconnect()
    await bob.disconnect()


async def test_v2_errors_and_unknown_methods_come_back_as_packets() -> None:
    alice, bob, sent = await linked_rooms()

    @bob.local_participant.register_rpc_method("fail")
    def fail(data: RpcInvocationData) -> str:
        raise RpcError(2001, "custom failure", "d")

    for method, expected in (("fail", (2001, "custom failure", "d")), ("nope", (1400, "Method not supported at "
                                                                                  "destination", ""))):
        with pytest.raises(RpcError) as caught:
            await alice.local_participant.perform_rpc(destination_identity="bob", method=method, payload="p")
        assert (caught.value.code, caught.value.message, caught.value.data) == expected
    assert [p.WhichOneof("value") for p in sent if p.participant_identity == "bob"].count("rpc_response") == 2
    await alice.disconnect()
    await bob.disconnect()


async def test_a_peer_below_client_protocol_1_gets_v1_packets() -> None:
    alice, bob, sent = await linked_rooms(protocol=0)
    bob.local_participant.register_rpc_method("echo", lambda data: data.payload)
    assert await alice.local_participant.perform_rpc(destination_identity="bob", method="echo", payload="v1") == "v1"
    assert [p.WhichOneof("value") for p in sent] == ["rpc_request", "rpc_ack", "rpc_response"]
    with pytest.raises(RpcError) as caught:
        await alice.local_participant.perform_rpc(destination_identity="bob", method="echo", payload="x" * 15361)
    assert caught.value.code == 1402
    await alice.disconnect()
    await bob.disconnect()
