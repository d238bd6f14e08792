"""The signalling WebSocket, over the browser's ``WebSocket`` (also present in Web Workers)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import js
from pyodide.ffi import to_js

from .._core.ports import TransportClosed
from ..errors import ConnectionError, ConnectionErrorReason
from ._proxies import ProxyBag

logger = logging.getLogger("livekit_pyweb.websocket")


class SignalInbox:
    """The receiving side of a signalling socket (:class:`BrowserWebSocket`, ``bridge.BridgeSignal``): frames queue
    up in ``_incoming``, then the close, which every later :meth:`recv` raises again."""

    def __init__(self) -> None:
        self._incoming: asyncio.Queue[bytes | TransportClosed] = asyncio.Queue()

    async def recv(self) -> bytes:
        """The next frame. Raises :class:`TransportClosed` once the socket closed."""
        item = await self._incoming.get()
        if isinstance(item, TransportClosed):
            self._incoming.put_nowait(item)  # every later recv() sees the close too
            raise item
        return item


class BrowserWebSocket(SignalInbox):
    """One binary WebSocket. Frames arrive on an asyncio queue; :meth:`send` never blocks."""

    def __init__(self, url: str) -> None:
        super().__init__()
        loop = asyncio.get_event_loop()
        self._opened: asyncio.Future[None] = loop.create_future()
        self._proxies = ProxyBag()
        self.closed = False
        self._ws: Any = js.WebSocket.new(url)
        self._ws.binaryType = "arraybuffer"
        self._proxies.listen(self._ws, "open", self._on_open)
        self._proxies.listen(self._ws, "message", self._on_message)
        self._proxies.listen(self._ws, "error", self._on_error)
        self._proxies.listen(self._ws, "close", self._on_close)

    def _on_open(self, _event: Any) -> None:
        if not self._opened.done():
            self._opened.set_result(None)

    def _on_message(self, event: Any) -> None:
        data = event.data
        if isinstance(data, str):
            self._incoming.put_nowait(data.encode())
        else:
            self._incoming.put_nowait(data.to_bytes())

    def _on_error(self, _event: Any) -> None:
        if not self._opened.done():
            self._opened.set_exception(TransportClosed(0, "error before open"))

    def _on_close(self, event: Any) -> None:
        closed = TransportClosed(int(event.code), str(event.reason))
        if not self._opened.done():
            self._opened.set_exception(closed)
        self._incoming.put_nowait(closed)
        self._release()

    async def wait_open(self, timeout: float) -> None:
        """Wait for the connection. Raises :class:`TransportClosed` if it failed, TimeoutError if slow."""
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._opened)

    def send(self, data: bytes) -> None:
        if self.closed or int(self._ws.readyState) != 1:
            return
        self._ws.send(to_js(data))

    def set_goodbye(self, frame: bytes | None) -> None:
        """A no-op: on the page's thread the engine's own ``pagehide`` listener sends the leave (in a worker the
        bridge's socket lives in the page host, which sends it: ``bridge.BridgeSignal``)."""

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            try:
                self._ws.close(code, reason)
            except Exception:
                pass
        self._release()

    def _release(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._proxies.close()
        if not self._opened.done():
            self._opened.set_exception(TransportClosed(1000, "closed"))
            self._opened.exception()  # mark retrieved


async def http_get(url: str, timeout: float = 5.0) -> tuple[int, str] | None:
    """GET ``url``; ``(status, text)``, or ``None`` when no HTTP answer came (refused, DNS, timeout)."""
    controller = js.AbortController.new()
    try:
        async with asyncio.timeout(timeout):
            options = to_js({"signal": controller.signal, "cache": "no-store"}, dict_converter=js.Object.fromEntries)
            response = await js.fetch(url, options)
            text = await response.text()
        return int(response.status), str(text)
    except TimeoutError:
        controller.abort()
        return None
    except Exception:  # JsException TypeError: Failed to fetch
        return None


def open_timeout_error(url: str) -> ConnectionError:
    """The error for a signalling socket that did not open within its deadline (the token redacted)."""
    from .._core.signal_url import redact_url

    return ConnectionError(f"timed out opening {redact_url(url)}", ConnectionErrorReason.Timeout)


async def explain_failed_open(url: str, failure: str) -> ConnectionError:
    """Why the signalling socket at ``url`` failed to open, as the server's ``validate`` endpoint explains it
    (``_core.validate``): the error to raise. Shared by the direct socket and the bridge's (fetch works in a
    worker too)."""
    from .._core.signal_url import token_in_url, validate_url
    from .._core.validate import error_from_validate

    answer = await http_get(validate_url(url))
    status, body = answer if answer is not None else (None, "")
    return error_from_validate(status, body, failure, token_in_url(url))


async def open_signal(url: str, timeout: float) -> BrowserWebSocket:
    """Open the signalling socket or raise a ConnectionError with a precise reason (see ``_core.validate``)."""
    ws = BrowserWebSocket(url)
    try:
        await ws.wait_open(timeout)
    except TimeoutError:
        ws.close()
        raise open_timeout_error(url) from None
    except TransportClosed as exc:
        ws.close()
        failure = str(exc)
    except BaseException:  # cancelled (the engine's own deadline, disconnect()): release the socket now
        ws.close()
        raise
    else:
        return ws
    raise await explain_failed_open(url, failure)
