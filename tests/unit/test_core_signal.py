"""SignalSession keepalive and commands, as livekit-server reads them."""

import pytest

from livekit_pyweb._core import proto, signal
from livekit_pyweb._core.signal import PingTimeout, SignalSession, parse_trickle
from livekit_pyweb.errors import SignalProtocolError


def _resp(**kw):
    return proto.rtc().SignalResponse(**kw).SerializeToString()


def _joined(interval=5, timeout=15, now=0.0):
    s = SignalSession(now=now)
    s.receive_data(_resp(join=proto.rtc().JoinResponse(ping_interval=interval, ping_timeout=timeout)), now=now)
    s.events_received()
    return s


def _sent(s):
    out = []
    for frame in s.data_to_send():
        req = proto.rtc().SignalRequest()
        req.ParseFromString(frame)
        out.append(req)
    return out


def _timed_out(s):
    return [e for e in s.events_received() if isinstance(e, PingTimeout)]


def test_signal_targets_are_the_protocol_values():
    rtc = proto.rtc()
    assert (signal.PUBLISHER, signal.SUBSCRIBER) == (rtc.SignalTarget.PUBLISHER, rtc.SignalTarget.SUBSCRIBER)


def test_nothing_is_timed_before_the_join_response():
    s = SignalSession(now=0.0)
    assert s.next_deadline() is None
    s.handle_timeout(1000.0)
    assert s.events_received() == [] and s.data_to_send() == []


def test_pings_carry_the_time_in_ms_and_the_last_rtt():
    s = _joined()
    s.handle_timeout(5.0)
    ping, ping_req = _sent(s)
    assert ping.ping == 5000 and (ping_req.ping_req.timestamp, ping_req.ping_req.rtt) == (5000, 0)
    s.receive_data(_resp(pong_resp=proto.rtc().Pong(last_ping_timestamp=5000)), now=5.25)
    s.handle_timeout(10.0)
    _, ping_req = _sent(s)
    assert (ping_req.ping_req.timestamp, ping_req.ping_req.rtt) == (10000, 250)


def test_an_echo_from_the_future_gives_rtt_0_not_negative():
    s = _joined()
    s.receive_data(_resp(pong_resp=proto.rtc().Pong(last_ping_timestamp=5100)), now=5.0)
    assert s.rtt_ms == 0


def test_a_legacy_pong_is_keepalive_only():
    s = _joined(interval=5, timeout=15)
    s.receive_data(_resp(pong=14000), now=14.0)
    assert s.events_received() == []
    s.handle_timeout(15.0)
    assert _timed_out(s) == []  # silence counts from the pong


def test_no_ping_interval_means_no_keepalive():
    s = _joined(interval=0, timeout=0)
    assert s.next_deadline() is None
    s.handle_timeout(1000.0)
    assert s.events_received() == [] and s.data_to_send() == []


def test_any_positive_ping_interval_pings():
    s = _joined(interval=1, timeout=3)
    assert s.next_deadline() == 1.0
    s.handle_timeout(1.0)
    assert [r.WhichOneof("message") for r in _sent(s)] == ["ping", "ping_req"]


@pytest.mark.parametrize("interval, timeout, silent_limit", [
    (5, 0, 15.0),   # no ping_timeout from the server: three intervals
    (10, 1, 1.0),   # the server's ping_timeout, however short
])
def test_ping_timeout_comes_from_the_join_response(interval, timeout, silent_limit):
    s = _joined(interval=interval, timeout=timeout)
    now = 0.0
    while now + interval < silent_limit:
        now += interval
        s.handle_timeout(now)  # pings go out; they do not count as hearing from the server
    s.handle_timeout(silent_limit - 0.001)
    assert _timed_out(s) == []
    s.handle_timeout(silent_limit)
    assert len(_timed_out(s)) == 1


def test_answer_and_end_of_candidates_encode():
    s = SignalSession(now=0.0)
    s.send_answer("answer-sdp", 7)
    s.send_trickle(None, signal.SUBSCRIBER)
    answer, trickle = _sent(s)
    assert (answer.answer.type, answer.answer.sdp, answer.answer.id) == ("answer", "answer-sdp", 7)
    assert (trickle.trickle.final, trickle.trickle.candidateInit, trickle.trickle.target) == (True, "", 1)


def test_our_leave_does_not_ask_to_reconnect():
    s = SignalSession(now=0.0)
    s.send_leave()
    (leave,) = _sent(s)
    assert not leave.leave.can_reconnect
    assert leave.leave.reason == proto.models().DisconnectReason.CLIENT_INITIATED


def test_leave_frame_is_the_encoded_leave_and_queues_nothing():
    s = SignalSession(now=0.0)
    frame = s.leave_frame()
    assert s.data_to_send() == []  # not queued: someone else sends it (the bridge's page host, on pagehide)
    req = proto.rtc().SignalRequest()
    req.ParseFromString(frame)
    assert req.WhichOneof("message") == "leave"
    assert not req.leave.can_reconnect and req.leave.action == proto.rtc().LeaveRequest.DISCONNECT
    assert req.leave.reason == proto.models().DisconnectReason.CLIENT_INITIATED
    s.send_leave()
    assert s.data_to_send() == [frame]  # the very frame send_leave queues


def test_a_closed_session_takes_nothing_in_and_sends_nothing():
    s = _joined()
    s.close()
    s.receive_data(_resp(refresh_token="t"), now=1.0)
    s.send_offer("sdp", 2)
    s.handle_timeout(100.0)
    assert s.events_received() == [] and s.data_to_send() == [] and s.next_deadline() is None


def test_a_final_trickle_that_carries_a_candidate_is_a_candidate():
    rtc = proto.rtc()
    init, target = parse_trickle(rtc.TrickleRequest(candidateInit='{"candidate": "c"}', target=0, final=True))
    assert (init, target) == ({"candidate": "c"}, 0)
    with pytest.raises(SignalProtocolError):  # empty and not final: not JSON
        parse_trickle(rtc.TrickleRequest(candidateInit="", target=0))
