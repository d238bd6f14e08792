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


IOS_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Mobile/15E148 Safari/604.1")
IPAD_CHROME = ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1")
IOS_FIREFOX = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "FxiOS/127.0 Mobile/15E148 Safari/605.1.15")
ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.6478.71 Mobile Safari/537.36")
ANDROID_FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0"
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
CHROME_OS = ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
             "Safari/537.36")
OPERA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
         "Safari/537.36 OPR/112.0.0.0")
MAC_CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")


# Names as the server's uaparser gives them (it parses the UA itself for livekit-client): the server's Firefox
# and Safari rules (pkg/rtc/clientinfo.go) compare these names exactly.
@pytest.mark.parametrize("ua, expected, firefox, safari", [
    (CHROMIUM, ("HeadlessChrome", "156.0.8078.73", "Linux", "", ""), False, False),
    (FIREFOX, ("Firefox", "153.0", "Linux", "", ""), True, False),
    (SAFARI, ("Safari", "17.5", "Mac OS X", "14.5", "Mac"), False, True),
    (EDGE, ("Edge", "130.0.1", "Windows", "10.0", ""), False, False),
    (IOS_SAFARI, ("Mobile Safari", "17.5", "iOS", "17.5", "iPhone"), False, True),
    (IPAD_CHROME, ("Chrome Mobile iOS", "126.0.6478.54", "iOS", "17.5", "iPad"), False, False),
    (IOS_FIREFOX, ("Firefox iOS", "127.0", "iOS", "17.5", "iPhone"), False, False),  # WebKit, not Gecko
    (ANDROID_CHROME, ("Chrome Mobile", "126.0.6478.71", "Android", "14", ""), False, False),
    (ANDROID_FIREFOX, ("Firefox Mobile", "127.0", "Android", "14", ""), True, False),
    (WINDOWS_FIREFOX, ("Firefox", "127.0", "Windows", "10.0", ""), True, False),
    (CHROME_OS, ("Chrome", "126.0.0.0", "Chrome OS", "14541.0.0", ""), False, False),
    (OPERA, ("Opera", "112.0.0.0", "Windows", "10.0", ""), False, False),
    (MAC_CHROME, ("Chrome", "126.0.0.0", "Mac OS X", "10.15.7", "Mac"), False, False),
    ("", ("", "", "", "", ""), False, False),  # no navigator.userAgent: nothing guessed
])
def test_user_agent(ua, expected, firefox, safari):
    info = parse_user_agent(ua)
    assert (info.browser, info.browser_version, info.os, info.os_version, info.device_model) == expected
    assert (info.is_firefox, info.is_safari) == (firefox, safari)


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
    # livekit-client encodingsFromPresets([original]): a small capture is one layer named q (announced LOW)
    (single,) = compute_layers(320, 240)
    assert single.rid == "q" and single.quality == 0 and single.encoding()["scaleResolutionDownBy"] == 1.0
    assert q.encoding()["rid"] == "q" and q.encoding()["scaleResolutionDownBy"] == 4.0
    # without simulcast and without an explicit encoding: one encoding with no limits (livekit-client's [{}])
    (single,) = compute_layers(1280, 720, simulcast=False)
    assert single.width == 1280 and single.encoding() == {}
    with pytest.raises(ValueError):
        compute_layers(0, 10)
