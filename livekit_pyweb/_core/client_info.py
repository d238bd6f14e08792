"""What we tell the server about ourselves (``ClientInfo``), and why.

The server keys behaviour on ClientInfo (livekit-server ``pkg/rtc/clientinfo.go``): Firefox gets no audio RED,
no ICE-lite and no sender-encoding toggling; Safari no RED and no transceiver reuse; ``UNKNOWN`` gets no codec
change and no SCTP zero-checksum; JS below 1.6.3 gets no reconnect response.

Our choice: ``sdk = PYTHON`` with our own version, because that is what we are and it does not trigger the
version gates written for livekit-client. The media stack, however, is the browser's, and the server parses the
User-Agent only for JS/React Native/Flutter/Unity/UNKNOWN (``pkg/service/utils.go`` ``AugmentClientInfo``).
So we parse ``navigator.userAgent`` ourselves and fill ``browser``, ``browser_version``, ``os``, ``os_version``
and ``device_model``, using the family names the server's uaparser would produce ("Chrome", "Firefox",
"Safari", "Edge", "Linux", "Mac OS X", ...), so the Firefox and Safari special cases apply exactly as they would
to livekit-client on the same browser. ``protocol`` is the signalling protocol level we speak (17, as
livekit-client 2.x).

``client_protocol`` is for the other participants, not the server: livekit-server 1.13 only copies it (and
``capabilities``) into our ``ParticipantInfo`` (``pkg/rtc/participant.go`` ``ToProtoWithVersion``). livekit-client
2.23 announces 2 and reads a peer's value as levels (``version.ts``): >= 1 ("data stream RPC") makes it send us RPC
requests, and answer ours, as text streams on ``lk.rpc_request``/``lk.rpc_response`` instead of ``RpcRequest``/
``RpcResponse`` packets; >= 2 ("data streams v2") lets it send a whole data stream inside its header
(``inline_content``) and, when we also list ``CAP_COMPRESSION_DEFLATE_RAW``, raw-deflate it. Our data streams read
both (``_core/data_streams.py``) and we send them the same way to peers that announce them, and RPC speaks both
versions (``_core/rpc.py``: v1 packets to and from peers below 1, v2 streams otherwise): so we announce 2, as
livekit-client 2.23. ``capabilities`` lists ``CAP_COMPRESSION_DEFLATE_RAW``, true of us (zlib inflates raw
deflate).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..version import __version__
from . import proto

PROTOCOL_VERSION = 17
CLIENT_PROTOCOL = 2


@dataclasses.dataclass(frozen=True, slots=True)
class BrowserInfo:
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device_model: str = ""

    @property
    def is_firefox(self) -> bool:
        """Gecko: Firefox on desktop and Android (Firefox on iOS is WebKit and is not)."""
        return self.browser in ("Firefox", "Firefox Mobile")

    @property
    def is_safari(self) -> bool:
        return self.browser in ("Safari", "Mobile Safari")


_BROWSERS: tuple[tuple[str, str], ...] = (
    # Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
    (r"Edg(?:e|A|iOS)?/([\d.]+)", "Edge"),
    (r"OPR/([\d.]+)", "Opera"),
    (r"Firefox/([\d.]+)", "Firefox"),
    (r"FxiOS/([\d.]+)", "Firefox iOS"),
    (r"HeadlessChrome/([\d.]+)", "HeadlessChrome"),
    (r"CriOS/([\d.]+)", "Chrome Mobile iOS"),
    (r"(?:Chrome|Chromium)/([\d.]+)", "Chrome"),
    (r"Version/([\d.]+).*Safari/", "Safari"),
)

_OSES: tuple[tuple[str, str], ...] = (
    (r"Android ([\d.]+)", "Android"),
    (r"(?:iPhone|iPad|iPod).*OS ([\d_]+)", "iOS"),
    (r"Windows NT ([\d.]+)", "Windows"),
    (r"Mac OS X ([\d_.]+)", "Mac OS X"),
    (r"CrOS \S+ ([\d.]+)", "Chrome OS"),
    (r"(Linux)", "Linux"),
)


def parse_user_agent(ua: str) -> BrowserInfo:
    """Browser and OS families from a User-Agent string, named as the server's uaparser names them."""
    browser = browser_version = os_name = os_version = device = ""
    for pattern, family in _BROWSERS:
        m = re.search(pattern, ua)
        if m:
            browser, browser_version = family, m.group(1)
            break
    if browser == "Chrome" and "Mobile" in ua and "Android" in ua:
        browser = "Chrome Mobile"
    if browser == "Firefox" and "Mobile" in ua:
        browser = "Firefox Mobile"
    if browser == "Safari" and "Mobile/" in ua:
        browser = "Mobile Safari"  # uaparser's name; the server's Safari rules match only "Safari"
    for pattern, family in _OSES:
        m = re.search(pattern, ua)
        if m:
            os_name = family
            os_version = "" if family == "Linux" else m.group(1).replace("_", ".")
            break
    if "iPhone" in ua:
        device = "iPhone"
    elif "iPad" in ua:
        device = "iPad"
    elif "Macintosh" in ua:
        device = "Mac"
    return BrowserInfo(browser, browser_version, os_name, os_version, device)


def make_client_info(browser: BrowserInfo) -> Any:
    """A ``livekit.ClientInfo`` message for this SDK running in ``browser``."""
    m = proto.models()
    return m.ClientInfo(
        sdk=m.ClientInfo.SDK.PYTHON,
        version=__version__,
        protocol=PROTOCOL_VERSION,
        client_protocol=CLIENT_PROTOCOL,
        browser=browser.browser,
        browser_version=browser.browser_version,
        os=browser.os,
        os_version=browser.os_version,
        device_model=browser.device_model,
        capabilities=[m.ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW],
    )


def legacy_query_fields(browser: BrowserInfo) -> dict[str, str]:
    """The ClientInfo fields as ``/rtc`` (v0) query parameters, as the server's ``ParseClientInfo`` reads them."""
    fields = {
        "sdk": "python",
        "version": __version__,
        "protocol": str(PROTOCOL_VERSION),
        "client_protocol": str(CLIENT_PROTOCOL),
    }
    for key in ("os", "os_version", "browser", "browser_version", "device_model"):
        value = getattr(browser, key)
        if value:
            fields[key] = value
    return fields
