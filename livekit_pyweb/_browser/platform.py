"""The engine's :class:`~livekit_pyweb._core.ports.Platform`, served by this page's own browser APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .media import user_agent
from .page import PageHideListener
from .peer_connection import BrowserPeerConnection
from .websocket import open_signal


class BrowserPlatform:
    async def open_signal(self, url: str, timeout: float) -> Any:
        return await open_signal(url, timeout)

    def create_peer_connection(self, config: dict[str, Any]) -> BrowserPeerConnection:
        return BrowserPeerConnection(config)

    def on_page_hide(self, fn: Callable[[], None]) -> PageHideListener:
        return PageHideListener(fn)

    def user_agent(self) -> str:
        return user_agent()
