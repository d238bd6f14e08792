"""RPC between participants, sans-IO: the caller's pending calls and the callee's invocations (time passed in,
in seconds).

The protocol, as livekit-client 2.23 (``RpcClientManager`` / ``RpcServerManager``) and livekit.rtc 1.2 speak it
over reliable data packets ("RPC v1"):

* The caller sends ``DataPacket{destination_identities: [callee], rpc_request: RpcRequest{id (a UUID), method,
  payload, response_timeout_ms, version: 1}}``. ``response_timeout_ms`` on the wire is the caller's response
  timeout but at least the maximum round-trip latency + 1 s (8 s by default). Payloads over 15 360 UTF-8 bytes are
  refused before sending (``REQUEST_PAYLOAD_TOO_LARGE``); servers older than 1.8.0 do not forward RPC
  (``UNSUPPORTED_SERVER``).
* The callee answers every request at once with ``rpc_ack{request_id}``, then with one ``rpc_response{request_id,
  payload | error: RpcError{code, message, data}}``: ``UNSUPPORTED_VERSION`` for a version other than 1,
  ``UNSUPPORTED_METHOD`` for a method nobody handles, the handler's own error, ``APPLICATION_ERROR`` for any other
  failure, ``RESPONSE_PAYLOAD_TOO_LARGE`` instead of a result over 15 360 bytes. An error's message is cut to 256
  bytes and its data to 15 360 (UTF-8, on a character boundary).
* The caller fails a call with ``CONNECTION_TIMEOUT`` when no ack arrived within the maximum round-trip latency
  (7 s), with ``RESPONSE_TIMEOUT`` when no response arrived within the response timeout counted from the moment the
  request was handed to the data channel, and with ``RECIPIENT_DISCONNECTED`` when the callee leaves the room.
  A response that arrives before its ack settles the call (the ack is then no longer awaited).
* As livekit.rtc 1.2, the callee gives its handler until the request's ``response_timeout_ms``; a handler still
  running then is cancelled and the caller told ``RESPONSE_TIMEOUT`` at once (not after the handler unwinds).

"RPC v2" (livekit-client 2.23, livekit.rtc 1.2), with a participant announcing ``ClientInfo.client_protocol`` >= 1:
the request travels as a text stream on topic ``lk.rpc_request`` with attributes ``lk.rpc_request_id``,
``lk.rpc_request_method``, ``lk.rpc_request_response_timeout_ms`` and ``lk.rpc_request_version`` (2), of any size;
the callee acks on the stream's header (before reading its text) and answers a successful call with a text stream on
``lk.rpc_response`` (attribute ``lk.rpc_request_id``) when the caller announces >= 1 too; acks and errors stay
packets. A malformed request stream is answered ``APPLICATION_ERROR`` with data ``RPC data stream malformed``.
Which version goes to whom is decided here from ``client_protocol_of(identity)``; a deflate-compressed
``compressed_payload`` a peer sends is inflated.

Use: :class:`RpcState` holds both sides. Feed it with :meth:`RpcState.start_call` / :meth:`RpcState.sent` /
:meth:`RpcState.receive_packet` / :meth:`RpcState.participant_left` / :meth:`RpcState.finish_invocation` /
:meth:`RpcState.close`, call :meth:`RpcState.poll` at :meth:`RpcState.next_deadline`, and collect what happened
with :meth:`RpcState.packets_to_send`, :meth:`RpcState.outcomes`, :meth:`RpcState.invocations` and
:meth:`RpcState.expired_invocations`.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import re
import zlib
from collections.abc import Callable
from typing import Any

from . import proto

logger = logging.getLogger("livekit_pyweb.rpc")

RPC_VERSION = 1
"""The RPC version of ``RpcRequest.version`` we send and accept (v1: request and response in data packets)."""
RPC_VERSION_STREAMS = 2
"""The RPC version of a request sent as a text stream (v2), in its ``lk.rpc_request_version`` attribute."""
CLIENT_PROTOCOL_DATA_STREAM_RPC = 1
"""A participant announcing ``client_protocol`` at least this gets (and sends) requests and successful responses as
text streams (livekit-client ``CLIENT_PROTOCOL_DATA_STREAM_RPC``)."""
REQUEST_TOPIC = "lk.rpc_request"
"""The text-stream topic of a v2 request."""
RESPONSE_TOPIC = "lk.rpc_response"
"""The text-stream topic of a v2 successful response."""
ATTR_REQUEST_ID = "lk.rpc_request_id"
ATTR_METHOD = "lk.rpc_request_method"
ATTR_RESPONSE_TIMEOUT_MS = "lk.rpc_request_response_timeout_ms"
ATTR_VERSION = "lk.rpc_request_version"
MAX_PAYLOAD_BYTES = 15360
"""UTF-8 bytes of a v1 request or response payload (livekit-client ``MAX_V1_PAYLOAD_BYTES``)."""
MAX_MESSAGE_BYTES = 256
"""UTF-8 bytes of an error's message on the wire (livekit-client ``RpcError.MAX_MESSAGE_BYTES``)."""
MAX_DATA_BYTES = 15360
"""UTF-8 bytes of an error's data on the wire (livekit-client ``RpcError.MAX_DATA_BYTES``)."""
DEFAULT_RESPONSE_TIMEOUT = 15.0
"""Seconds a caller waits for the response by default (livekit-client 15 000 ms)."""
DEFAULT_MAX_ROUND_TRIP_LATENCY = 7.0
"""Seconds a caller waits for the ack by default (livekit-client 7 000 ms, livekit.rtc ``max_round_trip_latency``)."""
MIN_SERVER_VERSION = (1, 8, 0)
"""The first livekit-server that forwards RPC packets."""


