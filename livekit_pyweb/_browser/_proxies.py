"""Ownership of JS callback proxies, and counters that tests read to prove no leak."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyodide.ffi import JsProxy, create_proxy

from .._page_js import helpers_function_body

try:  # Pyodide >= 0.27 maps JS null to a distinct singleton; undefined stays None
    from pyodide.ffi import jsnull as _jsnull
except ImportError:  # pragma: no cover
    _jsnull = None


class PageHelper:
    """A function of the page helpers (``livekit_pyweb/_static/page_helpers.mjs``, the JS the bridge's page host uses
    too), by name. The helpers are compiled once, on the first call of any of them, never at import: a module that
    makes JS objects at import cannot be put in the build's Pyodide memory snapshot (it is made on Node; "Can't
    serialize object"), and this one is. Call it like the function; ``.js`` is the function itself (to hand to JS)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._fn: Any = None

    @property
    def js(self) -> Any:
        if self._fn is None:
            self._fn = getattr(_page_helpers(), self.name)
        return self._fn

    def __call__(self, *args: Any) -> Any:
        return self.js(*args)


_helpers: Any = None


def _page_helpers() -> Any:
    global _helpers
    if _helpers is None:
        import js

        _helpers = js.Function.new(helpers_function_body())()
    return _helpers


def nullish(value: Any) -> bool:
    """True for JS ``null``/``undefined`` as Pyodide hands them over (``jsnull``/``None``)."""
    return value is None or value is _jsnull

_live = 0
_live_pcs = 0


def live_proxy_count() -> int:
    """Proxies created by livekit_pyweb adapters and not yet destroyed."""
    return _live


def live_peer_connection_count() -> int:
    """RTCPeerConnections created by livekit_pyweb and not yet closed."""
    return _live_pcs


def _pc_opened() -> None:
    global _live_pcs
    _live_pcs += 1


def _pc_closed() -> None:
    global _live_pcs
    _live_pcs -= 1


class ProxyBag:
    """The callbacks one adapter registered; :meth:`close` removes the listeners and destroys the proxies."""

    def __init__(self) -> None:
        self._entries: list[tuple[Any, str, Any]] = []
        self._closed = False

    def listen(self, target: JsProxy, event: str, fn: Callable[[Any], None]) -> None:
        """``target.addEventListener(event, fn)`` with a proxy this bag owns."""
        global _live
        if self._closed:
            raise RuntimeError("ProxyBag is closed")
        proxy = create_proxy(fn)
        _live += 1
        target.addEventListener(event, proxy)
        self._entries.append((target, event, proxy))

    def keep(self, fn: Callable[..., None]) -> JsProxy:
        """A proxy of ``fn`` for JS to call (no listener): this bag owns it and destroys it on :meth:`close`."""
        global _live
        if self._closed:
            raise RuntimeError("ProxyBag is closed")
        proxy = create_proxy(fn)
        _live += 1
        self._entries.append((None, "", proxy))
        return proxy

    def close(self) -> None:
        global _live
        if self._closed:
            return
        self._closed = True
        for target, event, proxy in self._entries:
            if target is not None:
                try:
                    target.removeEventListener(event, proxy)
                except Exception:  # the target may be gone already
                    pass
            proxy.destroy()
            _live -= 1
        self._entries.clear()
