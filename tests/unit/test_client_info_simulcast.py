import pytest

from livekit_pyweb._core import proto
from livekit_pyweb._core.client_info import make_client_info, parse_user_agent
from livekit_pyweb._core.simulcast import compute_layers

CHROMIUM = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/156.0.8078.73 Safari/537.36")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"
SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Safari/605.1.15")
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 "
        "Safari/537.36 Edg/130.0.1")


@pytest.mark.parametrize("ua, browser, os_name, firefox, safari", [
    (CHROMIUM, "HeadlessChrome", "Linux", False, False),
    (FIREFOX, "Firefox", "Linux", True, False),
    (SAFARI, "Safari", "Mac OS X", False, True),
    (EDGE, "Edge", "Windows", False, False),
])
def test_user_agent(ua, browser, os_name, firefox, safari):
    info = parse_user_agent(ua)
    assert (info.browser, info.os, info.is_firefox, info.is_safari) == (browser, os_name, firefox, safari)


def test_client_info_says_python_in_a_browser():
    ci = make_client_info(parse_user_agent(FIREFOX))
    assert ci.sdk == proto.models().ClientInfo.SDK.PYTHON
    assert ci.browser == "Firefox" and ci.browser_version == "153.0" and ci.protocol == 17


def test_simulcast_layers():
    q, h, f = compute_layers(1280, 720)
    assert (q.rid, q.width, q.height, q.scale_down_by) == ("q", 320, 180, 4.0)
    assert (h.rid, h.width, h.height) == ("h", 640, 360)
    assert (f.rid, f.quality, f.max_bitrate) == ("f", 2, 1_700_000)
    low, top = compute_layers(640, 480)
    assert (low.rid, low.width, low.height, top.rid, top.quality) == ("q", 240, 180, "h", 1)
    (single,) = compute_layers(320, 240)
    assert single.rid == "" and single.quality == 2 and "rid" not in single.encoding()
    assert q.encoding()["rid"] == "q" and q.encoding()["scaleResolutionDownBy"] == 4.0
    (single,) = compute_layers(1280, 720, simulcast=False)
    assert single.width == 1280
    with pytest.raises(ValueError):
        compute_layers(0, 10)
