"""The boundary between the SDK and the browser that hosts it, as typing Protocols: the only way to the browser.

Two implementations serve it:

* **direct** (``livekit_pyweb._browser.platform.BrowserPlatform``): Pyodide on the page's main thread calls the
  browser's own objects through ``js``.
* **bridge** (``livekit_pyweb._browser.bridge.BridgePlatform``): Pyodide in a Web Worker (JupyterLite's kernel,
  PyScript worker mode), where there is no RTCPeerConnection, getUserMedia or DOM. The same calls travel as
  request/response messages to a small JS module on the main thread (``web/lkpw-host.mjs``), which owns the
  browser objects; the page pushes their events back. See ``_core/bridge.py`` for the wire format.

So the port is shaped for a message channel:

* Every command that waits on the browser is ``async``. The few synchronous ones (``set_enabled``, ``stop``,
  ``attach``, ``send``, ``close``) are *posted*: they return at once, keep their order with every other call, and a
  failure is logged where it happens. No member reads browser state synchronously.
* Browser objects cross it as opaque ports (peer connection, data channel, media track, sender, receiver, media
  element): Python never holds a JS object it has to understand, only ports whose methods it calls.
* State the page owns is pushed as events and cached here (a peer connection's ``connection_state``, a track's
  ``ready_state``); callbacks are plain Python callables the SDK sets.
* Data crosses as plain values: SDP strings, candidate dicts, stats lists of dicts, bytes.

Unit tests implement it with in-memory fakes (``tests/unit/fakes.py``): the whole public layer runs on CPython.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol


PLATFORM_CHOICES = ("auto", "direct", "bridge")
"""``Room(platform=...)`` by name: where the browser objects live (see ``livekit_pyweb._browser.host``)."""


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

    def set_goodbye(self, frame: bytes | None) -> None:
        """Optional (the engine calls it only when present; it may be a no-op): ``frame`` is what to send on this
        socket, synchronously, if the page goes away before our code can (None: nothing). The engine sets an
        encoded LeaveRequest once joined and clears it when it closes. The direct transport ignores it (its own
        ``pagehide`` listener runs on the page's thread and sends the leave); the bridge's socket lives in the
        page host, which sends it in its ``pagehide`` handler (the worker is torn down before it runs anything)
        and when the worker stops answering."""


class Closable(Protocol):
    def close(self) -> None: ...


class DataChannelPort(Protocol):
    """One RTCDataChannel (binary messages). Its state is the page's, pushed: ``ready_state`` and the buffered
    amount as last reported; the callbacks are plain Python callables the SDK sets."""

    label: str
    ready_state: str
    """``"connecting"``, ``"open"``, ``"closing"`` or ``"closed"``, as the page last reported."""
    on_message: Callable[[bytes], None] | None
    """A message arrived (bytes; a text message comes UTF-8 encoded)."""
    on_open: Callable[[], None] | None
    on_close: Callable[[], None] | None
    """The channel closed (``close`` event): by the remote side, an oversized message, the connection going away.
    Not called for our own :meth:`close`."""
    on_buffered_amount_low: Callable[[], None] | None
    """``bufferedamountlow``: the channel's buffer drained to ``buffered_amount_low_threshold`` or below
    (:attr:`buffered_amount` is up to date when it runs)."""

    @property
    def buffered_amount(self) -> int:
        """Bytes handed to :meth:`send` and not yet sent on the wire. Direct: ``bufferedAmount`` itself. Bridge: an
        upper bound, exact as of the page's last report, plus what was posted since (sends the page has not
        handled yet); the page reports with every ``bufferedamountlow``."""

    buffered_amount_low_threshold: int
    """``bufferedAmountLowThreshold`` (bytes; 0 when never set): where ``bufferedamountlow`` fires. Setting it is
    posted."""

    def send(self, data: bytes) -> None:
        """Posted: queue ``data`` on the channel. Direct: a refused send (the channel is not open, its send queue is
        full) raises ``PublishDataError`` with the browser's reason; bridge: the page logs it."""

    def close(self) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class ElementView:
    """What the page sees of an element a remote video plays in (adaptive stream, pushed as page state)."""

    width: float
    """``clientWidth`` in CSS pixels (0 when not rendered, e.g. ``display: none``)."""
    height: float
    """``clientHeight`` in CSS pixels."""
    visible: bool
    """The element intersects the viewport (IntersectionObserver's ``isIntersecting``)."""
    page_hidden: bool
    """``document.visibilityState == "hidden"`` (a background tab)."""
    pixel_ratio: float = 1.0
    """``window.devicePixelRatio``."""


