"""Data packets on the data channels, sans-IO: sequence numbers, size limit, flow control, duplicate filtering.

What livekit-client does (``RTCEngine.sendDataPacket``/``handleDataMessage`` and ``room/data-channel/*``), as facts:

* Two channels the client creates on its publisher connection: ``_reliable`` (ordered) and ``_lossy`` (unordered,
  ``maxRetransmits: 0``). They carry :class:`livekit.protocol.models.DataPacket` messages, binary. Downstream the
  server uses the same channels, except when the subscriber connection is primary (dual peer connections): then it
  opens channels with the same labels on the subscriber connection, which the client adopts for receiving.
* Every packet on the reliable channel gets a sequence number, per session, starting at 1
  (:class:`ReliableSendBuffer`); the packets stay in a replay buffer until the channel's ``bufferedAmount`` shows
  they have left, so that a resume can resend what the server did not acknowledge (``last_message_seq``).
  Receivers drop a reliable packet whose sequence is not above the last one seen from the same participant sid
  (kept 30 s) (:class:`ReceiveState`).
* An encoded packet larger than 64,000 bytes is refused (``PublishDataError``): libwebrtc would take more, but the
  SFU path delivers about 64 KiB, and an oversized message aborts the channel.
* Flow control with two watermarks: senders send freely while ``bufferedAmount`` is at most the high mark and
  otherwise wait (one at a time, in order) for the ``bufferedamountlow`` event, which fires at the low mark
  (``bufferedAmountLowThreshold``). Reliable: 64 KiB / 1 MiB; lossy: 8 KiB / 256 KiB. Bursty sends without this
  overfill the SCTP send buffer and the browser closes the channel (livekit/client-sdk-js#1995).
* The lossy channel never waits: a packet is dropped while ``bufferedAmount`` is above a threshold tuned once a
  second to a tenth of the last second's byte rate (about 100 ms of data), clamped to the watermarks
  (:class:`LossyGate`).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

from ..errors import PublishDataError

RELIABLE = 0
"""``DataPacket.Kind.RELIABLE``."""
LOSSY = 1
"""``DataPacket.Kind.LOSSY``."""

LABELS = {RELIABLE: "_reliable", LOSSY: "_lossy"}
"""The channel labels livekit-client and the server use, by kind."""
KIND_OF_LABEL = {label: kind for kind, label in LABELS.items()}

MAX_MESSAGE_SIZE = 64_000
"""Bytes: the largest encoded DataPacket sent (livekit-client's ``DEFAULT_MAX_MESSAGE_SIZE``)."""

RELIABLE_LOW_WATER = 64 * 1024
RELIABLE_HIGH_WATER = 1024 * 1024
LOSSY_LOW_WATER = 8 * 1024
LOSSY_HIGH_WATER = 256 * 1024

LOW_WATER = {RELIABLE: RELIABLE_LOW_WATER, LOSSY: LOSSY_LOW_WATER}
HIGH_WATER = {RELIABLE: RELIABLE_HIGH_WATER, LOSSY: LOSSY_HIGH_WATER}

RECEIVE_STATE_TTL = 30.0
"""Seconds a participant's last reliable sequence is remembered (livekit-client's ``reliabeReceiveStateTTL``)."""


def check_size(size: int, limit: int = MAX_MESSAGE_SIZE) -> None:
    """Raise :class:`PublishDataError` when an encoded packet of ``size`` bytes may not be sent."""
    if limit and size > limit:
        raise PublishDataError(f"cannot publish data packet larger than {limit} bytes (got {size})")


def must_wait(buffered_amount: int, kind: int) -> bool:
    """A send on the ``kind`` channel must wait for the ``bufferedamountlow`` event before it goes out."""
    return buffered_amount > HIGH_WATER[kind]


@dataclasses.dataclass(slots=True)
class Buffered:
    """One reliable packet kept for a resend: its wire bytes and sequence, and whether it went to the channel."""

    data: bytes
    sequence: int
    sent: bool


class ReliableSendBuffer:
    """The reliable channel's sequence numbers and replay buffer (livekit-client's ``ReliableDataChannel`` and
    ``DataPacketBuffer``). The engine claims a sequence, stamps it into the packet, sends the bytes and records
    them with :meth:`sent` (or :meth:`deferred` when nothing may go out now); after each send it calls
    :meth:`align` with the channel's ``bufferedAmount``, which forgets the packets that have left it. A resume
    calls :meth:`pop_to` with the server's ``last_message_seq`` and resends :meth:`to_resend`."""

    def __init__(self) -> None:
        self._sequence = 1
        self._items: deque[Buffered] = deque()
        self._sent_size = 0

    @property
    def peek_sequence(self) -> int:
        """The sequence :meth:`next_sequence` will give."""
        return self._sequence

    def next_sequence(self) -> int:
        sequence = self._sequence
        self._sequence += 1
        return sequence

    def sent(self, data: bytes, sequence: int) -> None:
        self._items.append(Buffered(data, sequence, True))
        self._sent_size += len(data)

    def deferred(self, data: bytes, sequence: int) -> None:
        self._items.append(Buffered(data, sequence, False))

    def align(self, buffered_amount: int) -> None:
        """Forget the oldest sent packets while the rest still covers what the channel holds."""
        while self._items and self._items[0].sent and self._sent_size - len(self._items[0].data) > buffered_amount:
            self._sent_size -= len(self._items.popleft().data)

    def pop_to(self, sequence: int) -> None:
        """Forget every packet up to ``sequence`` (the server has them)."""
        while self._items and self._items[0].sequence <= sequence:
            item = self._items.popleft()
            if item.sent:
                self._sent_size -= len(item.data)

    def to_resend(self) -> list[Buffered]:
        """Every packet still kept, in sequence order, all marked not sent (the caller marks each as it goes)."""
        for item in self._items:
            item.sent = False
        self._sent_size = 0
        return list(self._items)

    def mark_sent(self, item: Buffered) -> None:
        if not item.sent:
            item.sent = True
            self._sent_size += len(item.data)

    def reset(self) -> None:
        """A new session (full reconnect): sequences start over, nothing is kept."""
        self._sequence = 1
        self._items.clear()
        self._sent_size = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def sequences(self) -> list[int]:
        return [item.sequence for item in self._items]


class ReceiveState:
    """The last reliable sequence seen from each participant sid, each kept :data:`RECEIVE_STATE_TTL` seconds
    after it was last set (livekit-client's ``reliableReceivedState``)."""

    def __init__(self, ttl: float = RECEIVE_STATE_TTL) -> None:
        self.ttl = ttl
        self._last: dict[str, tuple[int, float]] = {}

    def accept(self, participant_sid: str, sequence: int, now: float) -> bool:
        """False for a reliable packet already seen (a duplicate or a resend of an older one); True otherwise,
        remembering its sequence. Packets without a sequence or a sender sid are always accepted."""
        if sequence <= 0 or not participant_sid:
            return True
        self._expire(now)
        last = self._last.get(participant_sid)
        if last is not None and sequence <= last[0]:
            return False
        self._last[participant_sid] = (sequence, now + self.ttl)
        return True

    def _expire(self, now: float) -> None:
        for sid in [sid for sid, (_, until) in self._last.items() if until <= now]:
            del self._last[sid]

    def states(self, now: float) -> dict[str, int]:
        """participant sid → last sequence (for ``SyncState.datachannel_receive_states`` on a resume)."""
        self._expire(now)
        return {sid: seq for sid, (seq, _) in self._last.items()}

    def clear(self) -> None:
        self._last.clear()


class LossyGate:
    """When a lossy packet is dropped instead of sent: while ``bufferedAmount`` is above a threshold recomputed
    once a second as a tenth of the bytes offered in the last second, clamped to [low, high] watermarks
    (livekit-client's ``LossyDataChannel`` threshold tuning). ``now`` in seconds."""

    def __init__(self, low: int = LOSSY_LOW_WATER, high: int = LOSSY_HIGH_WATER) -> None:
        self.low = low
        self.high = high
        self.threshold = low
        self.dropped = 0
        self._window_start: float | None = None
        self._window_bytes = 0

    def _tick(self, now: float) -> None:
        if self._window_start is None:
            self._window_start = now
            return
        elapsed = now - self._window_start
        if elapsed >= 1.0:
            # A window with no sends at all counts as a zero rate; several idle seconds likewise.
            rate = self._window_bytes if elapsed < 2.0 else 0
            self.threshold = int(min(max(rate / 10, self.low), self.high))
            self._window_start = now
            self._window_bytes = 0

    def admit(self, size: int, buffered_amount: int, now: float) -> bool:
        """True: send the packet of ``size`` bytes now; False: drop it (counted in :attr:`dropped`)."""
        self._tick(now)
        if buffered_amount > self.threshold:
            self.dropped += 1
            return False
        self._window_bytes += size
        return True


def user_data_compat(packet: Any) -> None:
    """livekit-client's ``applyUserDataCompat``: older senders put the identities in the ``UserPacket`` only; copy
    them to the DataPacket when it has none."""
    user = packet.user
    if not packet.participant_identity and user.participant_identity:
        packet.participant_identity = user.participant_identity
    if not packet.destination_identities and user.destination_identities:
        packet.destination_identities.extend(user.destination_identities)
