"""The boundary between the engine and the platform that hosts it, as typing Protocols.

The browser adapters (``livekit_pyweb._browser``) implement it on the main thread. The same interface is meant to
be served across a message bridge to Pyodide running in a Web Worker (JupyterLite, PyScript worker mode), where
RTCPeerConnection and the DOM do not exist: so it is narrow, async where the browser is, and carries plain data
(SDP strings, candidate dicts, stats dicts) plus opaque track handles. Unit tests implement it with fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class TransportClosed(Exception):
    """The signalling transport closed; ``code``/``reason`` as the WebSocket close event gave them."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"signal transport closed (code {code}{', ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class SignalTransport(Protocol):
    async def recv(self) -> bytes:
        """The next binary frame; raises :class:`TransportClosed` once closed."""

    def send(self, data: bytes) -> None:
        """Queue one frame; never blocks."""

    def close(self, code: int = 1000, reason: str = "") -> None: ...


class DataChannelPort(Protocol):
    label: str
    on_message: Callable[[bytes], None] | None
    on_open: Callable[[], None] | None

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class PeerConnectionPort(Protocol):
    on_ice_candidate: Callable[[dict[str, Any] | None], None] | None
    on_track: Callable[[Any], None] | None
    on_connection_state: Callable[[str], None] | None
    on_data_channel: Callable[[Any], None] | None

    @property
    def connection_state(self) -> str: ...

    @property
    def has_remote_description(self) -> bool: ...

    def set_configuration(self, config: dict[str, Any]) -> None: ...

    async def create_offer(self, ice_restart: bool = False) -> str: ...

    async def create_answer(self) -> str: ...

    async def set_local_description(self, type_: str, sdp: str) -> None: ...

    async def set_remote_description(self, type_: str, sdp: str) -> None: ...

    async def add_ice_candidate(self, candidate: dict[str, Any] | None) -> None: ...

    def add_recv_transceiver(self, kind: str) -> None: ...

    def add_send_transceiver(self, track: Any, send_encodings: list[dict[str, Any]] | None = None) -> Any: ...

    def remove_sender(self, transceiver: Any) -> None: ...

    def create_data_channel(self, label: str, *, ordered: bool, max_retransmits: int | None = None) -> Any: ...

    def close(self) -> None: ...


class Closable(Protocol):
    def close(self) -> None: ...


class Platform(Protocol):
    """What the engine needs from its host."""

    async def open_signal(self, url: str, timeout: float) -> SignalTransport:
        """Open the signalling WebSocket, or raise ``ConnectionError`` with the reason ``validate`` gives."""

    def create_peer_connection(self, config: dict[str, Any]) -> PeerConnectionPort: ...

    def on_page_hide(self, fn: Callable[[], None]) -> Closable:
        """Call ``fn`` when the page goes away for good; close the returned handle to stop listening."""

    def user_agent(self) -> str:
        """The browser's User-Agent (for ClientInfo)."""
