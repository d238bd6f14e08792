"""Which :class:`~livekit_pyweb._core.ports.Platform` serves a Room in this JavaScript context.

* The page's main thread (a plain Pyodide page, PyScript without ``worker``): the direct adapters.
* A Web Worker (JupyterLite's kernel, PyScript ``worker`` mode): there is no RTCPeerConnection, getUserMedia or
  DOM, so the bridge (``bridge.py``) serves the port from the main thread. In a Jupyter kernel the page side comes
  as a widget (``livekit_pyweb.jupyter``); elsewhere the page loads ``lkpw-host.mjs`` and calls
  ``serveDiscovery()``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .._core.ports import PLATFORM_CHOICES as CHOICES
from ..errors import UnsupportedError


def _has(name: str) -> bool:
    import js

    from ._proxies import nullish

    try:
        return not nullish(getattr(js, name))
    except AttributeError:
        return False


def default_platform(choice: str = "auto") -> Any:
    """The platform for ``choice``: ``"direct"``, ``"bridge"``, or ``"auto"`` (direct where RTCPeerConnection
    exists, else the bridge).

    Raises:
        UnsupportedError: neither RTCPeerConnection nor a way to reach a page that has one (BroadcastChannel).
    """
    if choice not in CHOICES:
        raise ValueError(f"platform must be one of {CHOICES} or a Platform object, not {choice!r}")
    if choice == "direct" or (choice == "auto" and _has("RTCPeerConnection")):
        from .platform import BrowserPlatform

        return BrowserPlatform()
    if not _has("BroadcastChannel"):
        raise UnsupportedError(
            "this JavaScript context has no RTCPeerConnection (WebRTC) and no BroadcastChannel to reach a page "
            "that has one: livekit_pyweb needs a browser page or one of its Web Workers"
        )
    try:  # in a Jupyter kernel the page side is a widget
        jupyter: Any = importlib.import_module("livekit_pyweb.jupyter")
    except ImportError:
        jupyter = None
    platform = jupyter.jupyter_platform() if jupyter is not None else None
    if platform is not None:
        return platform
    bridge: Any = importlib.import_module("livekit_pyweb._browser.bridge")
    return bridge.BridgePlatform()

