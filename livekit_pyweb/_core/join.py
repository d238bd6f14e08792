"""The join state machine: from ``connect()`` to a connected room, and out again.

All transitions are data, in :data:`TRANSITIONS`; an event that has no entry for the current state is a bug in
the caller and raises :class:`~livekit_pyweb.errors.InvalidStateError`. ``FAILED`` and ``DISCONNECTED`` have no
exits: a Room connects once.

::

    IDLE --connect--> SIGNAL_CONNECTING --signal_open--> AWAITING_JOIN --join--> TRANSPORT_CONNECTING
    TRANSPORT_CONNECTING --transport_connected--> CONNECTED
    (any live state) --fail--> FAILED           (any live state) --close--> DISCONNECTED

Each waiting state has a deadline (:data:`TIMEOUTS`, the values livekit-client uses): the WebSocket must open
within 15 s, the JoinResponse arrive within 5 s of that, the peer connection connect within 15 s.
"""

from __future__ import annotations

import enum
import logging

from ..errors import ConnectionError, ConnectionErrorReason, InvalidStateError

logger = logging.getLogger("livekit_pyweb.join")


class JoinState(enum.Enum):
    IDLE = "idle"
    SIGNAL_CONNECTING = "signal_connecting"
    AWAITING_JOIN = "awaiting_join"
    TRANSPORT_CONNECTING = "transport_connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class JoinEvent(enum.Enum):
    CONNECT = "connect"
    SIGNAL_OPEN = "signal_open"
    JOIN = "join"
    TRANSPORT_CONNECTED = "transport_connected"
    FAIL = "fail"
    CLOSE = "close"


S, E = JoinState, JoinEvent
_LIVE = (S.SIGNAL_CONNECTING, S.AWAITING_JOIN, S.TRANSPORT_CONNECTING, S.CONNECTED)

TRANSITIONS: dict[tuple[JoinState, JoinEvent], JoinState] = {
    (S.IDLE, E.CONNECT): S.SIGNAL_CONNECTING,
    (S.IDLE, E.CLOSE): S.DISCONNECTED,
    (S.SIGNAL_CONNECTING, E.SIGNAL_OPEN): S.AWAITING_JOIN,
    (S.AWAITING_JOIN, E.JOIN): S.TRANSPORT_CONNECTING,
    (S.TRANSPORT_CONNECTING, E.TRANSPORT_CONNECTED): S.CONNECTED,
    # Late or repeated "connected" reports from the transport are harmless.
    (S.CONNECTED, E.TRANSPORT_CONNECTED): S.CONNECTED,
    **{(s, E.FAIL): S.FAILED for s in (*_LIVE, S.FAILED)},
    **{(s, E.CLOSE): S.DISCONNECTED for s in _LIVE},
    (S.DISCONNECTED, E.CLOSE): S.DISCONNECTED,
    (S.FAILED, E.CLOSE): S.FAILED,
}

def timeouts(signal: float = 15.0, join: float = 5.0, transport: float = 15.0) -> dict[JoinState, tuple[float, str]]:
    """Deadline (seconds) and what it means, per waiting state."""
    return {
        S.SIGNAL_CONNECTING: (signal, "the signalling WebSocket did not open"),
        S.AWAITING_JOIN: (join, "no JoinResponse from the server"),
        S.TRANSPORT_CONNECTING: (transport, "the peer connection did not connect"),
    }


TIMEOUTS = timeouts()


class JoinMachine:
    """Tracks one Room's connection state; the Room asks it for deadlines and feeds it events."""

    def __init__(self, timeouts: dict[JoinState, tuple[float, str]] | None = None) -> None:
        self._state = JoinState.IDLE
        self._timeouts = TIMEOUTS if timeouts is None else timeouts
        self._deadline: float | None = None
        self.error: ConnectionError | None = None

    @property
    def state(self) -> JoinState:
        return self._state

    def handle(self, event: JoinEvent, now: float, error: ConnectionError | None = None) -> JoinState:
        """Apply ``event``; returns the new state.

        Raises:
            InvalidStateError: ``event`` is not allowed in the current state.
        """
        try:
            new = TRANSITIONS[(self._state, event)]
        except KeyError:
            raise InvalidStateError(f"join: event {event.value!r} not allowed in state {self._state.value!r}") from None
        if new is JoinState.FAILED and self._state is JoinState.FAILED:
            return new  # already failed: the first error stays
        if new is JoinState.FAILED and self.error is None:
            self.error = error or ConnectionError("connection failed", ConnectionErrorReason.InternalError)
        if new is not self._state:
            logger.debug("join state %s -> %s", self._state.value, new.value)
            timeout = self._timeouts.get(new)
            self._deadline = now + timeout[0] if timeout else None
        self._state = new
        return new

    def next_deadline(self) -> float | None:
        return self._deadline

    def handle_timeout(self, now: float) -> JoinState:
        """Fail with reason ``Timeout`` if the current state's deadline has passed."""
        if self._deadline is not None and now >= self._deadline:
            _, what = self._timeouts[self._state]
            self.handle(JoinEvent.FAIL, now, ConnectionError(f"timed out: {what}", ConnectionErrorReason.Timeout))
        return self._state

    @property
    def is_live(self) -> bool:
        return self._state in _LIVE


def state_table_markdown() -> str:
    """The transition table as Markdown, for the docs (generated, never hand-copied)."""
    rows = ["| state | event | next |", "|---|---|---|"]
    rows += [f"| {s.value} | {e.value} | {n.value} |" for (s, e), n in TRANSITIONS.items()]
    return "\n".join(rows)
