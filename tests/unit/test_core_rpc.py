"""The sans-IO RPC bookkeeping (_core/rpc.py) on CPython, time passed in: the packets each side sends, the
timeouts (ack 7 s, response from the moment the request left), version and method checks, size limits,
participants leaving and our own disconnect."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from livekit_pyweb._core import client_info, proto
from livekit_pyweb._core.rpc import (
    DEFAULT_MAX_ROUND_TRIP_LATENCY,
    DEFAULT_RESPONSE_TIMEOUT,
    ERROR_MESSAGES,
    MAX_PAYLOAD_BYTES,
    ErrorCode,
    Failure,
    Invocation,
    Outcome,
    TextStreamOut,
    RpcState,
    server_supports_rpc,
    truncate_utf8,
)


def m() -> Any:
    return proto.models()


def state(*methods: str) -> RpcState:
    return RpcState(lambda method: method in methods)


def from_peer(sender: str, **value: Any) -> Any:
    """A DataPacket as the server delivers it: the sender's identity filled in."""
    return m().DataPacket(kind=m().DataPacket.Kind.RELIABLE, participant_identity=sender, **value)


def request(sender: str, request_id: str = "r1", method: str = "greet", payload: str = "hi",
            timeout_ms: int = 10_000, version: int = 1) -> Any:
    return from_peer(sender, rpc_request=m().RpcRequest(id=request_id, method=method, payload=payload,
                                                        response_timeout_ms=timeout_ms, version=version))


def ack(sender: str, request_id: str) -> Any:
    return from_peer(sender, rpc_ack=m().RpcAck(request_id=request_id))


def response(sender: str, request_id: str, payload: str | None = None, error: Any = None) -> Any:
    if error is not None:
        return from_peer(sender, rpc_response=m().RpcResponse(request_id=request_id, error=error))
    return from_peer(sender, rpc_response=m().RpcResponse(request_id=request_id, payload=payload or ""))


def call(s: RpcState, now: float = 0.0, request_id: str = "c1", **kw: Any) -> Any:
    args: dict[str, Any] = {"destination": "bob", "method": "greet", "payload": "hello"} | kw
    return s.start_call(request_id=request_id, now=now, **args)


# -- caller ----------------------------------------------------------------------------------------------
def test_request_packet_carries_every_field() -> None:
    s = state()
    packet = call(s, response_timeout=10.0)
    assert packet.kind == m().DataPacket.Kind.RELIABLE
    assert list(packet.destination_identities) == ["bob"]
    assert packet.WhichOneof("value") == "rpc_request"
    req = packet.rpc_request
    assert (req.id, req.method, req.payload, req.response_timeout_ms, req.version) == ("c1", "greet", "hello",
                                                                                     10_000, 1)
    assert s.is_pending("c1") and s.outcomes() == []


def test_wire_timeout_is_at_least_the_round_trip_latency_plus_one_second() -> None:
    s = state()
    assert call(s, request_id="a", response_timeout=2.0).rpc_request.response_timeout_ms == 8_000
    assert call(s, request_id="b").rpc_request.response_timeout_ms == DEFAULT_RESPONSE_TIMEOUT * 1000
    packet = call(s, request_id="c", response_timeout=2.0, max_round_trip_latency=20.0)
    assert packet.rpc_request.response_timeout_ms == 21_000


def test_success_after_ack() -> None:
    s = state()
    call(s, now=0.0)
    s.sent("c1", 0.1)
    s.receive_packet(ack("bob", "c1"), 0.2)
    assert s.outcomes() == []
    s.receive_packet(response("bob", "c1", "hello bob"), 0.3)
    assert s.outcomes() == [Outcome("c1", payload="hello bob")]
    assert not s.is_pending("c1") and s.next_deadline() is None


def test_error_response_keeps_code_message_and_data() -> None:
    s = state()
    call(s)
    s.sent("c1", 0.0)
    s.receive_packet(ack("bob", "c1"), 0.1)
    s.receive_packet(response("bob", "c1", error=m().RpcError(code=42, message="nope", data='{"x": 1}')), 0.2)
    assert s.outcomes() == [Outcome("c1", error=Failure(42, "nope", '{"x": 1}'))]


def test_error_response_without_data_gives_empty_data_as_livekit_rtc() -> None:
    s = state()
    call(s)
    s.receive_packet(response("bob", "c1", error=m().RpcError(code=1500, message="boom")), 0.2)
    assert s.outcomes() == [Outcome("c1", error=Failure(1500, "boom", ""))]


