"""Page lifecycle: leave the room when the page goes away, as livekit-client does on ``pagehide``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js

from ._proxies import ProxyBag, nullish


class VisibilityListener:
    """Calls ``fn(hidden)`` on each ``visibilitychange`` of the page's document. No-op in a Web Worker."""

    def __init__(self, fn: Callable[[bool], None]) -> None:
        self._bag = ProxyBag()
        document: Any = getattr(js, "document", None)
        if not nullish(document) and hasattr(document, "addEventListener"):
            self._bag.listen(document, "visibilitychange",
                             lambda _event: fn(str(document.visibilityState) == "hidden"))

    def close(self) -> None:
        self._bag.close()


class PageHideListener:
    """Calls ``fn`` once when the page is hidden for good (navigation, tab closed). No-op in a Web Worker."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._bag = ProxyBag()
        window: Any = getattr(js, "window", None)
        if not nullish(window) and hasattr(window, "addEventListener"):
            self._bag.listen(window, "pagehide", lambda _event: fn())

    def close(self) -> None:
        self._bag.close()
