"""livekit-client's support helpers: ``is_browser_supported()``, ``supports_adaptive_stream()``,
``supports_dynacast()``.

They answer for the page that hosts the media (where the peer connections and elements live), asked through the
Platform port: on the main thread that is this page; in a Web Worker (JupyterLite, PyScript ``worker``) it is the
page serving the bridge, since a worker has no RTCPeerConnection of its own and livekit_pyweb does its WebRTC
there. That is why they are coroutines (the bridge asks the page) and take an optional ``platform`` (default: the
one ``Room()`` would use here; one made here is closed again).

What each tests, as livekit-client's ``utils.ts``:

* ``is_browser_supported``: ``RTCPeerConnection`` exists and its prototype has ``addTransceiver`` or ``addTrack``.
* ``supports_dynacast``: the prototype has ``addTransceiver``.
* ``supports_adaptive_stream``: ``ResizeObserver`` and ``IntersectionObserver`` exist. (livekit-client compares
  ``typeof X !== undefined``, which is always true, so it answers True everywhere; we test what it means to.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_browser_supported", "supports_adaptive_stream", "supports_dynacast"]


async def _capabilities(platform: Any) -> dict[str, bool]:
    if platform is not None:
        return dict(await platform.capabilities())
    from .errors import UnsupportedError

    try:
        from ._browser.host import default_platform

        made = default_platform("auto")
    except (ImportError, UnsupportedError):  # no browser (CPython), or no page to reach
        return {}
    try:
        return dict(await made.capabilities())
    except UnsupportedError:  # a worker whose page serves no bridge
        return {}
    finally:
        made.close()


async def is_browser_supported(platform: Any = None) -> bool:
    """True when the page hosting the media can do WebRTC as livekit_pyweb needs (livekit-client's
    ``isBrowserSupported``)."""
    caps = await _capabilities(platform)
    return bool(caps.get("RTCPeerConnection")) and bool(caps.get("addTransceiver") or caps.get("addTrack"))


async def supports_adaptive_stream(platform: Any = None) -> bool:
    """True when the page hosting the media can watch element size and visibility (``ResizeObserver`` and
    ``IntersectionObserver``), which adaptiveStream needs."""
    caps = await _capabilities(platform)
    return bool(caps.get("ResizeObserver")) and bool(caps.get("IntersectionObserver"))


async def supports_dynacast(platform: Any = None) -> bool:
    """True when the page hosting the media has ``RTCPeerConnection.prototype.addTransceiver`` (livekit-client's
    ``supportsDynacast``)."""
    return bool((await _capabilities(platform)).get("addTransceiver"))