def test_response_before_ack_settles_the_call() -> None:
    s = state()
    call(s)
    s.sent("c1", 0.0)
    s.receive_packet(response("bob", "c1", "early"), 0.1)
    assert s.outcomes() == [Outcome("c1", payload="early")]
    s.poll(100.0)
    assert s.outcomes() == []


def test_compressed_response_is_inflated() -> None:
    s = state()
    call(s)
    deflate = zlib.compressobj(wbits=-15)
    data = deflate.compress("zipped ✓".encode()) + deflate.flush()
    s.receive_packet(from_peer("bob", rpc_response=m().RpcResponse(request_id="c1", compressed_payload=data)), 0.1)
    assert s.outcomes() == [Outcome("c1", payload="zipped ✓")]


def test_no_ack_within_the_round_trip_latency_is_connection_timeout() -> None:
    s = state()
    call(s, now=10.0)
    s.sent("c1", 10.5)
    assert s.next_deadline() == 10.0 + DEFAULT_MAX_ROUND_TRIP_LATENCY
    s.poll(16.9)
    assert s.outcomes() == []
    s.poll(17.0)
    assert s.outcomes() == [Outcome("c1", error=Failure.built_in(ErrorCode.CONNECTION_TIMEOUT))]
    assert s.next_deadline() is None


def test_custom_round_trip_latency_moves_the_ack_deadline() -> None:
    s = state()
    call(s, now=0.0, max_round_trip_latency=2.0)
    assert s.next_deadline() == 2.0


def test_response_timeout_counts_from_the_send() -> None:
    s = state()
    call(s, now=0.0, response_timeout=10.0)
    s.sent("c1", 3.0)  # a slow send: the response deadline starts here, the ack deadline did not wait
    s.receive_packet(ack("bob", "c1"), 3.1)
    assert s.next_deadline() == 13.0
    s.poll(12.9)
    assert s.outcomes() == []
    s.poll(13.0)
    assert s.outcomes() == [Outcome("c1", error=Failure.built_in(ErrorCode.RESPONSE_TIMEOUT))]
    s.receive_packet(response("bob", "c1", "late"), 14.0)  # too late: dropped
    assert s.outcomes() == []


def test_short_response_timeout_can_fire_before_the_ack_timeout() -> None:
    s = state()
    call(s, now=0.0, response_timeout=1.0)
    s.sent("c1", 0.0)
    assert s.next_deadline() == 1.0
    s.poll(1.0)
    assert s.outcomes() == [Outcome("c1", error=Failure.built_in(ErrorCode.RESPONSE_TIMEOUT))]


def test_ack_and_response_from_someone_else_are_ignored() -> None:
    s = state()
    call(s)
    s.receive_packet(ack("mallory", "c1"), 0.1)
    s.receive_packet(response("mallory", "c1", "forged"), 0.1)
    assert s.outcomes() == [] and s.is_pending("c1")
    s.poll(DEFAULT_MAX_ROUND_TRIP_LATENCY)
    assert s.outcomes()[0].error == Failure.built_in(ErrorCode.CONNECTION_TIMEOUT)


def test_unknown_ack_and_response_are_dropped_quietly() -> None:
    s = state()
    s.receive_packet(ack("bob", "nope"), 0.0)
    s.receive_packet(response("bob", "nope", "x"), 0.0)
    assert s.outcomes() == [] and s.packets_to_send() == []