class MediaElementPort(Protocol):
    """An ``<audio>``/``<video>`` element playing tracks. Direct: the HTMLMediaElement itself is what
    ``Track.attach()`` returns; bridge: a handle the page renders (see ``BridgeElement``)."""


class MediaTrackPort(Protocol):
    """One MediaStreamTrack on the page: captured here, or received from the SFU."""

    id: str
    """The MediaStreamTrack's id (livekit's ``cid`` while publishing; a remote one may carry the track sid)."""
    kind: str
    """``"audio"`` or ``"video"``."""
    settings: dict[str, Any]
    """``getSettings()`` when the track was captured (width, height, frameRate, deviceId ...); ``{}`` if remote."""
    ready_state: str
    """``"live"`` or ``"ended"``, as the page last reported."""
    on_play: Callable[[bool, str], None] | None
    """Set by the SDK: the page's answer to ``play()`` of an element this track was attached to (page state,
    pushed), for an audio track, and for a video track in an element holding no audio (as livekit-client reports
    them): ``(True, "")`` once it plays, ``(False, name)`` when refused, ``name`` being the DOMException's
    (``NotAllowedError``: the autoplay policy wants a user gesture first, e.g. an unmuted video, or a low-power
    mode). An element holding audio and video whose ``play()`` is refused is muted and played again, so that at
    least its video plays (livekit-client)."""
    on_ended: Callable[[], None] | None
    """Set by the SDK: the track ended by itself (page state, pushed; the MediaStreamTrack's ``ended`` event): a
    captured one when the user stopped sharing the screen from the browser's own UI or a device went away, a
    received one when its transceiver stopped. Not called for our own :meth:`stop`."""
    on_removed: Callable[[], None] | None
    """Set by the SDK on a received track: it was removed from the stream it arrived in (page state, pushed; the
    stream's ``removetrack`` event for this track): a remote description stopped sending it, e.g. the server
    unsubscribed us (livekit-client then drops the track: ``TrackUnsubscribed``). Never called for a captured
    track."""

    @property
    def native(self) -> Any:
        """The JS MediaStreamTrack when it lives in this thread (direct), else None (bridge)."""

    def set_enabled(self, enabled: bool) -> None:
        """Posted: ``track.enabled = enabled`` (mute sends silence or black frames)."""

    def stop(self) -> None:
        """Posted: stop capturing and release the device. Idempotent."""

    def attach(self, element: Any = None) -> Any:
        """Posted: play this track in ``element`` (a new ``<video>``/``<audio>`` when None); returns the element,
        or its handle across the bridge."""

    def detach(self, element: Any) -> None:
        """Posted: stop playing this track in ``element`` (as returned by :meth:`attach`)."""

    def mount(self, element: Any, selector: str) -> None:
        """Append ``element`` (as returned by :meth:`attach`) into the page's ``document.querySelector(selector)``.
        Direct: raises ValueError when nothing matches; bridge: posted (a miss is logged by the page host)."""

    def observe(self, element: Any, fn: Callable[[ElementView], None]) -> Closable:
        """Adaptive stream: watch ``element`` (as returned by :meth:`attach`): its size (ResizeObserver), whether it
        is in the viewport (IntersectionObserver) and the page's visibility (``visibilitychange``). ``fn`` gets an
        :class:`ElementView` now or soon (the initial state) and after each change. Close the returned handle to
        stop; :meth:`release` stops every watch of this track. Direct: one kept proxy per watched element;
        bridge: the page host watches the element and pushes ``view`` events."""
    async def set_sink_id(self, element: Any, device_id: str) -> None:
        """Audio output selection: ``element.setSinkId(device_id)`` on an element this track plays in (as returned
        by :meth:`attach`); returns once the element plays to that device. Raises ``DeviceError`` with the
        DOMException's reason (``NotFoundError``: no such output; ``NotAllowedError``: not permitted) or
        ``UnsupportedError`` when the browser has no ``setSinkId``."""

    def release(self) -> None:
        """Forget this track (a remote track that went away, a stopped local one): its handle is freed (and its
        element watches stopped)."""

    async def detect_silence(self, window_ms: float) -> bool:
        """Is this audio track silent? livekit-client's ``detectSilence``: a new ``AudioContext`` with an
        ``AnalyserNode`` (``fftSize`` 2048) fed by this track; after ``window_ms`` its time-domain bytes are read
        (the last 2048 samples), and the track is silent when every one is 128 or 0; the context is closed. False
        where there is no ``AudioContext``; never raises (a failure is False)."""

    async def clone(self) -> MediaTrackPort:
        """``MediaStreamTrack.clone()``: the same source as a new track (a backup codec is sent on a clone).
        The clone is stopped and released on its own."""


