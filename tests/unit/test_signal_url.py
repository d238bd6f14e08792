import base64
import gzip
import urllib.parse

import pytest

from livekit_pyweb._core import proto
from livekit_pyweb._core.client_info import BrowserInfo, legacy_query_fields, make_client_info
from livekit_pyweb._core.signal_url import (
    decode_join_request,
    encode_join_request,
    redact_url,
    to_websocket_base,
    v0_url,
    v1_url,
    validate_url,
)
from livekit_pyweb.errors import ConnectionError, ConnectionErrorReason


def _join_request():
    rtc = proto.rtc()
    return rtc.JoinRequest(
        client_info=make_client_info(BrowserInfo("Chrome", "156.0", "Linux")),
        connection_settings=rtc.ConnectionSettings(auto_subscribe=True, adaptive_stream=False),
        publisher_offer=rtc.SessionDescription(type="offer", sdp="v=0\r\n" * 200, id=1),
    )


@pytest.mark.parametrize(
    "url, base",
    [
        ("ws://127.0.0.1:7880", "ws://127.0.0.1:7880"),
        ("http://127.0.0.1:7880/", "ws://127.0.0.1:7880"),
        ("https://lk.example/", "wss://lk.example"),
        ("wss://lk.example/prefix/", "wss://lk.example/prefix"),
    ],
)
def test_base_url_normalised(url, base):
    assert to_websocket_base(url) == base


@pytest.mark.parametrize("bad", ["", "127.0.0.1:7880", "ftp://x", "ws://"])
def test_bad_url_is_a_typed_error(bad):
    with pytest.raises(ConnectionError) as info:
        to_websocket_base(bad)
    assert info.value.reason is ConnectionErrorReason.InternalError


@pytest.mark.parametrize("compress", [True, False])
def test_join_request_round_trip(compress):
    request = _join_request()
    value = encode_join_request(request, compress=compress)
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert decode_join_request(value) == request


def test_join_request_wire_format_matches_server_decoder():
    # The server: base64.URLEncoding (padded) -> WrappedJoinRequest -> gunzip -> JoinRequest.
    request = _join_request()
    value = encode_join_request(request)
    wrapped = proto.rtc().WrappedJoinRequest()
    wrapped.ParseFromString(base64.urlsafe_b64decode(value))
    assert wrapped.compression == proto.rtc().WrappedJoinRequest.GZIP
    inner = proto.rtc().JoinRequest()
    inner.ParseFromString(gzip.decompress(wrapped.join_request))
    assert inner.publisher_offer.sdp.startswith("v=0")
    assert inner.client_info.sdk == proto.models().ClientInfo.SDK.PYTHON
    assert len(value) % 4 == 0  # padding kept


def test_v1_url_has_only_token_and_join_request():
    url = v1_url("ws://127.0.0.1:7880", "TOKEN", _join_request())
    parts = urllib.parse.urlsplit(url)
    assert parts.path == "/rtc/v1"
    query = urllib.parse.parse_qs(parts.query)
    assert set(query) == {"access_token", "join_request"}
    assert query["access_token"] == ["TOKEN"]
    assert decode_join_request(query["join_request"][0]) == _join_request()


def test_v0_url_query():
    fields = legacy_query_fields(BrowserInfo("Firefox", "150.0", "Linux"))
    url = v0_url("ws://h:1", "T", client_fields=fields, auto_subscribe=False, adaptive_stream=True,
                 reconnect_sid="PA_1", reconnect_reason=2)
    parts = urllib.parse.urlsplit(url)
    assert parts.path == "/rtc"
    q = dict(urllib.parse.parse_qsl(parts.query))
    assert q["access_token"] == "T" and q["auto_subscribe"] == "0" and q["adaptive_stream"] == "1"
    assert q["sdk"] == "python" and q["protocol"] == "17" and q["browser"] == "Firefox"
    assert q["reconnect"] == "1" and q["sid"] == "PA_1" and q["reconnect_reason"] == "2"


def test_validate_url_and_redaction():
    url = v1_url("wss://lk.example", "SECRET.TOKEN", _join_request())
    v = validate_url(url)
    assert v.startswith("https://lk.example/rtc/v1/validate?access_token=SECRET.TOKEN")
    assert validate_url("ws://h:1/rtc?access_token=x").startswith("http://h:1/rtc/validate?")
    redacted = redact_url(url)
    assert redacted == "wss://lk.example/rtc/v1?access_token=<redacted>&join_request=<redacted>"


def test_bad_url_messages_never_repeat_a_token():
    from .test_validate import _real_token, assert_no_token_part

    token = _real_token()
    for bad in (token,                                   # connect(token, url): arguments swapped
                f"localhost:7880?access_token={token}",   # no scheme, token in the query
                f"ftp://h/?token={token}",               # wrong scheme
                f"ws://?access_token={token}"):          # no host
        with pytest.raises(ConnectionError) as info:
            to_websocket_base(bad)
        assert info.value.reason.name == "InternalError"
        assert str(info.value).startswith("invalid server URL ")
        assert_no_token_part(str(info.value), token)
    assert to_websocket_base(" HTTPS://lk.example/base/ ") == "wss://lk.example/base"