def test_oversized_request_is_refused_before_sending() -> None:
    s = state()
    assert call(s, payload="x" * MAX_PAYLOAD_BYTES).rpc_request.payload == "x" * MAX_PAYLOAD_BYTES
    refused = call(s, request_id="c2", payload="é" * (MAX_PAYLOAD_BYTES // 2 + 1))  # 2 bytes each
    assert refused == Failure.built_in(ErrorCode.REQUEST_PAYLOAD_TOO_LARGE)
    assert not s.is_pending("c2")


@pytest.mark.parametrize(("version", "ok"), [("1.13.5", True), ("1.8.0", True), ("1.7.9", False), ("0.15.1", False),
                                              ("v1.9", True), ("", True), ("dev", True)])
def test_server_version_gate(version: str, ok: bool) -> None:
    assert server_supports_rpc(version) is ok
    refused = call(state(), server_version=version)
    assert (refused == Failure.built_in(ErrorCode.UNSUPPORTED_SERVER)) is (not ok)


def test_bad_timeouts_are_value_errors() -> None:
    with pytest.raises(ValueError, match="response_timeout"):
        call(state(), response_timeout=0)
    with pytest.raises(ValueError, match="max_round_trip_latency"):
        call(state(), max_round_trip_latency=float("nan"))


def test_send_failed_forgets_the_call() -> None:
    s = state()
    call(s)
    s.send_failed("c1")
    assert not s.is_pending("c1") and s.next_deadline() is None
    s.poll(100.0)
    assert s.outcomes() == []


def test_recipient_leaving_fails_only_its_calls() -> None:
    s = state()
    call(s, request_id="to-bob")
    call(s, request_id="to-carol", destination="carol")
    s.participant_left("bob")
    assert s.outcomes() == [Outcome("to-bob", error=Failure.built_in(ErrorCode.RECIPIENT_DISCONNECTED))]
    assert s.is_pending("to-carol")


def test_close_fails_every_pending_call_and_stops_everything() -> None:
    s = state("greet")
    call(s, request_id="a")
    call(s, request_id="b", destination="carol")
    s.receive_packet(request("dave"), 0.0)
    s.close()
    assert {o.request_id for o in s.outcomes()} == {"a", "b"}
    assert s.packets_to_send() == []
    assert s.next_deadline() is None
    s.receive_packet(request("dave", request_id="r2"), 1.0)
    assert s.packets_to_send() == [] and s.invocations() == []
    assert call(s, request_id="c") == Failure.built_in(ErrorCode.SEND_FAILED, "the room is disconnected")


# -- callee ----------------------------------------------------------------------------------------------
def kinds(packets: list[Any]) -> list[str]:
    return [p.WhichOneof("value") for p in packets]


def test_request_is_acked_then_invoked() -> None:
    s = state("greet")
    s.receive_packet(request("alice", payload="hi ✓"), 5.0)
    sent = s.packets_to_send()
    assert kinds(sent) == ["rpc_ack"]
    assert sent[0].rpc_ack.request_id == "r1" and list(sent[0].destination_identities) == ["alice"]
    assert sent[0].kind == m().DataPacket.Kind.RELIABLE
    assert s.invocations() == [Invocation("r1", "alice", "greet", "hi ✓", 10.0)]
    assert s.next_deadline() == 15.0
    s.finish_invocation("r1", payload="hello alice")
    sent = s.packets_to_send()
    assert kinds(sent) == ["rpc_response"]
    assert (sent[0].rpc_response.request_id, sent[0].rpc_response.payload) == ("r1", "hello alice")
    assert list(sent[0].destination_identities) == ["alice"]
    assert s.next_deadline() is None


def test_none_result_is_an_empty_payload() -> None:
    s = state("greet")
    s.receive_packet(request("alice"), 0.0)
    s.packets_to_send()
    s.finish_invocation("r1", payload=None)
    resp = s.packets_to_send()[0].rpc_response
    assert resp.WhichOneof("value") == "payload" and resp.payload == ""


def test_unknown_method_is_acked_and_refused() -> None:
    s = state("greet")
    s.receive_packet(request("alice", method="other"), 0.0)
    sent = s.packets_to_send()
    assert kinds(sent) == ["rpc_ack", "rpc_response"]
    err = sent[1].rpc_response.error
    assert (err.code, err.message) == (1400, "Method not supported at destination")
    assert s.invocations() == []


def test_other_version_is_acked_and_refused() -> None:
    s = state("greet")
    s.receive_packet(request("alice", version=2), 0.0)
    sent = s.packets_to_send()
    assert kinds(sent) == ["rpc_ack", "rpc_response"]
    assert sent[1].rpc_response.error.code == ErrorCode.UNSUPPORTED_VERSION == 1404
    assert s.invocations() == []


def test_compressed_request_is_inflated() -> None:
    s = state("greet")
    deflate = zlib.compressobj(wbits=-15)
    data = deflate.compress(b"packed") + deflate.flush()
    s.receive_packet(from_peer("alice", rpc_request=m().RpcRequest(
        id="r1", method="greet", compressed_payload=data, response_timeout_ms=8000, version=1)), 0.0)
    assert s.invocations()[0].payload == "packed"


def test_handler_error_travels_with_message_and_data_cut_to_the_limits() -> None:
    s = state("greet")
    s.receive_packet(request("alice"), 0.0)
    s.packets_to_send()
    s.finish_invocation("r1", error=Failure(2001, "m" * 300, "d" * 20_000))
    err = s.packets_to_send()[0].rpc_response.error
    assert (err.code, len(err.message), len(err.data)) == (2001, 256, 15360)


def test_error_without_data_sends_no_data() -> None:
    s = state("greet")
    s.receive_packet(request("alice"), 0.0)
    s.packets_to_send()
    s.finish_invocation("r1", error=Failure.built_in(ErrorCode.APPLICATION_ERROR))
    err = s.packets_to_send()[0].rpc_response.error
    assert (err.code, err.message, err.data) == (1500, "Application error in method handler", "")


def test_oversized_result_becomes_response_payload_too_large() -> None:
    s = state("greet")
    s.receive_packet(request("alice"), 0.0)
    s.packets_to_send()
    s.finish_invocation("r1", payload="y" * (MAX_PAYLOAD_BYTES + 1))
    assert s.packets_to_send()[0].rpc_response.error.code == ErrorCode.RESPONSE_PAYLOAD_TOO_LARGE


def test_handler_past_its_deadline_is_answered_response_timeout_once() -> None:
    s = state("greet")
    s.receive_packet(request("alice", timeout_ms=8000), 1.0)
    s.packets_to_send()
    s.invocations()
    s.poll(8.9)
    assert s.expired_invocations() == [] and s.packets_to_send() == []
    s.poll(9.0)
    assert s.expired_invocations() == ["r1"]
    sent = s.packets_to_send()
    assert kinds(sent) == ["rpc_response"] and sent[0].rpc_response.error.code == ErrorCode.RESPONSE_TIMEOUT
    s.finish_invocation("r1", payload="too late")  # the cancelled chain ends: nothing more is sent
    assert s.packets_to_send() == [] and s.next_deadline() is None


def test_duplicate_request_is_acked_but_not_run_twice() -> None:
    s = state("greet")
    s.receive_packet(request("alice"), 0.0)
    s.receive_packet(request("alice"), 0.1)
    assert kinds(s.packets_to_send()) == ["rpc_ack", "rpc_ack"]
    assert len(s.invocations()) == 1


def test_request_without_id_is_dropped() -> None:
    s = state("greet")
    s.receive_packet(request("alice", request_id=""), 0.0)
    assert s.packets_to_send() == [] and s.invocations() == []


# -- helpers and facts -----------------------------------------------------------------------------------
def test_truncate_never_splits_a_character() -> None:
    assert truncate_utf8("abc", 3) == "abc"
    assert truncate_utf8("aé", 2) == "a"
    assert truncate_utf8("a😀b", 4) == "a"
    assert truncate_utf8("a😀b", 5) == "a😀"


def test_built_in_codes_and_messages_match_livekit_rtc() -> None:
    from livekit.rtc import RpcError as Official

    assert {c.name: c.value for c in ErrorCode} == {c.name: c.value for c in Official.ErrorCode}
    assert {c.name: msg for c, msg in ERROR_MESSAGES.items()} == {
        c.name: msg for c, msg in Official.ErrorMessage.items()}


def test_we_announce_the_client_protocol_of_livekit_client_2_23() -> None:
    """client_protocol >= 1 makes peers speak RPC v2 with us (text streams), >= 2 data streams v2: both spoken."""
    assert client_info.CLIENT_PROTOCOL == 2


# -- v2: requests and successful responses as text streams, with participants announcing client_protocol >= 1 ------
def v2_state(*methods: str, protocols: dict[str, int] | None = None) -> RpcState:
    known = {"bob": 2, "alice": 2} if protocols is None else protocols
    return RpcState(lambda method: method in methods, lambda identity: known.get(identity, 0))


def v2_attrs(request_id: str = "r1", method: str = "greet", timeout_ms: str = "10000",
             version: str = "2") -> dict[str, str]:
    return {"lk.rpc_request_id": request_id, "lk.rpc_request_method": method,
            "lk.rpc_request_response_timeout_ms": timeout_ms, "lk.rpc_request_version": version}


def test_v2_request_to_a_client_protocol_1_peer_is_a_text_stream_without_size_limit() -> None:
    s = v2_state()
    big = "x" * (MAX_PAYLOAD_BYTES * 3)
    out = call(s, payload=big, response_timeout=10.0)
    assert out == TextStreamOut("bob", "lk.rpc_request", big, {
        "lk.rpc_request_id": "c1", "lk.rpc_request_method": "greet", "lk.rpc_request_response_timeout_ms": "10000",
        "lk.rpc_request_version": "2"})
    s.sent("c1", 0.0)
    s.receive_packet(ack("bob", "c1"), 0.1)
    s.receive_response_stream("bob", {"lk.rpc_request_id": "c1"}, "y" * 50_000)
    assert s.outcomes() == [Outcome("c1", payload="y" * 50_000)]
    # to a v1 peer the same call is a packet, and refused when too large
    assert call(s, request_id="c2", destination="carol").WhichOneof("value") == "rpc_request"
    assert call(s, request_id="c3", destination="carol", payload=big) == Failure.built_in(
        ErrorCode.REQUEST_PAYLOAD_TOO_LARGE)


def test_v2_errors_still_arrive_as_packets_and_bad_response_streams_are_handled() -> None:
    s = v2_state()
    call(s)
    s.receive_packet(response("bob", "c1", error=m().RpcError(code=1400, message="nope")), 0.1)
    assert s.outcomes()[0].error == Failure(1400, "nope", "")
    call(s, request_id="c2")
    s.receive_response_stream("mallory", {"lk.rpc_request_id": "c2"}, "forged")  # another sender: ignored
    s.receive_response_stream("bob", {}, "no id")  # no request id: ignored
    assert s.outcomes() == []
    s.receive_response_stream("bob", {"lk.rpc_request_id": "c2"}, None)  # unreadable
    assert s.outcomes() == [Outcome("c2", error=Failure.built_in(ErrorCode.APPLICATION_ERROR,
                                                                 "Error reading RPC response payload"))]


def test_v2_request_stream_is_acked_before_its_text_then_invoked_and_answered_by_stream() -> None:
    s = v2_state("greet")
    assert s.receive_request_stream("alice", v2_attrs(timeout_ms="12000"), 1.0) == "r1"
    assert kinds(s.packets_to_send()) == ["rpc_ack"] and s.invocations() == []
    s.receive_request_text("r1", "z" * 40_000, 1.5)
    assert s.invocations() == [Invocation("r1", "alice", "greet", "z" * 40_000, 12.0)]
    assert s.next_deadline() == 13.5
    s.finish_invocation("r1", payload="w" * 40_000)
    assert s.packets_to_send() == [TextStreamOut("alice", "lk.rpc_response", "w" * 40_000,
                                                 {"lk.rpc_request_id": "r1"})]


def test_v2_caller_errors_are_packets_and_v1_callers_keep_the_size_limit() -> None:
    s = v2_state("greet", protocols={"alice": 1})
    s.receive_request_stream("alice", v2_attrs(), 0.0)
    s.receive_request_text("r1", "p", 0.0)
    s.packets_to_send()
    s.finish_invocation("r1", error=Failure(2001, "custom", "d"))
    (packet,) = s.packets_to_send()
    assert packet.rpc_response.error.code == 2001
    s.receive_packet(request("carol", request_id="r2"), 0.0)  # a v1 caller
    s.packets_to_send()
    s.finish_invocation("r2", payload="y" * (MAX_PAYLOAD_BYTES + 1))
    assert s.packets_to_send()[0].rpc_response.error.code == ErrorCode.RESPONSE_PAYLOAD_TOO_LARGE


@pytest.mark.parametrize(("attrs", "answered"), [
    ({"lk.rpc_request_id": "r1"}, True),  # method, timeout and version missing: answered with the id it has
    (v2_attrs(timeout_ms="soon"), True),
    ({"lk.rpc_request_method": "greet"}, False),  # no id: nothing to answer
])
def test_v2_malformed_request_stream_is_application_error(attrs: dict[str, str], answered: bool) -> None:
    s = v2_state("greet")
    assert s.receive_request_stream("alice", attrs, 0.0) is None
    sent = s.packets_to_send()
    if answered:
        assert kinds(sent) == ["rpc_response"]
        assert (sent[0].rpc_response.error.code, sent[0].rpc_response.error.message) == (
            1500, "Application error in method handler")
        assert sent[0].rpc_response.error.data == "RPC data stream malformed"
    else:
        assert sent == []


def test_v2_other_version_unknown_method_and_unreadable_text() -> None:
    s = v2_state("greet")
    assert s.receive_request_stream("alice", v2_attrs(version="3"), 0.0) is None
    sent = s.packets_to_send()
    assert kinds(sent) == ["rpc_ack", "rpc_response"] and sent[1].rpc_response.error.code == 1404
    assert s.receive_request_stream("alice", v2_attrs("r2", method="other"), 0.0) == "r2"
    s.receive_request_text("r2", "x", 0.0)
    assert s.packets_to_send()[-1].rpc_response.error.code == 1400
    assert s.receive_request_stream("alice", v2_attrs("r3"), 0.0) == "r3"
    s.receive_request_text("r3", None, 0.0)
    err = s.packets_to_send()[-1].rpc_response.error
    assert (err.code, err.data) == (1500, "Error reading RPC request payload")
    assert s.invocations() == []