class ReceiverPort(Protocol):
    async def get_stats(self) -> list[dict[str, Any]]:
        """The receiver's RTCStatsReport entries as dicts."""


class SenderPort(Protocol):
    """The transceiver a published track is sent on (handed back to ``remove_sender``)."""

    async def set_encodings_active(self, active: list[bool]) -> None:
        """Dynacast: ``getParameters()``, set ``encodings[i].active = active[i]``, ``setParameters()``. A sender
        without ``len(active)`` encodings is refused (direct: ``ValueError``; bridge: ``BridgeError``)."""

    async def get_stats(self) -> list[dict[str, Any]]:
        """The sender's RTCStatsReport entries as dicts (``RTCRtpSender.getStats()``: ``outbound-rtp`` per
        encoding, ``remote-inbound-rtp``, ``media-source``, ``codec``, ``transport`` ...)."""

    async def set_degradation_preference(self, preference: str) -> None:
        """``getParameters()``, ``degradationPreference = preference``, ``setParameters()``; raises what the
        browser raised (direct: ``NegotiationError``; bridge: ``BridgeError``/``NegotiationError``)."""

    async def get_parameters(self) -> dict[str, Any]:
        """``getParameters()`` as plain values: ``{"encodings": [...], "degradationPreference": str | None,
        "codecs": [{"mimeType", ...}]}`` (what the sender really uses; tests read it back)."""
    async def set_encodings(self, encodings: list[dict[str, Any]]) -> bool:
        """A restarted capture of another size: ``getParameters()``; for each encoding still active, take
        ``scaleResolutionDownBy``, ``maxBitrate``, ``maxFramerate`` and ``priority`` from ``encodings[i]`` (members
        absent there stay); ``setParameters()``. False, and nothing changed, when the sender has not
        ``len(encodings)`` encodings (their number is fixed once negotiated)."""

    async def replace_track(self, track: MediaTrackPort) -> None:
        """``RTCRtpSender.replaceTrack(track)``: send ``track`` from now on, with no renegotiation (the
        transceiver, its mid and the publication stay; the peer keeps receiving on the same track). Used to
        restart a published capture on another device."""


class TrackEvent(Protocol):
    """What the peer connection's ``track`` event told us."""

    track: MediaTrackPort
    stream_ids: list[str]
    mid: str
    receiver: ReceiverPort


