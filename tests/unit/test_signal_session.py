import json

from livekit_pyweb._core import proto
from livekit_pyweb._core.signal import PingTimeout, ProtocolViolation, SignalMessage, SignalSession, parse_trickle


def _resp(**kw):
    return proto.rtc().SignalResponse(**kw).SerializeToString()


def _sent(session):
    out = []
    for frame in session.data_to_send():
        req = proto.rtc().SignalRequest()
        req.ParseFromString(frame)
        out.append(req)
    return out


def test_join_starts_keepalive_and_pings():
    s = SignalSession(now=0.0)
    s.receive_data(_resp(join=proto.rtc().JoinResponse(ping_interval=5, ping_timeout=15)), now=1.0)
    (event,) = s.events_received()
    assert isinstance(event, SignalMessage) and event.kind == "join"
    assert s.next_deadline() == 6.0
    s.handle_timeout(6.0)
    kinds = [r.WhichOneof("message") for r in _sent(s)]
    assert kinds == ["ping", "ping_req"]
    assert s.next_deadline() == 11.0


def test_pong_is_consumed_and_measures_rtt():
    s = SignalSession(now=0.0)
    s.receive_data(_resp(join=proto.rtc().JoinResponse(ping_interval=5, ping_timeout=15)), now=0.0)
    s.events_received()
    s.receive_data(_resp(pong_resp=proto.rtc().Pong(last_ping_timestamp=5000)), now=5.02)
    assert s.events_received() == []
    assert 19 <= s.rtt_ms <= 21


def test_silence_times_out_once():
    s = SignalSession(now=0.0)
    s.receive_data(_resp(join=proto.rtc().JoinResponse(ping_interval=5, ping_timeout=15)), now=0.0)
    s.events_received()
    s.handle_timeout(10.0)
    s.handle_timeout(15.0)
    events = s.events_received()
    assert len(events) == 1 and isinstance(events[0], PingTimeout)
    assert s.next_deadline() is None


def test_any_message_resets_timeout():
    s = SignalSession(now=0.0)
    s.receive_data(_resp(join=proto.rtc().JoinResponse(ping_interval=5, ping_timeout=15)), now=0.0)
    s.receive_data(_resp(refresh_token="t"), now=14.0)
    s.handle_timeout(15.0)
    assert not any(isinstance(e, PingTimeout) for e in s.events_received())


def test_garbage_becomes_event_not_exception():
    s = SignalSession(now=0.0)
    s.receive_data(b"\xff\x00garbage", now=0.0)
    (event,) = s.events_received()
    assert isinstance(event, ProtocolViolation)


def test_commands_encode():
    s = SignalSession(now=0.0)
    s.send_offer("sdp", 2)
    s.send_trickle({"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}, 0)
    s.send_leave()
    offer, trickle, leave = _sent(s)
    assert offer.offer.id == 2 and offer.offer.type == "offer"
    assert json.loads(trickle.trickle.candidateInit)["sdpMid"] == "0"
    assert leave.leave.action == proto.rtc().LeaveRequest.DISCONNECT


def test_parse_trickle():
    rtc = proto.rtc()
    cand, target = parse_trickle(rtc.TrickleRequest(candidateInit='{"candidate":"c","sdpMid":"0"}', target=1))
    assert cand == {"candidate": "c", "sdpMid": "0"} and target == 1
    assert parse_trickle(rtc.TrickleRequest(final=True, target=0)) == (None, 0)
