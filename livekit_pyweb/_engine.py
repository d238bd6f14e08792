"""The RTC engine: one signalling session and its peer connection(s), driven by asyncio.

It owns the WebSocket, the peer connections, the offer queue and the ICE candidate buffers; it knows nothing of
participants. :class:`~livekit_pyweb.room.Room` feeds it commands and receives the server's other messages
through ``on_signal`` and remote media through ``on_track``.

Modes (see ``../shared`` notes and livekit-client ``RTCEngine``):

* single peer connection (``/rtc/v1``): the client always offers. The first offer goes inside the JoinRequest;
  it carries the data channels and 3+3 recvonly transceivers and is applied (``setLocalDescription``) as soon as
  the JoinResponse has delivered the ICE servers, while the server prepares its answer. ``MediaSectionsRequirement`` asks for
  more recvonly transceivers and a new offer. Every trickle targets PUBLISHER.
* dual (``/rtc``): the server offers on the subscriber connection and we answer; we offer on the publisher one
  at join unless ``subscriber_primary`` without ``fast_publish``, and whenever we publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from ._core import convert, proto
from ._core import data as datapkt
from ._core.client_info import BrowserInfo, legacy_query_fields, make_client_info, parse_user_agent
from ._core.join import JoinEvent, JoinMachine, JoinState, timeouts
from ._core.negotiation import NegotiationQueue
from ._core.ports import DataChannelPort, Platform, TransportClosed
from ._core.signal import PUBLISHER, SUBSCRIBER, PingTimeout, ProtocolViolation, SignalMessage, SignalSession, parse_trickle
from ._core.signal_url import to_websocket_base, v0_url, v1_url
from .errors import (ConnectionError, ConnectionErrorReason, InvalidStateError, LiveKitError, PublishDataError,
                     PublishTrackError, SignalProtocolError, TrackInvalidError, UnsupportedServer)
from .enums import DisconnectReason
from .options import RoomOptions

logger = logging.getLogger("livekit_pyweb.engine")

# The SignalResponse kinds the engine itself acts on (the rest go to the room: see Room._SIGNAL_HANDLERS).
ENGINE_SIGNALS = frozenset({"join", "answer", "offer", "trickle", "track_published", "media_sections_requirement",
                            "refresh_token", "leave", "pong", "pong_resp"})

INITIAL_RECV_AUDIO = 3
INITIAL_RECV_VIDEO = 3


class Engine:
    def __init__(
        self,
        options: RoomOptions,
        browser: BrowserInfo | None,
        on_signal: Callable[[str, Any], None],
        on_track: Callable[[Any], None],
        on_closed: Callable[[DisconnectReason], None],
        platform: Platform,
    ) -> None:
        self.platform = platform
        self.options = options
        self.browser = browser or BrowserInfo()
        self._browser_given = browser is not None
        self._on_signal = on_signal
        self._on_track = on_track
        self._on_closed = on_closed
        self.machine = JoinMachine(
            timeouts(options.signal_timeout, options.join_timeout, options.peer_connection_timeout)
        )
        self.session: SignalSession | None = None
        self.ws: Any = None
        self.publisher: Any = None
        self.subscriber: Any = None
        self.single_pc = True
        self.subscriber_primary = False
        self.queue = NegotiationQueue()
        self.join_response: Any = None
        self.token = ""
        self.mid_to_track_id: dict[str, str] = {}
        self._initial_offer: str | None = None
        self._pending_candidates: dict[int, list[dict[str, Any] | None]] = {PUBLISHER: [], SUBSCRIBER: []}
        self._remote_described: set[int] = set()  # targets whose remote description is set
        self._published: dict[str, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connected = asyncio.Event()
        self._lost: ConnectionError | None = None
        self._closing = False
        self._page_hide: Any = None
        self._host_lost: Any = None
        # data packets (see _core/data.py): the publisher's channels send (and receive); the subscriber's, which the
        # server opens when the subscriber connection is primary, receive
        self.on_data_packet: Callable[[Any], None] | None = None
        """Set by the room: called with every DataPacket received on a data channel, in arrival order (duplicates
        of reliable packets already dropped)."""
        self._data_out: dict[int, DataChannelPort] = {}  # kind -> the publisher's channel
        self._data_in: list[DataChannelPort] = []  # channels the server opened (adopted by label)
        self._data_changed = {datapkt.RELIABLE: asyncio.Event(), datapkt.LOSSY: asyncio.Event()}  # low/open/close
        self._data_locks = {datapkt.RELIABLE: asyncio.Lock(), datapkt.LOSSY: asyncio.Lock()}
        self.reliable_buffer = datapkt.ReliableSendBuffer()
        self.lossy_gate = datapkt.LossyGate()
        self.receive_state = datapkt.ReceiveState()

    # -- helpers -----------------------------------------------------------------------------------------
    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not self._closing:
            logger.error("engine task failed", exc_info=task.exception())

    @contextlib.asynccontextmanager
    async def _within_deadline(self) -> AsyncIterator[None]:
        """Run one join step against the join machine's deadline for the current state."""
        deadline = self.machine.next_deadline()
        try:
            async with asyncio.timeout_at(deadline):
                yield
        except TimeoutError:
            self.machine.handle_timeout(max(self._now(), deadline or 0.0))
            assert self.machine.error is not None
            raise self.machine.error from None

    def _flush(self) -> None:
        if self.session is None or self.ws is None:
            return
        for frame in self.session.data_to_send():
            self.ws.send(frame)

    def _rtc_config(self, join: Any = None) -> dict[str, Any]:
        config: dict[str, Any] = {"sdpSemantics": "unified-plan", "continualGatheringPolicy": "gather_continually"}
        # Ours (RoomOptions.ice_servers) win over the server's; both have urls/username/credential.
        servers = self.options.ice_servers if self.options.ice_servers is not None else (
            join.ice_servers if join is not None else ())
        if len(servers):
            config["iceServers"] = [
                {k: v for k, v in (("urls", list(s.urls)), ("username", s.username), ("credential", s.credential)) if v}
                for s in servers
            ]
        relay = join is not None and join.client_configuration.force_relay == proto.models().ClientConfigSetting.ENABLED
        if self.options.ice_transport_policy == "relay" or relay:
            config["iceTransportPolicy"] = "relay"
        return config

    async def _new_pc(self, target: int, config: dict[str, Any]) -> Any:
        pc = await self.platform.create_peer_connection(config)
        pc.on_ice_candidate = lambda cand: self._local_candidate(cand, target)
        pc.on_track = self._on_track
        pc.on_connection_state = lambda state: self._pc_state(target, state)
        pc.on_data_channel = self._adopt_data_channel
        return pc

    async def _create_data_channels(self, pc: Any) -> None:
        # The peer connection adapter owns its channels (and the server's, when subscriber-primary) and closes
        # them with itself.
        for kind in (datapkt.RELIABLE, datapkt.LOSSY):
            if kind == datapkt.RELIABLE:
                channel = await pc.create_data_channel(datapkt.LABELS[kind], ordered=True)
            else:
                channel = await pc.create_data_channel(datapkt.LABELS[kind], ordered=False, max_retransmits=0)
            self._wire_data_channel(kind, channel)

    def _wire_data_channel(self, kind: int, channel: DataChannelPort) -> None:
        changed = self._data_changed[kind]
        channel.buffered_amount_low_threshold = datapkt.LOW_WATER[kind]
        channel.on_message = self._data_message
        channel.on_open = changed.set
        channel.on_buffered_amount_low = lambda: self._data_low(kind, channel)
        channel.on_close = lambda: self._data_channel_closed(kind, channel)
        self._data_out[kind] = channel
        changed.set()  # a sender waiting on a replaced channel looks again

    def _data_low(self, kind: int, channel: DataChannelPort) -> None:
        if kind == datapkt.RELIABLE and self._data_out.get(kind) is channel:
            self.reliable_buffer.align(channel.buffered_amount)  # what left the channel needs no resend
        self._data_changed[kind].set()

    def _adopt_data_channel(self, channel: DataChannelPort) -> None:
        """A channel the server opened (``datachannel``): ``_reliable``/``_lossy`` on the subscriber connection
        when it is primary. We only receive on it (as livekit-client); its connection closes it."""
        if channel.label not in datapkt.KIND_OF_LABEL:
            logger.debug("ignoring the server's data channel %r", channel.label)
            return
        channel.on_message = self._data_message
        self._data_in.append(channel)

    def _data_channel_closed(self, kind: int, channel: DataChannelPort) -> None:
        self._data_changed[kind].set()
        if self._closing or self._lost is not None or self._data_out.get(kind) is not channel:
            return
        # As livekit-client: a publisher channel closing while the session is up and the publisher connection is
        # still connected is what an oversized or overfilled send does to it; surface it. (Closing with its
        # connection, or after the session was lost, is no news.)
        if self.publisher is not None and self.publisher.connection_state == "connected":
            logger.error("data channel %s closed unexpectedly", datapkt.LABELS[kind])
        else:
            logger.debug("data channel %s closed with its connection", datapkt.LABELS[kind])

    def _data_message(self, data: bytes) -> None:
        packet = proto.models().DataPacket()
        try:
            packet.ParseFromString(data)
        except Exception:
            logger.warning("ignoring a data channel message that is not a DataPacket (%d bytes)", len(data))
            return
        if not self.receive_state.accept(packet.participant_sid, packet.sequence, self._now()):
            logger.debug("dropping reliable packet %d from %s: already received", packet.sequence,
                         packet.participant_sid)
            return
        if packet.WhichOneof("value") == "user":
            datapkt.user_data_compat(packet)
        if self.on_data_packet is not None:
            try:
                self.on_data_packet(packet)
            except Exception:
                logger.exception("handling a data packet failed")

    def _local_candidate(self, candidate: dict[str, Any] | None, target: int) -> None:
        if candidate is None or self.session is None:
            return
        self.session.send_trickle(candidate, target)
        self._flush()

    def _primary_target(self) -> int:
        if self.single_pc:
            return PUBLISHER
        return SUBSCRIBER if self.subscriber_primary else PUBLISHER

    def _pc_state(self, target: int, state: str) -> None:
        logger.debug("pc %s %s", "publisher" if target == PUBLISHER else "subscriber", state)
        if target != self._primary_target():
            return
        if state == "connected":
            self._connected.set()
        elif state == "failed":
            self._lose("peer connection failed", ConnectionErrorReason.InternalError, DisconnectReason.MEDIA_FAILURE)

    def _lose(self, message: str, reason: ConnectionErrorReason, why: DisconnectReason) -> None:
        """The session is gone (server leave, socket drop, ping timeout, ICE failure): record it once, wake a
        join waiting for the transport, and tell the room if it was connected."""
        if self._closing or self._lost is not None:
            return
        self._lost = ConnectionError(message, reason)
        self._connected.set()
        if self.machine.state is JoinState.CONNECTED:
            logger.info("session lost: %s", message)
            self._on_closed(why)

    def _pc_for(self, target: int) -> Any:
        if self.single_pc or target == PUBLISHER:
            return self.publisher
        return self.subscriber

    # -- join --------------------------------------------------------------------------------------------
    async def join(self, url: str, token: str) -> Any:
        """Open the signal connection and wait for the JoinResponse. Returns it.

        Raises:
            ConnectionError: with the reason livekit-client would give.
        """
        base = to_websocket_base(url)
        self.token = token
        self.machine.handle(JoinEvent.CONNECT, self._now())
        try:
            await self.platform.start()  # the bridge finds its page here (UnsupportedError if none)
            if not self._browser_given:
                self.browser = parse_user_agent(self.platform.user_agent())
            if self.options.single_peer_connection:
                try:
                    return await self._join(base, token, single_pc=True)
                except ConnectionError as exc:
                    if exc.reason is not ConnectionErrorReason.ServiceNotFound:
                        raise
                    logger.info("server has no /rtc/v1; joining on /rtc with two peer connections")
                    self._reset_transports()
            return await self._join(base, token, single_pc=False)
        except (ConnectionError, TransportClosed) as exc:
            if self.machine.state is JoinState.DISCONNECTED:  # close() was called while we were joining
                raise ConnectionError("the join was cancelled by disconnect()", ConnectionErrorReason.Cancelled) from None
            error = exc if isinstance(exc, ConnectionError) else ConnectionError(
                f"signal connection lost while joining: {exc}", ConnectionErrorReason.InternalError)
            self.machine.handle(JoinEvent.FAIL, self._now(), error)
            await self.close(send_leave=False)
            # A typed cause of ours (UnsupportedServer) stays visible as __cause__; browser/transport details do not.
            cause = error.__cause__ if isinstance(error.__cause__, LiveKitError) else None
            raise error from cause
        except BaseException:
            await self.close(send_leave=False)
            raise

    def _reset_transports(self) -> None:
        for pc in (self.publisher, self.subscriber):
            if pc is not None:
                pc.close()
        self.publisher = self.subscriber = None
        self._data_out.clear()
        self._data_in.clear()
        for changed in self._data_changed.values():
            changed.set()  # senders waiting on a channel of these connections give up
        self._remote_described.clear()
        self.queue = NegotiationQueue()
        self._initial_offer = None

    async def _join(self, base: str, token: str, *, single_pc: bool) -> Any:
        rtc = proto.rtc()
        self.single_pc = single_pc
        if single_pc:
            self.publisher = await self._new_pc(PUBLISHER, self._rtc_config())
            await self._create_data_channels(self.publisher)
            for _ in range(INITIAL_RECV_AUDIO):
                await self.publisher.add_recv_transceiver("audio")
            for _ in range(INITIAL_RECV_VIDEO):
                await self.publisher.add_recv_transceiver("video")
            join_request = rtc.JoinRequest(
                client_info=make_client_info(self.browser),
                connection_settings=rtc.ConnectionSettings(
                    auto_subscribe=self.options.auto_subscribe, adaptive_stream=bool(self.options.adaptive_stream)
                ),
            )
            # livekit-client leaves the offer out of the join on Firefox (ICE trouble reported there) and
            # negotiates once the JoinResponse is in; elsewhere the offer rides along and saves a round trip.
            if not self.browser.is_firefox:
                sdp = await self.publisher.create_offer()
                offer_id = self.queue.start_offer()
                self._initial_offer = sdp
                join_request.publisher_offer.CopyFrom(rtc.SessionDescription(type="offer", sdp=sdp, id=offer_id))
            url = v1_url(base, token, join_request)
        else:
            url = v0_url(
                base,
                token,
                client_fields=legacy_query_fields(self.browser),
                auto_subscribe=self.options.auto_subscribe,
                adaptive_stream=bool(self.options.adaptive_stream),
            )

        async with self._within_deadline():
            self.ws = await self.platform.open_signal(url, self.options.signal_timeout)
        self.machine.handle(JoinEvent.SIGNAL_OPEN, self._now())
        self.session = SignalSession(self._now())
        try:
            async with self._within_deadline():
                frame = await self.ws.recv()
        except TransportClosed as exc:
            raise ConnectionError(f"signal connection closed before join: {exc}", ConnectionErrorReason.InternalError) from None
        self.session.receive_data(frame, self._now())
        events = self.session.events_received()
        first = events[0] if events else None
        if isinstance(first, SignalMessage) and first.kind == "leave":
            raise ConnectionError(
                f"the server refused the join (leave, reason {first.message.reason})", ConnectionErrorReason.LeaveRequest
            )
        if not isinstance(first, SignalMessage) or first.kind != "join":
            if isinstance(first, ProtocolViolation):
                detail = str(first.error)
            elif isinstance(first, SignalMessage):
                detail = first.kind
            else:
                detail = "nothing" if first is None else type(first).__name__
            raise ConnectionError(f"expected a JoinResponse first, got {detail}", ConnectionErrorReason.InternalError)
        join = first.message
        if not (join.server_info.version or join.server_version):
            # livekit-client: a JoinResponse without a server version is an UnsupportedServer, which its connect()
            # reports as a ConnectionError(ServerUnreachable) "could not establish signal connection: ...".
            unsupported = UnsupportedServer("unknown server version")
            raise ConnectionError(f"could not establish signal connection: {unsupported}",
                                  ConnectionErrorReason.ServerUnreachable) from unsupported
        self.join_response = join
        self.subscriber_primary = bool(join.subscriber_primary) and not single_pc
        self.machine.handle(JoinEvent.JOIN, self._now())

        offered_with_join = self._initial_offer is not None
        if single_pc:
            await self.publisher.set_configuration(self._rtc_config(join))
            if self._initial_offer is not None:
                # The ICE servers are known now: apply the offer that rode with the join at once, so ICE gathers
                # while the server prepares its answer (livekit-client waits for the answer to do this; measured
                # here it saves setLocalDescription's 15-35 ms and the gathering from connect()).
                offer, self._initial_offer = self._initial_offer, None
                await self.publisher.set_local_description("offer", offer)
        else:
            config = self._rtc_config(join)
            self.publisher = await self._new_pc(PUBLISHER, config)
            self.subscriber = await self._new_pc(SUBSCRIBER, config)
            await self._create_data_channels(self.publisher)

        self._spawn(self._read_loop())
        self._spawn(self._keepalive_loop())
        self._page_hide = self.platform.on_page_hide(self._page_hidden)
        self._host_lost = self.platform.on_lost(self._platform_lost)
        # Joined: if the page goes away before our pagehide listener can run (a worker is killed first), the
        # transport's side sends this leave itself (the bridge's page host); cleared when we close.
        self._set_goodbye(self.session.leave_frame())
        for event in events[1:]:
            await self._handle(event)
        if single_pc and not offered_with_join:
            self._spawn(self.negotiate())  # the deferred first offer (Firefox)
        elif not single_pc and (not join.subscriber_primary or join.fast_publish):
            self._spawn(self.negotiate())
        return join

    async def wait_connected(self) -> None:
        """Wait until the primary peer connection is connected (``peer_connection_timeout``)."""
        try:
            async with self._within_deadline():
                await self._connected.wait()
        except ConnectionError:
            await self.close(send_leave=True)
            raise
        if self.machine.state is JoinState.DISCONNECTED:
            raise ConnectionError("the join was cancelled by disconnect()", ConnectionErrorReason.Cancelled)
        if self._lost is not None:
            self.machine.handle(JoinEvent.FAIL, self._now(), self._lost)
            await self.close(send_leave=False)
            raise self._lost
        self.machine.handle(JoinEvent.TRANSPORT_CONNECTED, self._now())

    # -- the signal loop ---------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        assert self.session is not None
        while True:
            try:
                frame = await self.ws.recv()
            except TransportClosed as exc:
                self._lose(f"signal connection closed ({exc.code})", ConnectionErrorReason.InternalError,
                           DisconnectReason.SIGNAL_CLOSE)
                return
            self.session.receive_data(frame, self._now())
            for event in self.session.events_received():
                try:
                    await self._handle(event)
                except Exception:
                    logger.exception("handling a signal message failed")
            self._flush()

    async def _keepalive_loop(self) -> None:
        assert self.session is not None
        while not self._closing:
            deadline = self.session.next_deadline()
            if deadline is None:
                await asyncio.sleep(1.0)
                continue
            await asyncio.sleep(max(0.0, deadline - self._now()))
            # The loop's clock may read a hair before the deadline it woke for (timer rounding): treat the
            # deadline as reached, or this loop would wake again at once, and again, without progress.
            self.session.handle_timeout(max(self._now(), deadline))
            self._flush()
            for event in self.session.events_received():
                await self._handle(event)

    async def _handle(self, event: Any) -> None:
        if isinstance(event, PingTimeout):
            logger.warning("no signal traffic for %.1f s", event.silent_for)
            self._lose("signal ping timeout", ConnectionErrorReason.Timeout, DisconnectReason.SIGNAL_CLOSE)
            return
        if isinstance(event, ProtocolViolation):
            logger.warning("ignoring signal frame: %s", event.error)
            return
        kind, msg = event.kind, event.message
        if kind == "answer":
            await self._handle_answer(msg)
        elif kind == "offer":
            await self._handle_offer(msg)
        elif kind == "trickle":
            try:
                candidate, target = parse_trickle(msg)
            except SignalProtocolError as exc:
                logger.warning("bad trickle: %s", exc)
                return
            target = PUBLISHER if self.single_pc else target
            pc = self._pc_for(target)
            if pc is None or target not in self._remote_described:
                self._pending_candidates[target].append(candidate)
            else:
                await pc.add_ice_candidate(candidate)
        elif kind == "track_published":
            waiter = self._published.pop(msg.cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(msg.track)
        elif kind == "media_sections_requirement":
            for _ in range(msg.num_audios):
                await self.publisher.add_recv_transceiver("audio")
            for _ in range(msg.num_videos):
                await self.publisher.add_recv_transceiver("video")
            self._spawn(self.negotiate())
        elif kind == "refresh_token":
            self.token = msg  # for later reconnects; the room also announces it (token_refreshed)
            self._on_signal(kind, msg)
        elif kind == "leave":
            logger.info("server leave (action %s, reason %s)", msg.action, msg.reason)
            reason = proto.models().DisconnectReason.Name(msg.reason)
            self._lose(f"server leave ({reason})", ConnectionErrorReason.LeaveRequest, convert.disconnect_reason(msg.reason))
        else:
            self._on_signal(kind, msg)

    async def _flush_candidates(self, target: int, pc: Any) -> None:
        pending, self._pending_candidates[target] = self._pending_candidates[target], []
        for candidate in pending:
            await pc.add_ice_candidate(candidate)

    async def _handle_answer(self, answer: Any) -> None:
        if not self.queue.answer_received(answer.id):
            logger.debug("ignoring stale answer %s", answer.id)
            return
        pc = self.publisher
        if self._initial_offer is not None:
            offer, self._initial_offer = self._initial_offer, None
            await pc.set_local_description("offer", offer)
        self.mid_to_track_id.update(dict(answer.mid_to_track_id))
        await pc.set_remote_description("answer", answer.sdp)
        self._remote_described.add(PUBLISHER)
        await self._flush_candidates(PUBLISHER, pc)
        if self.queue.should_renegotiate:
            self._spawn(self.negotiate())

    async def _handle_offer(self, offer: Any) -> None:
        if self.single_pc:
            logger.warning("unexpected server offer in single peer connection mode")
            return
        pc = self.subscriber
        self.mid_to_track_id.update(dict(offer.mid_to_track_id))
        await pc.set_remote_description("offer", offer.sdp)
        self._remote_described.add(SUBSCRIBER)
        await self._flush_candidates(SUBSCRIBER, pc)
        sdp = await pc.create_answer()
        await pc.set_local_description("answer", sdp)
        assert self.session is not None
        self.session.send_answer(sdp, offer.id)
        self._flush()

    # -- commands ----------------------------------------------------------------------------------------
    async def negotiate(self) -> None:
        """Offer on the publisher connection now, or after the offer in flight is answered."""
        if self.publisher is None or self.session is None or not self.queue.request():
            return
        offer_id = self.queue.start_offer()
        try:
            sdp = await self.publisher.create_offer()
            await self.publisher.set_local_description("offer", sdp)
        except Exception:
            self.queue.offer_failed()
            raise
        self.session.send_offer(sdp, offer_id)
        self._flush()

    async def add_track(self, request: Any) -> Any:
        """Send an AddTrackRequest and wait for the server's TrackInfo."""
        if self.session is None or self.machine.state is not JoinState.CONNECTED:
            raise InvalidStateError("publishing needs a connected room")
        if request.cid in self._published:  # as livekit-client's RTCEngine.addTrack
            raise TrackInvalidError(f"a track with the same ID ({request.cid}) has already been published")
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._published[request.cid] = waiter
        self.session.send_add_track(request)
        self._flush()
        try:
            async with asyncio.timeout(self.options.publish_timeout):
                return await waiter
        except TimeoutError:
            raise PublishTrackError(
                f"the server did not confirm track {request.cid!r} within {self.options.publish_timeout:g} s"
            ) from None
        finally:
            self._published.pop(request.cid, None)

    async def add_sender(self, track: Any, encodings: list[dict[str, Any]] | None, codec: str | None = None) -> Any:
        """Start sending ``track`` (a MediaTrackPort) on the publisher connection, ``codec`` (a mime type) first in
        its codec preferences; returns its sender. The caller renegotiates (:meth:`negotiate`) once the server has
        confirmed the track."""
        if self.publisher is None:
            raise InvalidStateError("publishing needs a connected room")
        if codec is None:
            return await self.publisher.add_send_transceiver(track, encodings)
        return await self.publisher.add_send_transceiver(track, encodings, codec=codec)

    async def remove_sender(self, sender: Any) -> None:
        """Stop sending on ``sender`` and renegotiate. A no-op once the engine has closed."""
        if self.publisher is None or self._closing:
            return
        await self.publisher.remove_sender(sender)
        await self.negotiate()

    async def send_data(self, packet: Any, *, reliable: bool) -> None:
        """Send a ``livekit.protocol.models.DataPacket`` on the reliable or the lossy publisher channel; returns once
        it is handed to the channel (not delivered). Fills ``kind``, ``sequence`` (reliable: the session's next;
        see :class:`~livekit_pyweb._core.data.ReliableSendBuffer`) and our identity and sid where empty. A reliable
        send waits, in order with the others, while the channel holds more than its high-water mark, for the
        ``bufferedamountlow`` event; a lossy packet is dropped instead when the channel is backed up.

        Raises:
            PublishDataError: the encoded packet is over 64,000 bytes (nothing is sent and the channel stays
                usable), no data channel opens within ``peer_connection_timeout``, or it closed meanwhile.
        """
        kind = datapkt.RELIABLE if reliable else datapkt.LOSSY
        packet.kind = kind
        me = self.join_response.participant if self.join_response is not None else None
        if me is not None:
            packet.participant_identity = packet.participant_identity or me.identity
            packet.participant_sid = packet.participant_sid or me.sid
        if reliable:
            packet.sequence = self.reliable_buffer.peek_sequence
        data = packet.SerializeToString()
        datapkt.check_size(len(data))
        channel = await self._open_data_channel(kind)
        if not reliable:
            if not self.lossy_gate.admit(len(data), channel.buffered_amount, self._now()):
                if self.lossy_gate.dropped % 100 == 1:
                    logger.info("lossy data channel backed up: dropped %d packets so far", self.lossy_gate.dropped)
                return
            channel.send(data)
            return
        # The sequence is claimed now, in the order senders queue on the lock: they go out in sequence order.
        if packet.sequence != self.reliable_buffer.peek_sequence:
            packet.sequence = self.reliable_buffer.peek_sequence
            data = packet.SerializeToString()
            datapkt.check_size(len(data))
        sequence = self.reliable_buffer.next_sequence()
        async with self._data_locks[kind]:
            channel = await self._headroom(kind, channel)
            channel.send(data)
            self.reliable_buffer.sent(data, sequence)
            self.reliable_buffer.align(channel.buffered_amount)

    async def _open_data_channel(self, kind: int) -> DataChannelPort:
        """The publisher's ``kind`` channel once open (livekit-client's ensurePublisherConnected: a publisher
        connection not negotiated yet, dual peer connections with the subscriber primary, is negotiated now)."""
        channel = self._data_out.get(kind)
        if channel is not None and channel.ready_state == "open":
            return channel
        if self._closing or self.machine.state is not JoinState.CONNECTED:
            raise PublishDataError("the room is not connected: no data channel to send on")
        if (not self.single_pc and self.publisher is not None and PUBLISHER not in self._remote_described
                and self.queue.in_flight is None):
            self._spawn(self.negotiate())
        timeout = self.options.peer_connection_timeout
        try:
            async with asyncio.timeout(timeout):
                while True:
                    channel = self._data_out.get(kind)
                    if channel is not None and channel.ready_state == "open":
                        return channel
                    if self._closing or (channel is not None and channel.ready_state in ("closing", "closed")):
                        break
                    self._data_changed[kind].clear()
                    await self._data_changed[kind].wait()
        except TimeoutError:
            raise PublishDataError(
                f"the {datapkt.LABELS[kind]} data channel did not open within {timeout:g} s") from None
        raise PublishDataError(f"the {datapkt.LABELS[kind]} data channel is closed")

    async def _headroom(self, kind: int, channel: DataChannelPort) -> DataChannelPort:
        """Wait (holding the kind's lock) until ``channel`` has room: at most the high-water mark buffered."""
        changed = self._data_changed[kind]
        while datapkt.must_wait(channel.buffered_amount, kind):
            changed.clear()
            await changed.wait()
            if channel.ready_state != "open" or self._data_out.get(kind) is not channel:
                raise PublishDataError(f"the {datapkt.LABELS[kind]} data channel closed while the send waited")
        if channel.ready_state != "open":
            raise PublishDataError(f"the {datapkt.LABELS[kind]} data channel is closed")
        return channel

    def send_track_settings(self, settings: Any) -> None:
        if self.session is not None:
            self.session.send_track_settings(settings)
            self._flush()

    def send_subscription(self, track_sids: list[str], subscribe: bool, participant_sid: str) -> None:
        if self.session is not None:
            self.session.send_subscription(track_sids, subscribe, participant_sid)
            self._flush()

    def send_update_metadata(self, metadata: str, name: str, attributes: dict[str, str] | None) -> int:
        """An ``UpdateParticipantMetadata`` for ourselves; returns its ``request_id`` (the server's
        ``RequestResponse`` names it)."""
        if self.session is None:
            raise InvalidStateError("the room is not connected")
        request_id = self.session.send_update_metadata(metadata, name, attributes)
        self._flush()
        return request_id

    def send_mute(self, sid: str, muted: bool) -> None:
        if self.session is not None:
            self.session.send_mute(sid, muted)
            self._flush()

    def send_subscription_permission(self, permission: Any) -> None:
        if self.session is not None:
            self.session.send_subscription_permission(permission)
            self._flush()

    def _set_goodbye(self, frame: bytes | None) -> None:
        set_goodbye = getattr(self.ws, "set_goodbye", None)  # optional in the SignalTransport port
        if set_goodbye is not None:
            set_goodbye(frame)

    def _platform_lost(self, why: str) -> None:
        self._lose(f"the page side of the bridge went away ({why})", ConnectionErrorReason.InternalError,
                   DisconnectReason.MEDIA_FAILURE)

    def _page_hidden(self) -> None:
        """The page is going away: no time for awaits. Tell the server now, synchronously."""
        if self._closing or self.session is None or self.ws is None:
            return
        self.session.send_leave()
        self._flush()
        self.ws.close(1000)

    # -- teardown ----------------------------------------------------------------------------------------
    async def close(self, *, send_leave: bool = True) -> None:
        """Leave (optionally), close the socket and the peer connections. Idempotent."""
        if self._closing:
            return
        self._closing = True
        if send_leave and self.session is not None and self.ws is not None:
            self.session.send_leave()
            self._flush()
        for handle in (self._page_hide, self._host_lost):
            if handle is not None:
                handle.close()
        self._page_hide = self._host_lost = None
        if self.session is not None:
            self.session.close()
        if self.ws is not None:
            self._set_goodbye(None)
            self.ws.close(1000)
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for waiter in self._published.values():
            if not waiter.done():
                waiter.cancel()
        self._reset_transports()
        self._connected.set()
        if self.machine.is_live:
            self.machine.handle(JoinEvent.CLOSE, self._now())