class PeerConnectionPort(Protocol):
    on_ice_candidate: Callable[[dict[str, Any] | None], None] | None
    on_track: Callable[[Any], None] | None
    on_connection_state: Callable[[str], None] | None
    on_data_channel: Callable[[Any], None] | None
    connection_state: str
    """The last ``connectionState`` the page reported (cached; updated before ``on_connection_state`` runs)."""

    async def set_configuration(self, config: dict[str, Any]) -> None: ...

    async def create_offer(self, ice_restart: bool = False) -> str: ...

    async def create_answer(self) -> str: ...

    async def set_local_description(self, type_: str, sdp: str) -> None: ...

    async def set_remote_description(self, type_: str, sdp: str) -> None: ...

    async def add_ice_candidate(self, candidate: dict[str, Any] | None) -> None:
        """Add a remote candidate (None: end of candidates). A bad candidate is logged, never raised."""

    async def add_recv_transceiver(self, kind: str) -> None: ...

    async def add_send_transceiver(
        self, track: MediaTrackPort, send_encodings: list[dict[str, Any]] | None = None, codec: str | None = None
    ) -> SenderPort:
        """A ``sendonly`` transceiver for ``track``. ``codec`` (a mime type, ``"video/VP9"``): put first in the
        transceiver's ``setCodecPreferences`` (every codec of ``RTCRtpReceiver.getCapabilities(kind)`` stays,
        reordered: that codec first, for h264 the ``profile-level-id=42e01f`` variant before the others); skipped
        where the browser has no ``setCodecPreferences`` or lacks the codec."""

    async def remove_sender(self, sender: SenderPort) -> None: ...

    async def create_data_channel(
        self, label: str, *, ordered: bool, max_retransmits: int | None = None
    ) -> DataChannelPort: ...

    async def get_stats(self) -> list[dict[str, Any]]: ...

    def close(self) -> None:
        """Posted: close the connection and its data channels; release every callback. Idempotent."""


