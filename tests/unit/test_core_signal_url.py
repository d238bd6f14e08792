"""Signalling URLs as livekit-server and our logs read them."""

import base64
import urllib.parse

from livekit_pyweb._core import proto
from livekit_pyweb._core.signal_url import redact_url, token_in_url, v0_url, v1_url, validate_url


def _query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_v1_join_request_is_gzipped_by_default():
    # The SDP rides in the URL: livekit-client compresses it too.
    url = v1_url("ws://h:1", "T", proto.rtc().JoinRequest())
    wrapped = proto.rtc().WrappedJoinRequest()
    wrapped.ParseFromString(base64.urlsafe_b64decode(_query(url)["join_request"]))
    assert wrapped.compression == proto.rtc().WrappedJoinRequest.GZIP


def test_v0_url_subscribes_by_default_without_adaptive_stream():
    q = _query(v0_url("ws://h:1", "T", client_fields={"sdk": "python"}))
    assert q == {"access_token": "T", "auto_subscribe": "1", "sdk": "python"}


def test_validate_url_is_the_sibling_with_the_same_query():
    assert validate_url("ws://h:1/rtc?access_token=x&auto_subscribe=1") == \
        "http://h:1/rtc/validate?access_token=x&auto_subscribe=1"


def test_a_token_query_parameter_is_redacted_too():
    assert redact_url("wss://h/rtc?token=SECRET&room=r") == "wss://h/rtc?token=<redacted>&room=r"


def test_redacting_an_unparseable_url_shows_nothing_of_it():
    assert redact_url("ws://[::1/rtc?access_token=SECRET") == "<unparseable url>"


def test_token_in_url_finds_the_access_token():
    # The WebSocket adapter uses it to hide the token from validate's answer.
    assert token_in_url(v1_url("wss://h", "eyJ.TOKEN.sig", proto.rtc().JoinRequest())) == "eyJ.TOKEN.sig"
    assert token_in_url("wss://h/rtc") == ""
    assert token_in_url("ws://[::1/rtc?access_token=x") == ""
