"""JoinMachine edges the happy-path tests do not reach: before connect(), after a clean leave, the docs table."""

from livekit_pyweb._core.join import TRANSITIONS, JoinEvent as E, JoinMachine, JoinState as S, state_table_markdown


def test_a_room_that_never_connects_never_times_out():
    m = JoinMachine()
    assert m.next_deadline() is None
    assert m.handle_timeout(1e9) is S.IDLE
    assert not m.is_live and m.error is None


def test_a_clean_join_and_leave_leaves_no_error():
    m = JoinMachine()
    for now, event in enumerate([E.CONNECT, E.SIGNAL_OPEN, E.JOIN, E.TRANSPORT_CONNECTED, E.CLOSE]):
        m.handle(event, float(now))
        assert m.error is None, f"error recorded after {event}"
    assert m.state is S.DISCONNECTED


def test_state_table_is_a_markdown_table_with_a_row_per_transition():
    lines = state_table_markdown().split("\n")
    assert lines[:2] == ["| state | event | next |", "|---|---|---|"]
    assert len(lines) == 2 + len(TRANSITIONS)
    assert "| transport_connecting | transport_connected | connected |" in lines
