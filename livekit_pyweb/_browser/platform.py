"""The direct :class:`~livekit_pyweb._core.ports.Platform`: Pyodide on the page's main thread, served by the
page's own browser APIs (no bridge, no copies)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .media import (BrowserTrack, DeviceChangeListener, enumerate_devices, get_display_media, get_user_media,
                    prepare_connection, send_codecs, start_audio, start_video, user_agent)
from ._proxies import PageHelper, nullish
from .files import file_info, read_file
from .page import PageHideListener, VisibilityListener
from .peer_connection import BrowserPeerConnection
from .websocket import BrowserWebSocket, open_signal


logger = logging.getLogger("livekit_pyweb")


class _Never:
    def close(self) -> None:
        pass


class BrowserPlatform:
    name = "direct"
    _silent: Any = None  # the iOS startAudio workaround's silent <audio> (see silent_audio)

    async def start(self) -> None:
        import js

        if not hasattr(js, "RTCPeerConnection"):
            from ..errors import UnsupportedError

            raise UnsupportedError("RTCPeerConnection is not available in this JavaScript context")

    async def open_signal(self, url: str, timeout: float) -> BrowserWebSocket:
        return await open_signal(url, timeout)

    async def create_peer_connection(self, config: dict[str, Any]) -> BrowserPeerConnection:
        return BrowserPeerConnection(config)

    async def get_user_media(self, constraints: dict[str, Any]) -> list[BrowserTrack]:
        return await get_user_media(constraints)

    async def get_display_media(self, options: dict[str, Any]) -> list[BrowserTrack]:
        return await get_display_media(options)
    async def enumerate_devices(self) -> list[dict[str, str]]:
        return await enumerate_devices()

    def on_devices_changed(self, fn: Callable[[], None]) -> DeviceChangeListener:
        return DeviceChangeListener(fn)

    def on_page_hide(self, fn: Callable[[], None]) -> PageHideListener:
        return PageHideListener(fn)

    def on_visibility_changed(self, fn: Callable[[bool], None]) -> VisibilityListener:
        return VisibilityListener(fn)

    def silent_audio(self, state: str) -> Any:
        """The element itself is the handle (see the port); one per platform."""
        silent = self._silent
        if state == "create":
            if silent is None:
                silent = _SILENT_AUDIO(None, "create")
                if nullish(silent):
                    logger.info("no AudioContext on this page: no silent audio element")
                    return None
                self._silent = silent
            return silent
        if silent is not None:
            _SILENT_AUDIO(silent, state)
            if state == "remove":
                self._silent = None
        return None

    def on_lost(self, fn: Callable[[str], None]) -> _Never:
        return _Never()  # the page is this thread: it cannot go away while we run

    def user_agent(self) -> str:
        return user_agent()

    async def send_codecs(self, kind: str) -> list[str] | None:
        return send_codecs(kind)

    async def prepare_connection(self, url: str) -> None:
        await prepare_connection(url)

    def start_audio(self, elements: list[Any]) -> asyncio.Future[list[str]]:
        return start_audio(elements)

    def start_video(self, elements: list[Any]) -> asyncio.Future[list[str]]:
        return start_video(elements)

    async def capabilities(self) -> dict[str, bool]:
        return dict(_CAPABILITIES().to_py())

    async def file_info(self, file: Any) -> dict[str, Any]:
        return file_info(file)

    async def read_file(self, file: Any, offset: int, length: int) -> bytes:
        return await read_file(file, offset, length)

    def close(self) -> None:
        pass  # every adapter releases its own proxies when it closes


# Page helper (livekit_pyweb/_static/page_helpers.mjs): the same test as the page host's op host.capabilities.
_CAPABILITIES = PageHelper("capabilities")
_SILENT_AUDIO = PageHelper("silentAudio")
