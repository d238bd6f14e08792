"""RPC between participants: the public types, as livekit.rtc 1.2 has them (``RpcError``, ``RpcInvocationData``,
``RpcCallInfo``, ``RpcInterceptor``), and the room's RPC driver.

Methods are registered and calls made on the local participant::

    @room.local_participant.register_rpc_method("greet")
    async def greet(data: RpcInvocationData) -> str:
        return f"Hello, {data.caller_identity}!"

    reply = await room.local_participant.perform_rpc(destination_identity="bob", method="greet", payload="hi")

The protocol and its timeouts are in :mod:`livekit_pyweb._core.rpc` (sans-IO); this module runs it: sends the
packets, arms one timer for the earliest deadline, runs handlers as tasks, settles callers' futures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Union

from ._core import rpc as core
from .errors import LiveKitError

if TYPE_CHECKING:  # pragma: no cover
    from .room import Room

__all__ = ["RpcError", "RpcInvocationData", "RpcCallInfo", "RpcInterceptor", "RpcHandler"]

logger = logging.getLogger("livekit_pyweb.rpc")


class RpcError(LiveKitError):
    """An RPC failure: raised by :meth:`LocalParticipant.perform_rpc`, and raised by a handler to answer its caller
    with it (``code``, ``message`` and ``data`` reach the caller as given; the message is cut to 256 UTF-8 bytes and
    the data to 15 360 on the wire). Any other exception a handler raises reaches the caller as
    ``APPLICATION_ERROR`` (1500). Codes 1001-1999 are reserved for the built-in errors of :attr:`ErrorCode`.

    An error sent without data arrives with ``data == ""`` (as livekit.rtc shows it); the errors this side makes up
    (timeouts, refusals) have ``data`` None."""

    ErrorCode = core.ErrorCode
    ErrorMessage: ClassVar[dict[core.ErrorCode, str]] = core.ERROR_MESSAGES

    def __init__(self, code: Union[int, core.ErrorCode], message: str, data: Optional[str] = None) -> None:
        super().__init__(message)
        self._code = int(code)
        self._message = message
        self._data = data

    @property
    def code(self) -> int:  # type: ignore[override]  # LiveKitError.code is a class attribute: here a property
        """The error code (see :attr:`ErrorCode` for the built-in ones)."""
        return self._code

    @property
    def message(self) -> str:
        """A readable message."""
        return self._message

    @property
    def data(self) -> Optional[str]:
        """Additional data (JSON recommended), or None."""
        return self._data

    def __repr__(self) -> str:
        return f"RpcError({self._code}, {self._message!r}, {self._data!r})"

    @classmethod
    def _built_in(cls, code: core.ErrorCode, data: Optional[str] = None) -> RpcError:
        return cls(code, core.ERROR_MESSAGES[code], data)

    @classmethod
    def _from_failure(cls, failure: core.Failure) -> RpcError:
        return cls(failure.code, failure.message, failure.data)


@dataclasses.dataclass
class RpcInvocationData:
    """What a handler receives for an incoming call.

    Attributes:
        request_id: the call's id, the same on both sides.
        caller_identity: the identity of the calling participant.
        payload: the request payload.
        response_timeout: seconds the caller waits for the response (after which the handler is cancelled).
        method: the method called.
        cancel_reason: set just before the SDK cancels the handler chain: ``RESPONSE_TIMEOUT`` (the caller's
            deadline passed) or ``RECIPIENT_DISCONNECTED`` (our room disconnected); None otherwise.
    """

    request_id: str
    caller_identity: str
    payload: str
    response_timeout: float
    method: str = ""
    cancel_reason: Optional[core.ErrorCode] = None


@dataclasses.dataclass
class RpcCallInfo:
    """An outgoing call, as :meth:`RpcInterceptor.intercept_outgoing` sees it (the arguments of
    :meth:`LocalParticipant.perform_rpc`); an interceptor may pass a changed copy on."""

    destination_identity: str
    method: str
    payload: str
    response_timeout: Optional[float] = None
    max_round_trip_latency: Optional[float] = None


OutgoingRpcNext = Callable[[RpcCallInfo], Awaitable[str]]
IncomingRpcNext = Callable[[RpcInvocationData], Awaitable[Optional[str]]]
RpcHandler = Callable[[RpcInvocationData], Union[Awaitable[Optional[str]], Optional[str]]]


class RpcInterceptor:
    """Wraps the RPCs a local participant performs or handles (add with
    :meth:`LocalParticipant.add_rpc_interceptor`). Each method gets the call and ``next``, and returns (or raises)
    what ``next`` does unless it answers itself. The first interceptor added is the outermost. Errors pass
    through unchanged; a call of an unregistered method reaches the chain with ``next`` raising
    ``UNSUPPORTED_METHOD``; other handler exceptions become ``APPLICATION_ERROR`` after the chain. The caller's
    response timeout covers the whole incoming chain."""

    async def intercept_outgoing(self, call: RpcCallInfo, next: OutgoingRpcNext) -> str:
        return await next(call)

    async def intercept_incoming(self, invocation: RpcInvocationData, next: IncomingRpcNext) -> Optional[str]:
        return await next(invocation)


def _chain_outgoing(interceptors: Sequence[RpcInterceptor], terminal: OutgoingRpcNext) -> OutgoingRpcNext:
    step = terminal
    for interceptor in reversed(interceptors):
        step = _bind_outgoing(interceptor, step)
    return step


def _bind_outgoing(interceptor: RpcInterceptor, step: OutgoingRpcNext) -> OutgoingRpcNext:
    async def bound(call: RpcCallInfo) -> str:
        return await interceptor.intercept_outgoing(call, step)

    return bound


def _chain_incoming(interceptors: Sequence[RpcInterceptor], terminal: IncomingRpcNext) -> IncomingRpcNext:
    step = terminal
    for interceptor in reversed(interceptors):
        step = _bind_incoming(interceptor, step)
    return step


def _bind_incoming(interceptor: RpcInterceptor, step: IncomingRpcNext) -> IncomingRpcNext:
    async def bound(invocation: RpcInvocationData) -> Optional[str]:
        return await interceptor.intercept_incoming(invocation, step)

    return bound


class RpcDriver:
    """The RPC of one connection of a :class:`Room` (made at join, closed at disconnect): runs
    :class:`~livekit_pyweb._core.rpc.RpcState` with the room's engine (``send_data``), the loop's clock and the local
    participant's handlers and interceptors."""

    def __init__(self, room: Room) -> None:
        self._room = room
        self._state = core.RpcState(self._has_handler, self._client_protocol_of)
        self._loop = asyncio.get_running_loop()
        self._calls: dict[str, asyncio.Future[str]] = {}
        self._running: dict[str, tuple[asyncio.Task[None], RpcInvocationData]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._closed = False
        # RPC v2: requests and successful responses that arrive as text streams on these topics
        self._stream_topics: list[str] = []
        self._readers: set[asyncio.Task[None]] = set()  # v2 streams being read
        for topic, handler in ((core.REQUEST_TOPIC, self._on_request_stream),
                               (core.RESPONSE_TOPIC, self._on_response_stream)):
            try:
                room._data_streams.register_text_stream_handler(topic, handler)
                self._stream_topics.append(topic)
            except ValueError:  # the application registered a handler for it: it keeps it (livekit-client's topics)
                logger.warning("text stream topic %s has an application handler: RPC over data streams from "
                               "peers will not be answered", topic)

    # -- inputs ------------------------------------------------------------------------------------------
    def handle_packet(self, packet: Any) -> None:
        """A ``DataPacket`` with ``rpc_request``, ``rpc_ack`` or ``rpc_response`` from the room's data path."""
        self._state.receive_packet(packet, self._loop.time())
        self._drive()

    def participant_left(self, identity: str) -> None:
        self._state.participant_left(identity)
        self._drive()

    def close(self) -> None:
        """Our room disconnects: pending calls fail with ``RECIPIENT_DISCONNECTED``, running handlers are cancelled
        (``cancel_reason`` ``RECIPIENT_DISCONNECTED``), nothing more is sent."""
        if self._closed:
            return
        self._closed = True
        for topic in self._stream_topics:
            self._room._data_streams.unregister_text_stream_handler(topic)
        self._stream_topics.clear()
        for reading in list(self._readers):
            reading.cancel()
        self._state.close()
        self._settle_calls()
        for task, data in self._running.values():
            data.cancel_reason = core.ErrorCode.RECIPIENT_DISCONNECTED
            task.cancel()
        self._running.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None

    # -- caller ------------------------------------------------------------------------------------------
    async def perform(self, call: RpcCallInfo) -> str:
        """The innermost step of the outgoing chain: send the request, wait for its outcome."""
        if self._closed or self._room._engine is None:
            raise RpcError._built_in(core.ErrorCode.SEND_FAILED, "the room is not connected")
        engine = self._room._engine
        server = engine.join_response.server_info if engine.join_response is not None else None
        request_id = str(uuid.uuid4())
        packet = self._state.start_call(
            request_id=request_id, destination=call.destination_identity, method=call.method, payload=call.payload,
            now=self._loop.time(), response_timeout=call.response_timeout,
            max_round_trip_latency=call.max_round_trip_latency,
            server_version=str(server.version) if server is not None else "",
        )
        if isinstance(packet, core.Failure):
            raise RpcError._from_failure(packet)
        future: asyncio.Future[str] = self._loop.create_future()
        self._calls[request_id] = future
        self._drive()
        try:
            try:
                await self._send(packet)
            except LiveKitError as exc:
                self._state.send_failed(request_id)
                raise RpcError._built_in(core.ErrorCode.SEND_FAILED, str(exc)) from exc
            self._state.sent(request_id, self._loop.time())
            self._drive()
            return await future
        finally:
            self._calls.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # settled while the send failed or we were cancelled: not left unretrieved
            if self._state.is_pending(request_id):  # cancelled by our caller, or the send failed
                self._state.send_failed(request_id)
                self._drive()

    # -- driving -----------------------------------------------------------------------------------------
    def _client_protocol_of(self, identity: str) -> int:
        participant = self._room._remote.get(identity)
        return int(participant._info.client_protocol) if participant is not None else 0

    def _on_request_stream(self, reader: Any, caller: str) -> None:
        """An ``lk.rpc_request`` text stream opened (RPC v2): acked now, run once its text is read."""
        request_id = self._state.receive_request_stream(caller, dict(reader.info.attributes or {}),
                                                        self._loop.time())
        self._drive()
        if request_id is not None:
            self._spawn(self._read_request(reader, request_id))

    def _on_response_stream(self, reader: Any, sender: str) -> None:
        """An ``lk.rpc_response`` text stream (RPC v2): a successful response, once read."""
        self._spawn(self._read_response(reader, sender))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read_request(self, reader: Any, request_id: str) -> None:
        text: str | None
        try:
            text = await reader.read_all()
        except LiveKitError as exc:
            logger.debug("RPC request stream %s could not be read: %s", request_id, exc)
            text = None
        self._state.receive_request_text(request_id, text, self._loop.time())
        self._drive()

    async def _read_response(self, reader: Any, sender: str) -> None:
        text: str | None
        try:
            text = await reader.read_all()
        except LiveKitError as exc:
            logger.debug("RPC response stream from %s could not be read: %s", sender, exc)
            text = None
        self._state.receive_response_stream(sender, dict(reader.info.attributes or {}), text)
        self._drive()

    def _has_handler(self, method: str) -> bool:
        local = self._room._local
        return local is not None and (method in local._rpc_handlers or bool(local._rpc_interceptors))

    def _on_timer(self) -> None:
        self._timer = None
        self._state.poll(self._loop.time())
        self._drive()

    def _drive(self) -> None:
        """Act on what the state has to say: settle calls, send packets, start and cancel handlers, re-arm the
        timer."""
        if self._closed:
            return
        self._settle_calls()
        for packet in self._state.packets_to_send():
            self._outbox.put_nowait(packet)
            if self._pump is None:
                self._pump = asyncio.ensure_future(self._send_packets())
        for invocation in self._state.invocations():
            data = RpcInvocationData(invocation.request_id, invocation.caller_identity, invocation.payload,
                                     invocation.response_timeout, method=invocation.method)
            task = asyncio.ensure_future(self._invoke(data))
            self._running[invocation.request_id] = (task, data)
        for request_id in self._state.expired_invocations():
            running = self._running.pop(request_id, None)
            if running is not None:
                running[1].cancel_reason = core.ErrorCode.RESPONSE_TIMEOUT
                running[0].cancel()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self._state.next_deadline()
        if deadline is not None:
            # call_later, never a past time: Pyodide's WebLoop refuses one ("Can't schedule in the past"), and a
            # deadline may have passed by now (an ack deadline during a slow send)
            self._timer = self._loop.call_later(max(0.0, deadline - self._loop.time()), self._on_timer)

    def _settle_calls(self) -> None:
        for outcome in self._state.outcomes():
            future = self._calls.get(outcome.request_id)
            if future is None or future.done():
                continue
            if outcome.error is not None:
                future.set_exception(RpcError._from_failure(outcome.error))
            else:
                future.set_result(outcome.payload or "")

    async def _send_packets(self) -> None:
        """Acks and responses, one at a time in order (an ack never overtakes nor follows its response)."""
        while True:
            packet = await self._outbox.get()
            if self._room._engine is None:
                continue
            try:
                await self._send(packet)
            except LiveKitError as exc:
                if isinstance(packet, core.TextStreamOut):
                    what, to = "response stream", packet.destination
                else:
                    what, to = packet.WhichOneof("value"), ", ".join(packet.destination_identities)
                logger.warning("could not send an RPC %s to %s: %s", what, to, exc)

    async def _send(self, item: Any) -> None:
        """A ``DataPacket``, reliably, or a :class:`~livekit_pyweb._core.rpc.TextStreamOut` as a text stream."""
        if isinstance(item, core.TextStreamOut):
            await self._room._data_streams.send_text(
                item.text, destination_identities=[item.destination], topic=item.topic, attributes=item.attributes,
                reply_to_id=None, compress=True)
        else:
            engine = self._room._engine
            if engine is None:
                raise RpcError._built_in(core.ErrorCode.SEND_FAILED, "the room is not connected")
            await engine.send_data(item, reliable=True)

    # -- callee ------------------------------------------------------------------------------------------
    async def _invoke(self, data: RpcInvocationData) -> None:
        local = self._room._local
        interceptors = list(local._rpc_interceptors) if local is not None else []
        chain = _chain_incoming(interceptors, self._call_handler)
        payload: Optional[str] = None
        error: core.Failure | None = None
        try:
            payload = await chain(data)
            if payload is not None and not isinstance(payload, str):
                raise TypeError(f"an RPC handler must return a str or None, not {type(payload).__name__}")
        except RpcError as exc:
            error = core.Failure(exc.code, exc.message, exc.data)
        except asyncio.CancelledError:
            if data.cancel_reason is not None:  # our cancel (deadline or disconnect): answered elsewhere
                raise
            logger.warning("RPC handler for %s raised CancelledError; returning APPLICATION_ERROR", data.method)
            error = core.Failure.built_in(core.ErrorCode.APPLICATION_ERROR)
        except Exception:
            logger.warning("RPC handler for %s raised; returning APPLICATION_ERROR to %s", data.method,
                           data.caller_identity, exc_info=True)
            error = core.Failure.built_in(core.ErrorCode.APPLICATION_ERROR)
        finally:
            running = self._running.get(data.request_id)
            if running is not None and running[1] is data:
                del self._running[data.request_id]
        if not self._closed:
            self._state.finish_invocation(data.request_id, payload=payload, error=error)
            self._drive()

    async def _call_handler(self, data: RpcInvocationData) -> Optional[str]:
        """The innermost step of the incoming chain: the registered handler, sync or async."""
        local = self._room._local
        handler = local._rpc_handlers.get(data.method) if local is not None else None
        if handler is None:
            raise RpcError._built_in(core.ErrorCode.UNSUPPORTED_METHOD)
        result = handler(data)
        if inspect.isawaitable(result):
            result = await result
        return result