class ErrorCode(enum.IntEnum):
    """The built-in RPC error codes (livekit.rtc ``RpcError.ErrorCode``, livekit-client ``RpcError.ErrorCode``)."""

    APPLICATION_ERROR = 1500
    CONNECTION_TIMEOUT = 1501
    RESPONSE_TIMEOUT = 1502
    RECIPIENT_DISCONNECTED = 1503
    RESPONSE_PAYLOAD_TOO_LARGE = 1504
    SEND_FAILED = 1505

    UNSUPPORTED_METHOD = 1400
    RECIPIENT_NOT_FOUND = 1401
    REQUEST_PAYLOAD_TOO_LARGE = 1402
    UNSUPPORTED_SERVER = 1403
    UNSUPPORTED_VERSION = 1404


ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.APPLICATION_ERROR: "Application error in method handler",
    ErrorCode.CONNECTION_TIMEOUT: "Connection timeout",
    ErrorCode.RESPONSE_TIMEOUT: "Response timeout",
    ErrorCode.RECIPIENT_DISCONNECTED: "Recipient disconnected",
    ErrorCode.RESPONSE_PAYLOAD_TOO_LARGE: "Response payload too large",
    ErrorCode.SEND_FAILED: "Failed to send",
    ErrorCode.UNSUPPORTED_METHOD: "Method not supported at destination",
    ErrorCode.RECIPIENT_NOT_FOUND: "Recipient not found",
    ErrorCode.REQUEST_PAYLOAD_TOO_LARGE: "Request payload too large",
    ErrorCode.UNSUPPORTED_SERVER: "RPC not supported by server",
    ErrorCode.UNSUPPORTED_VERSION: "Unsupported RPC version",
}
"""The message each built-in code carries (the same text as livekit-client and livekit.rtc)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """An RPC error as it travels: ``code``, ``message``, ``data`` (``RpcError`` on the wire)."""

    code: int
    message: str
    data: str | None = None

    @classmethod
    def built_in(cls, code: ErrorCode, data: str | None = None) -> Failure:
        return cls(int(code), ERROR_MESSAGES[code], data)


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character (livekit-client ``truncateBytes``)."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")


def server_supports_rpc(server_version: str) -> bool:
    """Whether a livekit-server of this version forwards RPC (unknown or unparsable versions are given the benefit
    of the doubt, as livekit-client does when the server does not say)."""
    match = re.match(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", server_version.strip())
    if match is None:
        return True
    found = tuple(int(g) if g else 0 for g in match.groups())
    return found >= MIN_SERVER_VERSION


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """How a call ended: ``payload`` (success) or ``error``."""

    request_id: str
    payload: str | None = None
    error: Failure | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TextStreamOut:
    """A text stream to send reliably to ``destination`` (an RPC v2 request or successful response)."""

    destination: str
    topic: str
    text: str
    attributes: dict[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Invocation:
    """A request to run a handler: what livekit.rtc passes as ``RpcInvocationData`` (``response_timeout`` in
    seconds, as the caller put it on the wire)."""

    request_id: str
    caller_identity: str
    method: str
    payload: str
    response_timeout: float


@dataclasses.dataclass(slots=True)
class _Call:
    destination: str
    response_timeout: float
    ack_deadline: float
    response_deadline: float | None = None
    acked: bool = False


@dataclasses.dataclass(slots=True)
class _Reading:
    caller: str
    method: str
    timeout: float


@dataclasses.dataclass(slots=True)
class _Running:
    caller: str
    deadline: float
    expired: bool = False


def _inflate(data: bytes) -> str:
    """A ``compressed_payload``: raw deflate (livekit's ``CAP_COMPRESSION_DEFLATE_RAW``) of UTF-8 text."""
    return zlib.decompress(data, wbits=-15).decode("utf-8")


class RpcState:
    """Both sides of RPC for one connected local participant (see the module docstring).

    ``has_handler(method)`` says whether a call of ``method`` reaches application code (a handler, or interceptors
    that may answer it): when it does not, the request is answered ``UNSUPPORTED_METHOD`` here.
    """

    def __init__(self, has_handler: Callable[[str], bool],
                 client_protocol_of: Callable[[str], int] = lambda identity: 0) -> None:
        self._has_handler = has_handler
        self._client_protocol_of = client_protocol_of
        self._calls: dict[str, _Call] = {}
        self._reading: dict[str, _Reading] = {}
        self._running: dict[str, _Running] = {}
        self._to_send: list[Any] = []
        self._outcomes: list[Outcome] = []
        self._invocations: list[Invocation] = []
        self._expired: list[str] = []
        self._closed = False

    # -- caller ------------------------------------------------------------------------------------------
    def start_call(
        self,
        *,
        request_id: str,
        destination: str,
        method: str,
        payload: str,
        now: float,
        response_timeout: float | None = None,
        max_round_trip_latency: float | None = None,
        server_version: str = "",
    ) -> Any:
        """Register a call and return what to send (reliably) for it: the ``DataPacket`` (v1), or, to a participant
        announcing client_protocol >= 1, a :class:`TextStreamOut` (v2, no size limit); or a :class:`Failure` when
        the call cannot be made (nothing is then pending). The ack deadline starts now; the response deadline
        starts with :meth:`sent`."""
        if self._closed:
            return Failure.built_in(ErrorCode.SEND_FAILED, "the room is disconnected")
        streams = self._client_protocol_of(destination) >= CLIENT_PROTOCOL_DATA_STREAM_RPC
        if not streams and utf8_length(payload) > MAX_PAYLOAD_BYTES:
            return Failure.built_in(ErrorCode.REQUEST_PAYLOAD_TOO_LARGE)
        if server_version and not server_supports_rpc(server_version):
            return Failure.built_in(ErrorCode.UNSUPPORTED_SERVER)
        if request_id in self._calls:
            raise ValueError(f"RPC request id {request_id!r} is already pending")
        timeout = DEFAULT_RESPONSE_TIMEOUT if response_timeout is None else float(response_timeout)
        latency = DEFAULT_MAX_ROUND_TRIP_LATENCY if max_round_trip_latency is None else float(max_round_trip_latency)
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"response_timeout must be a positive number of seconds, not {response_timeout!r}")
        if not (latency > 0 and math.isfinite(latency)):
            raise ValueError(
                f"max_round_trip_latency must be a positive number of seconds, not {max_round_trip_latency!r}")
        wire_timeout_ms = round(max(timeout, latency + 1.0) * 1000)
        self._calls[request_id] = _Call(destination, timeout, ack_deadline=now + latency)
        if streams:
            return TextStreamOut(destination, REQUEST_TOPIC, payload, {
                ATTR_REQUEST_ID: request_id, ATTR_METHOD: method, ATTR_RESPONSE_TIMEOUT_MS: str(wire_timeout_ms),
                ATTR_VERSION: str(RPC_VERSION_STREAMS)})
        m = proto.models()
        return m.DataPacket(
            kind=m.DataPacket.Kind.RELIABLE,
            destination_identities=[destination],
            rpc_request=m.RpcRequest(id=request_id, method=method, payload=payload,
                                     response_timeout_ms=wire_timeout_ms, version=RPC_VERSION),
        )

    def sent(self, request_id: str, now: float) -> None:
        """The request was handed to the data channel: the response deadline starts (if the call still waits)."""
        call = self._calls.get(request_id)
        if call is not None and call.response_deadline is None:
            call.response_deadline = now + call.response_timeout

    def send_failed(self, request_id: str) -> None:
        """The request could not be sent: forget the call (its caller gets the send error itself)."""
        self._calls.pop(request_id, None)

    def is_pending(self, request_id: str) -> bool:
        return request_id in self._calls

    def participant_left(self, identity: str) -> None:
        """``identity`` left the room: every call to it fails with ``RECIPIENT_DISCONNECTED``."""
        for request_id, call in list(self._calls.items()):
            if call.destination == identity:
                self._settle(request_id, error=Failure.built_in(ErrorCode.RECIPIENT_DISCONNECTED))

    def _settle(self, request_id: str, payload: str | None = None, error: Failure | None = None) -> None:
        del self._calls[request_id]
        self._outcomes.append(Outcome(request_id, payload, error))

    # -- both: packets in --------------------------------------------------------------------------------
    def receive_packet(self, packet: Any, now: float) -> None:
        """A ``DataPacket`` carrying ``rpc_request``, ``rpc_ack`` or ``rpc_response`` (others are ignored). Never
        raises: a malformed or unexpected packet is logged (debug) and dropped."""
        if self._closed:
            return
        kind = packet.WhichOneof("value")
        sender = str(packet.participant_identity)
        if kind == "rpc_request":
            self._receive_request(sender, packet.rpc_request, now)
        elif kind == "rpc_ack":
            self._receive_ack(sender, str(packet.rpc_ack.request_id))
        elif kind == "rpc_response":
            self._receive_response(sender, packet.rpc_response)
        else:
            logger.debug("not an RPC packet: %s", kind)

    def _known_call(self, request_id: str, sender: str, what: str) -> _Call | None:
        call = self._calls.get(request_id)
        if call is None:
            logger.debug("RPC %s for a request that is not pending (%s), from %s", what, request_id, sender)
            return None
        if sender and call.destination != sender:
            logger.debug("RPC %s for %s from %s, but it was sent to %s: ignored", what, request_id, sender,
                         call.destination)
            return None
        return call

    def _receive_ack(self, sender: str, request_id: str) -> None:
        call = self._known_call(request_id, sender, "ack")
        if call is not None:
            call.acked = True

    def _receive_response(self, sender: str, response: Any) -> None:
        request_id = str(response.request_id)
        if self._known_call(request_id, sender, "response") is None:
            return
        which = response.WhichOneof("value")
        if which == "error":
            err = response.error
            # no presence on the wire: an error sent without data arrives with data "" (as livekit.rtc shows it)
            self._settle(request_id, error=Failure(int(err.code), str(err.message), str(err.data)))
        elif which == "compressed_payload":
            try:
                self._settle(request_id, payload=_inflate(bytes(response.compressed_payload)))
            except (zlib.error, UnicodeDecodeError) as exc:
                self._settle(request_id, error=Failure.built_in(ErrorCode.APPLICATION_ERROR,
                                                                f"undecodable compressed response: {exc}"))
        else:  # "payload", or nothing set: an empty result
            self._settle(request_id, payload=str(response.payload))

    def receive_response_stream(self, sender: str, attributes: dict[str, str], payload: str | None) -> None:
        """A v2 successful response: the text of an ``lk.rpc_response`` stream from ``sender`` (None: it could not
        be read), whose attributes name the request."""
        if self._closed:
            return
        request_id = attributes.get(ATTR_REQUEST_ID, "")
        if not request_id:
            logger.debug("RPC response stream from %s without %s: dropped", sender, ATTR_REQUEST_ID)
            return
        if self._known_call(request_id, sender, "response stream") is None:
            return
        if payload is None:
            self._settle(request_id, error=Failure.built_in(ErrorCode.APPLICATION_ERROR,
                                                            "Error reading RPC response payload"))
        else:
            self._settle(request_id, payload=payload)

    # -- callee ------------------------------------------------------------------------------------------
    def receive_request_stream(self, caller: str, attributes: dict[str, str], now: float) -> str | None:
        """A v2 request opened (an ``lk.rpc_request`` text stream from ``caller``): acked at once, as livekit-client
        does, before its text is read. Returns the request id whose text to read and pass to
        :meth:`receive_request_text`, or None when it is answered already (malformed, other version) or dropped."""
        if self._closed:
            return None
        request_id = attributes.get(ATTR_REQUEST_ID, "")
        method = attributes.get(ATTR_METHOD, "")
        try:
            timeout_ms = int(attributes.get(ATTR_RESPONSE_TIMEOUT_MS, ""))
            version = int(attributes.get(ATTR_VERSION, ""))
        except ValueError:
            timeout_ms = version = -1
        if not request_id or not method or timeout_ms < 0 or version < 0:
            logger.debug("malformed RPC request stream from %s: %s", caller, attributes)
            if request_id:
                self._respond(caller, request_id, error=Failure.built_in(ErrorCode.APPLICATION_ERROR,
                                                                         "RPC data stream malformed"))
            return None
        self._send(caller, rpc_ack=proto.models().RpcAck(request_id=request_id))
        if version != RPC_VERSION_STREAMS:
            self._respond(caller, request_id, error=Failure.built_in(ErrorCode.UNSUPPORTED_VERSION))
            return None
        if request_id in self._running or request_id in self._reading:
            logger.debug("RPC request %s from %s is already running: duplicate dropped", request_id, caller)
            return None
        self._reading[request_id] = _Reading(caller, method, timeout_ms / 1000.0)
        return request_id

    def receive_request_text(self, request_id: str, payload: str | None, now: float) -> None:
        """The text of a v2 request (None: it could not be read, answered ``APPLICATION_ERROR``)."""
        reading = self._reading.pop(request_id, None)
        if reading is None or self._closed:
            return
        if payload is None:
            self._respond(reading.caller, request_id, error=Failure.built_in(
                ErrorCode.APPLICATION_ERROR, "Error reading RPC request payload"))
            return
        self._dispatch(reading.caller, request_id, reading.method, payload, reading.timeout, now)

    def _receive_request(self, caller: str, request: Any, now: float) -> None:
        request_id = str(request.id)
        if not request_id:
            logger.debug("RPC request without an id from %s: dropped", caller)
            return
        self._send(caller, rpc_ack=proto.models().RpcAck(request_id=request_id))
        if int(request.version) != RPC_VERSION:
            self._respond(caller, request_id, error=Failure.built_in(ErrorCode.UNSUPPORTED_VERSION))
            return
        if request.compressed_payload:
            try:
                payload = _inflate(bytes(request.compressed_payload))
            except (zlib.error, UnicodeDecodeError):
                self._respond(caller, request_id, error=Failure.built_in(
                    ErrorCode.APPLICATION_ERROR, "undecodable compressed request payload"))
                return
        else:
            payload = str(request.payload)
        if request_id in self._running or request_id in self._reading:
            logger.debug("RPC request %s from %s is already running: duplicate dropped", request_id, caller)
            return
        self._dispatch(caller, request_id, str(request.method), payload, int(request.response_timeout_ms) / 1000.0,
                       now)

    def _dispatch(self, caller: str, request_id: str, method: str, payload: str, timeout: float,
                  now: float) -> None:
        if not self._has_handler(method):
            self._respond(caller, request_id, error=Failure.built_in(ErrorCode.UNSUPPORTED_METHOD))
            return
        self._running[request_id] = _Running(caller, now + timeout)
        self._invocations.append(Invocation(request_id, caller, method, payload, timeout))

    def finish_invocation(self, request_id: str, payload: str | None = None, error: Failure | None = None) -> None:
        """The handler chain of an invocation ended with ``payload`` or ``error``: answer the caller. An invocation
        whose deadline passed was answered ``RESPONSE_TIMEOUT`` then; how it ends is not sent."""
        running = self._running.pop(request_id, None)
        if running is None or running.expired:  # answered RESPONSE_TIMEOUT when the deadline passed
            return
        if error is None and self._client_protocol_of(running.caller) >= CLIENT_PROTOCOL_DATA_STREAM_RPC:
            # v2 caller: a successful response travels as a text stream, of any size (errors stay packets)
            self._to_send.append(TextStreamOut(running.caller, RESPONSE_TOPIC, payload or "",
                                               {ATTR_REQUEST_ID: request_id}))
            return
        if error is None and utf8_length(payload or "") > MAX_PAYLOAD_BYTES:
            error = Failure.built_in(ErrorCode.RESPONSE_PAYLOAD_TOO_LARGE)
        self._respond(running.caller, request_id, payload=None if error else (payload or ""), error=error)

    def _respond(self, caller: str, request_id: str, payload: str | None = None,
                 error: Failure | None = None) -> None:
        m = proto.models()
        if error is not None:
            wire = m.RpcError(code=int(error.code), message=truncate_utf8(error.message, MAX_MESSAGE_BYTES))
            if error.data:
                wire.data = truncate_utf8(error.data, MAX_DATA_BYTES)
            self._send(caller, rpc_response=m.RpcResponse(request_id=request_id, error=wire))
        else:
            self._send(caller, rpc_response=m.RpcResponse(request_id=request_id, payload=payload or ""))

    def _send(self, destination: str, **value: Any) -> None:
        m = proto.models()
        self._to_send.append(m.DataPacket(kind=m.DataPacket.Kind.RELIABLE, destination_identities=[destination],
                                          **value))

    # -- time --------------------------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When :meth:`poll` has something to do next (None: only after new input)."""
        times = [t for call in self._calls.values()
                 for t in ((call.ack_deadline,) if not call.acked else ()) + (
                     (call.response_deadline,) if call.response_deadline is not None else ())]
        times.extend(r.deadline for r in self._running.values() if not r.expired)
        return min(times) if times else None

    def poll(self, now: float) -> None:
        """Expire what is due at ``now``: calls without ack (``CONNECTION_TIMEOUT``) or without response
        (``RESPONSE_TIMEOUT``), invocations past their deadline (:meth:`expired_invocations`)."""
        for request_id, call in list(self._calls.items()):
            if not call.acked and now >= call.ack_deadline:
                self._settle(request_id, error=Failure.built_in(ErrorCode.CONNECTION_TIMEOUT))
            elif call.response_deadline is not None and now >= call.response_deadline:
                self._settle(request_id, error=Failure.built_in(ErrorCode.RESPONSE_TIMEOUT))
        for request_id, running in self._running.items():
            if not running.expired and now >= running.deadline:
                running.expired = True
                self._expired.append(request_id)
                self._respond(running.caller, request_id, error=Failure.built_in(ErrorCode.RESPONSE_TIMEOUT))

    def close(self) -> None:
        """Our side disconnects: every pending call fails with ``RECIPIENT_DISCONNECTED``, running invocations are
        to be cancelled by the adapter (none is answered), and nothing more is sent or started."""
        self._closed = True
        for request_id in list(self._calls):
            self._settle(request_id, error=Failure.built_in(ErrorCode.RECIPIENT_DISCONNECTED))
        self._running.clear()
        self._reading.clear()
        self._to_send.clear()
        self._invocations.clear()
        self._expired.clear()

    # -- outputs -----------------------------------------------------------------------------------------
    def packets_to_send(self) -> list[Any]:
        """What to send reliably, in order (an ack before its response): ``DataPacket``s (acks, v1 responses,
        errors) and :class:`TextStreamOut` (v2 successful responses); drained."""
        out, self._to_send = self._to_send, []
        return out

    def outcomes(self) -> list[Outcome]:
        """Calls that ended since the last look; drained."""
        out, self._outcomes = self._outcomes, []
        return out

    def invocations(self) -> list[Invocation]:
        """Handler chains to start; drained."""
        out, self._invocations = self._invocations, []
        return out

    def expired_invocations(self) -> list[str]:
        """Request ids of invocations whose deadline passed (answered ``RESPONSE_TIMEOUT`` already), to cancel;
        drained. :meth:`finish_invocation` for them, once their chain has unwound, sends nothing."""
        out, self._expired = self._expired, []
        return out