class Platform(Protocol):
    """Everything the SDK needs from its host."""

    name: str
    """``"direct"`` or ``"bridge"``."""

    async def start(self) -> None:
        """Be ready to serve (the bridge finds its page host here). Idempotent.

        Raises:
            UnsupportedError: this host cannot do WebRTC (names what is missing).
        """

    async def open_signal(self, url: str, timeout: float) -> SignalTransport:
        """Open the signalling WebSocket, or raise ``ConnectionError`` with the reason ``validate`` gives."""

    async def create_peer_connection(self, config: dict[str, Any]) -> PeerConnectionPort: ...

    async def get_user_media(self, constraints: dict[str, Any]) -> list[MediaTrackPort]:
        """Capture; raises ``DeviceError`` (permission, no device, busy) or ``UnsupportedError``."""

    async def get_display_media(self, options: dict[str, Any]) -> list[MediaTrackPort]:
        """Capture a screen, window or tab (``getDisplayMedia(options)``: ``video``/``audio`` constraints and the
        display-surface hints); the browser asks the user to pick, and only within a user activation (a click).
        Raises ``DeviceError`` (refused or cancelled: ``PermissionDenied``; no user activation: ``Other`` with the
        browser's error name) or ``DeviceUnsupportedError`` (no getDisplayMedia here)."""
    async def enumerate_devices(self) -> list[dict[str, str]]:
        """``navigator.mediaDevices.enumerateDevices()``: one ``{device_id, kind, label, group_id}`` per device,
        ``kind`` being ``"audioinput"``, ``"audiooutput"`` or ``"videoinput"`` (labels are empty until the page
        has been granted a capture). Raises ``UnsupportedError`` without ``navigator.mediaDevices``."""

    def on_devices_changed(self, fn: Callable[[], None]) -> Closable:
        """Call ``fn()`` on each ``devicechange`` of ``navigator.mediaDevices`` (a device plugged in or out, the
        default changed); page state, pushed. Close the returned handle to stop listening."""

    def on_page_hide(self, fn: Callable[[], None]) -> Closable:
        """Call ``fn`` when the page goes away for good; close the returned handle to stop listening."""

    def on_lost(self, fn: Callable[[str], None]) -> Closable:
        """Call ``fn(why)`` if the host serving this platform goes away (the bridge's page side stopped
        answering); the direct platform never calls it. Close the returned handle to stop listening."""

    def user_agent(self) -> str:
        """The browser's User-Agent (for ClientInfo)."""

    async def send_codecs(self, kind: str) -> list[str] | None:
        """The mime types ``RTCRtpSender.getCapabilities(kind)`` lists (``"video/VP9"``, ...); None when the
        browser has no ``getCapabilities``."""

    async def prepare_connection(self, url: str) -> None:
        """``fetch(url, {method: "HEAD", mode: "no-cors"})`` from the page: DNS, TCP and TLS to the server are
        ready for the connect that follows. Raises what the fetch raised (a network error)."""

    def start_audio(self, elements: list[Any]) -> Awaitable[list[str]]:
        """Unmute and ``play()`` each element (as returned by ``MediaTrackPort.attach``) *before returning*, in one
        synchronous step, so that a click handler's user activation covers the calls; the awaitable then gives the
        error names of the refused ones (``[]``: all play). Direct: the calls happen here. Bridge: the request is
        posted here and the page host plays those elements in one synchronous step when it reads it: that
        counts as a gesture only while the page still has user activation (a page button should call
        ``globalThis.livekitPyweb.startAudio()`` itself, see ``lkpw-host.mjs``). Never raises; failures are in
        the list."""

    def start_video(self, elements: list[Any]) -> Awaitable[list[str]]:
        """As :meth:`start_audio` for video (livekit-client's ``startVideo``): ``play()`` each element (as returned
        by ``MediaTrackPort.attach``), not unmuting it, in one synchronous step before returning; the awaitable
        gives the error names of the refused ones. Bridge: posted at once, op ``media.startVideo`` (a page button
        should call ``globalThis.livekitPyweb.startVideo()`` itself). Never raises."""

    def on_visibility_changed(self, fn: Callable[[bool], None]) -> Closable:
        """Call ``fn(hidden)`` on each ``visibilitychange`` of the page's document (``hidden``:
        ``document.visibilityState == "hidden"``); page state, pushed (bridge: a ``visibilitychange`` event of the
        page host). Close the returned handle to stop listening."""

    def silent_audio(self, state: str) -> Any:
        """Posted. livekit-client's iOS ``startAudio`` workaround (see ``_core/audio_session.py``): one hidden
        autoplay ``<audio>`` on the page playing a silent track (an oscillator through a zero gain into a
        ``MediaStreamDestination``). ``"create"``: put it on the page (playing) and return its element handle (as
        ``MediaTrackPort.attach`` returns one: ``start_audio`` plays it); ``"unplug"``: ``srcObject = null``;
        ``"plug"``: its stream back; ``"remove"``: take it off the page and stop its track and audio context.
        Returns None but for ``"create"``. A page without ``AudioContext``: nothing made (logged), the handle plays
        nothing."""

    async def capabilities(self) -> dict[str, bool]:
        """What the page hosting the media has (the page's main thread, also for a worker on the bridge), as
        livekit-client's support helpers test it: ``RTCPeerConnection`` (the constructor exists), ``addTransceiver``
        and ``addTrack`` (on its prototype), ``ResizeObserver``, ``IntersectionObserver``."""

    async def file_info(self, file: Any) -> dict[str, Any]:
        """``{"name", "size", "type"}`` of a file to send (``LocalParticipant.send_file``): ``file`` is a browser
        ``File``/``Blob`` held by Python here (read where Python runs: the page, or the worker itself), or
        ``{"selector": css, "index": i}``, the ``i``-th file of the page's ``<input type=file>`` that ``css`` finds
        (the page reads it; a worker cannot hold the page's File objects). A Blob has no name: "".

        Raises:
            FileNotFoundError: no such input on the page, or it holds no ``i``-th file.
        """

    async def read_file(self, file: Any, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of ``file`` (as :meth:`file_info` takes it) from ``offset``
        (``blob.slice(offset, offset + length).arrayBuffer()``)."""

    def close(self) -> None:
        """Posted: release everything this platform still holds (the bridge says goodbye: the page side then
        closes what is left and forgets its handles). A Room closes the platform it created when it disconnects;
        one passed to ``Room(platform=...)`` belongs to the caller."""
