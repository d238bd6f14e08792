"""The signalling session, sans-IO: bytes in, events out; commands in, bytes out; time as an argument.

Shape (as websockets' ``protocol.py`` and h11's ``Connection``):

* :meth:`SignalSession.receive_data` takes one WebSocket frame; it never raises. Frames that fail to parse
  become a :class:`ProtocolViolation` event.
* :meth:`SignalSession.events_received` hands over the events parsed so far.
* ``send_*`` methods queue encoded frames; :meth:`SignalSession.data_to_send` hands them over.
* :meth:`SignalSession.next_deadline` / :meth:`SignalSession.handle_timeout` drive keepalive: a ``ping`` and
  ``ping_req`` every ``ping_interval`` (from the JoinResponse), and :class:`PingTimeout` when nothing at all was
  received for ``ping_timeout`` (livekit-client resets that timer on every message, not only on pongs).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from ..errors import SignalProtocolError
from . import codec, proto

logger = logging.getLogger("livekit_pyweb.signal")

PUBLISHER = 0  # livekit.SignalTarget
SUBSCRIBER = 1


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SignalMessage:
    """One server message: ``kind`` is the SignalResponse oneof name, ``message`` its protobuf value."""

    kind: str
    message: Any


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolViolation:
    error: SignalProtocolError


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PingTimeout:
    silent_for: float


SignalEvent = SignalMessage | ProtocolViolation | PingTimeout


class SignalSession:
    """State of one signalling WebSocket: decoding, encoding and keepalive timing."""

    def __init__(self, now: float) -> None:
        self._events: list[SignalEvent] = []
        self._outgoing: list[bytes] = []
        self.ping_interval: float | None = None
        self.ping_timeout: float | None = None
        self.last_received = now
        self._next_ping: float | None = None
        self._timed_out = False
        self.rtt_ms = 0
        self.pongs_received = 0
        self.closed = False
        self._request_id = 0

    # -- input -------------------------------------------------------------------------------------------
    def receive_data(self, data: bytes, now: float) -> None:
        if self.closed:
            return
        self.last_received = now
        try:
            kind, message = codec.decode_response(data)
        except SignalProtocolError as exc:
            self._events.append(ProtocolViolation(error=exc))
            return
        if kind == "join":
            self._start_keepalive(message.ping_interval, message.ping_timeout, now)
        elif kind == "pong_resp":
            sent_ms = message.last_ping_timestamp
            self.rtt_ms = max(0, int(now * 1000) - sent_ms)
            self.pongs_received += 1
            return  # keepalive only
        elif kind == "pong":
            return
        self._events.append(SignalMessage(kind=kind, message=message))

    def events_received(self) -> list[SignalEvent]:
        events, self._events = self._events, []
        return events

    # -- keepalive ---------------------------------------------------------------------------------------
    def _start_keepalive(self, interval: int, timeout: int, now: float) -> None:
        if interval > 0:
            self.ping_interval = float(interval)
            self.ping_timeout = float(timeout) if timeout > 0 else 3.0 * interval
            self._next_ping = now + self.ping_interval

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` next has work, or ``None``."""
        if self.closed or self._next_ping is None or self._timed_out:
            return None
        assert self.ping_timeout is not None
        return min(self._next_ping, self.last_received + self.ping_timeout)

    def handle_timeout(self, now: float) -> None:
        if self.closed or self._next_ping is None or self._timed_out:
            return
        assert self.ping_timeout is not None and self.ping_interval is not None
        # Compare against the very sum next_deadline() returned: "now - last >= timeout" can be false at that
        # instant by rounding (25.005 - 10.005 < 15.0), and the caller would wake again and again for nothing.
        if now >= self.last_received + self.ping_timeout:
            self._timed_out = True
            self._events.append(PingTimeout(silent_for=now - self.last_received))
            return
        if now >= self._next_ping:
            millis = int(now * 1000)
            self._send(codec.request(ping=millis))
            self._send(codec.request(ping_req=proto.rtc().Ping(timestamp=millis, rtt=self.rtt_ms)))
            self._next_ping = now + self.ping_interval

    # -- output ------------------------------------------------------------------------------------------
    def _send(self, req: Any) -> None:
        if self.closed:
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("> %s", req.WhichOneof("message"))
        self._outgoing.append(codec.encode_request(req))

    def data_to_send(self) -> list[bytes]:
        out, self._outgoing = self._outgoing, []
        return out

    def send_offer(self, sdp: str, offer_id: int) -> None:
        self._send(codec.request(offer=proto.rtc().SessionDescription(type="offer", sdp=sdp, id=offer_id)))

    def send_answer(self, sdp: str, answer_id: int) -> None:
        self._send(codec.request(answer=proto.rtc().SessionDescription(type="answer", sdp=sdp, id=answer_id)))

    def send_trickle(self, candidate: dict[str, Any] | None, target: int) -> None:
        rtc = proto.rtc()
        if candidate is None:
            self._send(codec.request(trickle=rtc.TrickleRequest(candidateInit="", target=target, final=True)))
            return
        self._send(codec.request(trickle=rtc.TrickleRequest(candidateInit=json.dumps(candidate), target=target)))

    def send_add_track(self, add_track: Any) -> None:
        self._send(codec.request(add_track=add_track))

    def send_track_settings(self, settings: Any) -> None:
        """An ``UpdateTrackSettings`` for tracks we subscribe to (layer, size, disabled)."""
        self._send(codec.request(track_setting=settings))

    def send_subscription(self, track_sids: list[str], subscribe: bool, participant_sid: str) -> None:
        """An ``UpdateSubscription``: subscribe to (or unsubscribe from) tracks of one participant."""
        rtc = proto.rtc()
        update = rtc.UpdateSubscription(
            track_sids=track_sids, subscribe=subscribe,
            participant_tracks=[proto.models().ParticipantTracks(participant_sid=participant_sid, track_sids=track_sids)],
        )
        self._send(codec.request(subscription=update))

    def send_update_metadata(self, metadata: str, name: str, attributes: dict[str, str] | None) -> int:
        """Queue an ``UpdateParticipantMetadata`` (livekit-client sends the current value for a field it does not
        change, and attributes only when given); returns its ``request_id``, 1, 2, ... per session."""
        self._request_id += 1
        update = proto.rtc().UpdateParticipantMetadata(metadata=metadata, name=name, request_id=self._request_id)
        if attributes:
            update.attributes.update(attributes)
        self._send(codec.request(update_metadata=update))
        return self._request_id

    def send_mute(self, track_sid: str, muted: bool) -> None:
        self._send(codec.request(mute=proto.rtc().MuteTrackRequest(sid=track_sid, muted=muted)))

    def send_subscription_permission(self, permission: Any) -> None:
        """A ``SubscriptionPermission``: who may subscribe to our tracks."""
        self._send(codec.request(subscription_permission=permission))

    @staticmethod
    def _leave_request() -> Any:
        rtc, m = proto.rtc(), proto.models()
        leave = rtc.LeaveRequest(
            can_reconnect=False,
            reason=m.DisconnectReason.CLIENT_INITIATED,
            action=rtc.LeaveRequest.DISCONNECT,
        )
        return codec.request(leave=leave)

    def send_leave(self) -> None:
        self._send(self._leave_request())

    def leave_frame(self) -> bytes:
        """The encoded LeaveRequest :meth:`send_leave` would queue (client initiated, no reconnect), without
        queueing it: a frame for someone else to send when we cannot (the transport's ``set_goodbye``: the
        bridge's page host sends it on ``pagehide``, when the worker no longer runs)."""
        return codec.encode_request(self._leave_request())

    def close(self) -> None:
        self.closed = True


def parse_trickle(trickle: Any) -> tuple[dict[str, Any] | None, int]:
    """A server ``TrickleRequest`` as ``(RTCIceCandidateInit dict or None for end-of-candidates, target)``."""
    if trickle.final and not trickle.candidateInit:
        return None, trickle.target
    try:
        init = json.loads(trickle.candidateInit)
    except ValueError as exc:
        raise SignalProtocolError(f"trickle candidate is not JSON: {exc}") from exc
    if not isinstance(init, dict):
        raise SignalProtocolError("trickle candidate is not a JSON object")
    return init, trickle.target
