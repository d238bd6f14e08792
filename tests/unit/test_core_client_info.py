"""ClientInfo as the server reads it, in both spellings: the JoinRequest's ClientInfo (``/rtc/v1``) and the
``/rtc`` query parameters (``ParseClientInfo``). ``client_protocol`` 2 (as livekit-client 2.23) tells peers we speak RPC v2 and data streams v2."""

from livekit_pyweb._core.client_info import legacy_query_fields, make_client_info, parse_user_agent
from livekit_pyweb.version import __version__

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"


def test_both_spellings_say_the_same_version_and_protocols():
    browser = parse_user_agent(FIREFOX)
    info = make_client_info(browser)
    fields = legacy_query_fields(browser)
    assert (info.version, info.protocol, info.client_protocol) == (__version__, 17, 2)
    assert (fields["version"], fields["protocol"], fields["client_protocol"]) == (__version__, "17", "2")
    assert fields["sdk"] == "python"
    # We can inflate raw-deflate data streams (livekit-client compresses to us: client_protocol 2 and this).
    assert list(info.capabilities) == [info.Capability.CAP_COMPRESSION_DEFLATE_RAW]
