import pytest

from livekit_pyweb._core.join import TRANSITIONS, JoinEvent as E, JoinMachine, JoinState as S, state_table_markdown
from livekit_pyweb.errors import ConnectionError, ConnectionErrorReason, InvalidStateError


def test_happy_path():
    m = JoinMachine()
    assert m.handle(E.CONNECT, 0) is S.SIGNAL_CONNECTING
    assert m.next_deadline() == 15.0
    assert m.handle(E.SIGNAL_OPEN, 1) is S.AWAITING_JOIN
    assert m.next_deadline() == 6.0
    assert m.handle(E.JOIN, 2) is S.TRANSPORT_CONNECTING
    assert m.handle(E.TRANSPORT_CONNECTED, 3) is S.CONNECTED
    assert m.next_deadline() is None
    assert m.handle(E.CLOSE, 4) is S.DISCONNECTED


@pytest.mark.parametrize("state_events, when, what", [
    ([E.CONNECT], 15.0, "WebSocket"),
    ([E.CONNECT, E.SIGNAL_OPEN], 5.0, "JoinResponse"),
    ([E.CONNECT, E.SIGNAL_OPEN, E.JOIN], 15.0, "peer connection"),
])
def test_timeouts(state_events, when, what):
    m = JoinMachine()
    for e in state_events:
        m.handle(e, 0)
    assert m.handle_timeout(when - 0.001) is not S.FAILED
    assert m.handle_timeout(when) is S.FAILED
    assert m.error.reason is ConnectionErrorReason.Timeout and what in str(m.error)


def test_failed_is_final_and_keeps_first_error():
    m = JoinMachine()
    m.handle(E.CONNECT, 0)
    first = ConnectionError("nope", ConnectionErrorReason.NotAllowed)
    m.handle(E.FAIL, 1, first)
    assert m.state is S.FAILED and m.error is first
    assert m.handle(E.FAIL, 1.5, ConnectionError("later", ConnectionErrorReason.Timeout)) is S.FAILED
    assert m.error is first
    assert m.handle(E.CLOSE, 2) is S.FAILED
    with pytest.raises(InvalidStateError):
        m.handle(E.CONNECT, 3)


def test_illegal_events_raise():
    m = JoinMachine()
    with pytest.raises(InvalidStateError):
        m.handle(E.JOIN, 0)
    m.handle(E.CONNECT, 0)
    with pytest.raises(InvalidStateError):
        m.handle(E.TRANSPORT_CONNECTED, 0)


def test_table_covers_every_state_and_renders():
    states = {s for s, _ in TRANSITIONS} | set(TRANSITIONS.values())
    assert states == set(S)
    assert "| idle | connect | signal_connecting |" in state_table_markdown()


def test_timeouts_come_from_options():
    from livekit_pyweb._core.join import timeouts

    m = JoinMachine(timeouts(signal=1.0, join=0.5, transport=2.0))
    m.handle(E.CONNECT, 10)
    assert m.next_deadline() == 11.0
    m.handle(E.SIGNAL_OPEN, 10.2)
    assert m.next_deadline() == 10.7
