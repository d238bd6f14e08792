import pytest

from livekit_pyweb._core import codec, proto
from livekit_pyweb.errors import SignalProtocolError


def test_request_round_trip():
    rtc = proto.rtc()
    req = codec.request(offer=rtc.SessionDescription(type="offer", sdp="x", id=3))
    data = codec.encode_request(req)
    back = rtc.SignalRequest()
    back.ParseFromString(data)
    assert back.WhichOneof("message") == "offer" and back.offer.id == 3


def test_scalar_oneof_request():
    req = codec.request(ping=1234)
    assert req.WhichOneof("message") == "ping" and req.ping == 1234


def test_empty_request_refused():
    with pytest.raises(SignalProtocolError):
        codec.encode_request(proto.rtc().SignalRequest())


def test_decode_response():
    rtc = proto.rtc()
    resp = rtc.SignalResponse(answer=rtc.SessionDescription(type="answer", sdp="s", id=7))
    kind, msg = codec.decode_response(resp.SerializeToString())
    assert kind == "answer" and msg.id == 7 and msg.sdp == "s"


@pytest.mark.parametrize("garbage", [b"\xff\xff\xff", b""])
def test_decode_garbage_is_typed(garbage):
    with pytest.raises(SignalProtocolError):
        codec.decode_response(garbage)
