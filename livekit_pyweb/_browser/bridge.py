"""The bridge :class:`~livekit_pyweb._core.ports.Platform`: Pyodide in a Web Worker, served by the page.

A dedicated worker (JupyterLite's kernel, PyScript ``worker`` mode, a plain ``new Worker(...)``) has WebSocket and
BroadcastChannel but no RTCPeerConnection, getUserMedia or DOM. :class:`BridgePlatform` sends everything as calls to
the page host (``lkpw-host.mjs``, ``livekit_pyweb/_static/host.mjs``) over a BroadcastChannel, the signalling
WebSocket too (:class:`BridgeSignal`): closing the page kills the worker before it runs anything, so the page host
itself sends the LeaveRequest on ``pagehide`` (the engine hands it the frame with ``set_goodbye``); the protocol and its bookkeeping are
``livekit_pyweb/_core/bridge.py``. The port objects here hold handles, never JS objects:

* :class:`BridgePeerConnection`, :class:`BridgeDataChannel`, :class:`BridgeTrack`, :class:`BridgeReceiver`,
  :class:`BridgeSender`: the ports of ``_core/ports.py``; their state (connection state, a track's ready state)
  is what the page last reported.
* :class:`BridgeSignal`: the signalling WebSocket (``SignalTransport``), opened and held by the page host.
* :class:`BridgeElement`: what ``Track.attach()`` returns in a worker, a handle of a ``<video>``/``<audio>`` element
  that lives on the page. The page renders it: ``element.mount("#css-selector")`` appends it there, page JavaScript
  gets the element itself with ``globalThis.livekitPyweb.hosts.get(element.channel).element(element.handle)``.

Errors replied by the page are typed as on the direct path (getUserMedia → ``DeviceError`` with the same reasons,
SDP steps → ``NegotiationError``); a page host that goes away fails every pending call with ``BridgeError`` within
two heartbeat intervals and runs the ``on_lost`` callbacks (the engine then disconnects the room).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import to_js

from .._core import bridge as wire
from .._core.ports import ElementView, TransportClosed
from ..errors import BridgeError, LiveKitError, UnsupportedError
from ._errors import _DEVICE_REASONS
from . import files
from ._proxies import ProxyBag, nullish
from .websocket import SignalInbox, explain_failed_open, open_timeout_error

logger = logging.getLogger("livekit_pyweb.bridge")


def _js(value: Any) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries, create_pyproxies=False)


def _py(value: Any) -> Any:
    """A structured-clone value as plain Python: JS null → None, Uint8Array → bytes, objects → dicts."""
    if hasattr(value, "to_py"):
        value = value.to_py()
    return _clean(value)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, memoryview):
        return value.tobytes()
    if nullish(value):
        return None
    return value


class _Registration:
    """What ``on_page_hide``/``on_lost`` return: close it to stop listening."""

    def __init__(self, listeners: list[Callable[..., None]], fn: Callable[..., None]) -> None:
        self._listeners = listeners
        self._fn = fn
        listeners.append(fn)

    def close(self) -> None:
        if self._fn in self._listeners:
            self._listeners.remove(self._fn)


class BridgeElement:
    """A ``<video>``/``<audio>`` element on the page, as a worker holds it: a handle the page renders.

    ``mount(selector)`` appends it into ``document.querySelector(selector)``; page JavaScript gets the element with
    ``globalThis.livekitPyweb.hosts.get(channel).element(handle)``; ``release()`` removes it from the page. An element
    that ``Track.attach()`` created goes away with its track (when the track is released and nothing else plays in
    it)."""

    def __init__(self, platform: BridgePlatform, handle: int) -> None:
        self._platform = platform
        self.handle = handle
        self.channel = platform.channel
        self._audio: BridgeTrack | None = None  # the audio track playing here: told how play() went
        self._video: BridgeTrack | None = None  # the video track playing here: told when it is the kind reported
        self._tracks: list[BridgeTrack] = []  # the tracks attached here (the host's view, mirrored)
        platform._route(handle, self)

    def _event(self, type_: str, data: Any) -> None:
        if type_ != "play":
            return
        # "kind": whose play() it was (the host reports audio, or video in an element without audio); an older
        # host sends none: audio.
        kind = data.get("kind") if isinstance(data, dict) else None
        track = self._video if kind == "video" else self._audio
        if track is not None and track.on_play is not None:
            ok = isinstance(data, dict) and data.get("ok") is True
            error = data.get("error") if isinstance(data, dict) else ""
            track.on_play(ok, error if isinstance(error, str) else "")

    def mount(self, selector: str) -> BridgeElement:
        """Append the element into the page's ``document.querySelector(selector)`` (posted); returns self."""
        self._platform._post("element.mount", self.handle, selector)
        return self

    def release(self) -> None:
        """Detach every track, remove the element from the page and forget it (posted)."""
        self._platform._post("element.release", self.handle)
        self._platform._forget(self.handle)

    def __repr__(self) -> str:
        return f"BridgeElement(handle={self.handle}, channel={self.channel!r})"


class BridgeWatch:
    """Adaptive stream: the page host watches an element (``element.observe``) and pushes ``view`` events to this
    handle; :meth:`close` stops it (``element.unobserve``, posted). The host stops it too when the element goes."""

    def __init__(self, platform: BridgePlatform, handle: int, fn: Callable[[ElementView], None],
                 owner: list[BridgeWatch]) -> None:
        self._platform = platform
        self.handle = handle
        self._fn: Callable[[ElementView], None] | None = fn
        self._owner = owner
        platform._route(handle, self)

    def _event(self, type_: str, data: Any) -> None:
        if type_ == "view" and isinstance(data, dict) and self._fn is not None:
            self._fn(ElementView(float(data.get("w") or 0), float(data.get("h") or 0), data.get("v") is True,
                                 data.get("hidden") is True, float(data.get("dpr") or 1)))

    def close(self) -> None:
        if self._fn is None:
            return
        self._fn = None
        self._platform._post("element.unobserve", self.handle)
        self._platform._forget(self.handle)
        if self in self._owner:
            self._owner.remove(self)


class BridgeTrack:
    """A MediaStreamTrack on the page (captured there, or received by one of its peer connections)."""

    def __init__(self, platform: BridgePlatform, handle: int, track_id: str, kind: str,
                 settings: dict[str, Any] | None = None) -> None:
        self._platform = platform
        self.handle = handle
        self.id = track_id
        self.kind = kind
        self.settings: dict[str, Any] = settings or {}
        self.ready_state = "live"
        self.on_ended: Callable[[], None] | None = None
        self.on_removed: Callable[[], None] | None = None
        self.on_play: Callable[[bool, str], None] | None = None
        self._released = False
        self._created: list[BridgeElement] = []
        self._watches: list[BridgeWatch] = []
        platform._route(handle, self)

    @property
    def native(self) -> Any:
        return None  # the JS object lives on the page

    def set_enabled(self, enabled: bool) -> None:
        self._platform._post("track.setEnabled", self.handle, bool(enabled))

    def stop(self) -> None:
        if self.ready_state == "ended":
            return
        self.ready_state = "ended"
        self._platform._post("track.stop", self.handle)

    def attach(self, element: Any = None) -> BridgeElement:
        if element is None:
            target = BridgeElement(self._platform, self._platform._new_handle())
            self._created.append(target)
        elif isinstance(element, BridgeElement):
            target = element
        else:
            raise UnsupportedError("in a Web Worker a track plays in a BridgeElement (what attach() returns); "
                                   f"got {type(element).__name__}")
        if self.kind == "audio":
            target._audio = self
        else:
            target._video = self
        # The host plays one track per kind in an element: attaching replaces the one of the same kind.
        target._tracks = [t for t in target._tracks if t.kind != self.kind] + [self]
        self._platform._post("track.attach", self.handle, target.handle, self.kind)
        return target

    def detach(self, element: Any) -> None:
        if isinstance(element, BridgeElement):
            element._tracks = [t for t in element._tracks if t is not self]
            self._platform._post("track.detach", self.handle, element.handle)

    async def set_sink_id(self, element: Any, device_id: str) -> None:
        if not isinstance(element, BridgeElement):
            raise UnsupportedError("in a Web Worker only a BridgeElement (what attach() returns) has an audio output")
        await self._platform._call("element.setSinkId", element.handle, str(device_id))

    def mount(self, element: Any, selector: str) -> None:
        if not isinstance(element, BridgeElement):
            raise UnsupportedError("in a Web Worker only a BridgeElement (what attach() returns) can be mounted")
        element.mount(selector)

    def observe(self, element: Any, fn: Callable[[ElementView], None]) -> BridgeWatch:
        if not isinstance(element, BridgeElement):
            raise UnsupportedError("in a Web Worker only a BridgeElement (what attach() returns) can be observed")
        watch = BridgeWatch(self._platform, self._platform._new_handle(), fn, self._watches)
        self._watches.append(watch)
        self._platform._post("element.observe", element.handle, watch.handle)
        return watch

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        for watch in list(self._watches):
            watch.close()
        self._platform._post("handle.release", self.handle)
        self._platform._forget(self.handle)
        self.on_play = None
        for element in self._created:
            element._tracks = [t for t in element._tracks if t is not self]
            if element._tracks:  # another track plays there now (a restarted capture): it owns the element
                element._tracks[-1]._created.append(element)
            else:  # the host releases the elements this track created with it
                self._platform._forget(element.handle)
        self._created.clear()

    async def detect_silence(self, window_ms: float) -> bool:
        try:
            return await self._platform._call("track.detectSilence", self.handle, float(window_ms)) is True
        except LiveKitError as exc:  # the page or the track went away meanwhile
            logger.debug("detect_silence: %s", exc)
            return False

    async def clone(self) -> BridgeTrack:
        handle = self._platform._new_handle()
        info = dict(await self._platform._call("track.clone", self.handle, handle))
        return BridgeTrack(self._platform, handle, str(info["id"]), self.kind, dict(info.get("settings") or {}))

    def _event(self, type_: str, data: Any) -> None:
        if type_ == "ended":
            self.ready_state = "ended"
            if self.on_ended is not None:
                self.on_ended()
        elif type_ == "removed" and self.on_removed is not None:
            self.on_removed()

    def __repr__(self) -> str:
        return f"BridgeTrack({self.kind}, id={self.id!r}, handle={self.handle})"


class BridgeReceiver:
    def __init__(self, platform: BridgePlatform, handle: int) -> None:
        self._platform = platform
        self.handle = handle

    async def get_stats(self) -> list[dict[str, Any]]:
        return list(await self._platform._call("receiver.getStats", self.handle))


class BridgeSender:
    """The transceiver a published track is sent on (a handle)."""

    def __init__(self, platform: BridgePlatform, handle: int) -> None:
        self._platform = platform
        self.handle = handle

    async def set_encodings_active(self, active: list[bool]) -> None:
        await self._platform._call("sender.setActive", self.handle, [bool(a) for a in active])

    async def get_stats(self) -> list[dict[str, Any]]:
        return list(await self._platform._call("sender.getStats", self.handle))

    async def set_degradation_preference(self, preference: str) -> None:
        await self._platform._call("sender.setDegradationPreference", self.handle, str(preference))

    async def get_parameters(self) -> dict[str, Any]:
        params = dict(await self._platform._call("sender.getParameters", self.handle))
        return {"encodings": list(params.get("encodings") or []),
                "degradationPreference": params.get("degradationPreference"),
                "codecs": list(params.get("codecs") or [])}
    async def set_encodings(self, encodings: list[dict[str, Any]]) -> bool:
        return bool(await self._platform._call("sender.setEncodings", self.handle, [dict(e) for e in encodings]))

    async def replace_track(self, track: Any) -> None:
        if not isinstance(track, BridgeTrack):
            raise UnsupportedError(f"in a Web Worker a sender sends a BridgeTrack, not {type(track).__name__}")
        await self._platform._call("sender.replaceTrack", self.handle, track.handle)


class BridgeTrackEvent:
    """What the page's ``track`` event told us (the port's ``TrackEvent``)."""

    __slots__ = ("track", "stream_ids", "mid", "receiver")

    def __init__(self, track: BridgeTrack, stream_ids: list[str], mid: str, receiver: BridgeReceiver) -> None:
        self.track = track
        self.stream_ids = stream_ids
        self.mid = mid
        self.receiver = receiver


class BridgeDataChannel:
    """An RTCDataChannel on the page. The page owns ``bufferedAmount``: this side counts the bytes it posted
    (``dc.send``), the page counts those it handed to the channel and reports both that count and
    ``bufferedAmount`` with every ``bufferedamountlow`` event (and when asked, ``dc.state``). So
    :attr:`buffered_amount` = page-reported ``bufferedAmount`` + bytes posted that the page had not handled at its
    report: never below the real value. When a ``bufferedamountlow`` report still leaves that above the threshold
    (sends were on their way), the channel asks the page again (the answer comes after those sends) before it
    tells the SDK the buffer is low. It also asks when the bytes it posted since the page's last report pass the
    threshold: a page whose channel drains each send before the next never crosses the threshold, so never fires
    ``bufferedamountlow``, while our estimate (counting those sends as buffered) would keep the SDK waiting for it
    (seen: 300 sends of up to 64 KB stalled at 1.1 MB "buffered" with the page's channel empty)."""

    def __init__(self, platform: BridgePlatform, handle: int, label: str) -> None:
        self._platform = platform
        self.handle = handle
        self.label = label
        self.ready_state = "connecting"
        self.on_message: Callable[[bytes], None] | None = None
        self.on_open: Callable[[], None] | None = None
        self.on_close: Callable[[], None] | None = None
        self.on_buffered_amount_low: Callable[[], None] | None = None
        self._threshold = 0
        self._posted = 0  # bytes posted with dc.send
        self._page_sent = 0  # of those, bytes the page had handed to the channel at its last report
        self._page_buffered = 0  # bufferedAmount at the page's last report
        self._asking: asyncio.Task[None] | None = None
        self._closed = False
        platform._route(handle, self)

    @property
    def buffered_amount(self) -> int:
        return self._page_buffered + max(0, self._posted - self._page_sent)

    @property
    def buffered_amount_low_threshold(self) -> int:
        return self._threshold

    @buffered_amount_low_threshold.setter
    def buffered_amount_low_threshold(self, value: int) -> None:
        self._threshold = int(value)
        if not self._closed:
            self._platform._post("dc.setThreshold", self.handle, self._threshold)

    def send(self, data: bytes) -> None:
        if not self._closed:
            self._posted += len(data)
            self._platform._post("dc.send", self.handle, bytes(data))
            if self._posted - self._page_sent > self._threshold and self._asking is None:
                self._asking = asyncio.ensure_future(self._ask())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.ready_state = "closed"
        self._stop_asking()
        self._platform._post("dc.close", self.handle)
        self._platform._forget(self.handle)

    def _gone(self) -> None:
        """Its peer connection closed it on the page."""
        self._closed = True
        self.ready_state = "closed"
        self._stop_asking()
        self._platform._forget(self.handle)

    def _stop_asking(self) -> None:
        if self._asking is not None:
            self._asking.cancel()
            self._asking = None

    def _report(self, data: Any) -> None:
        info = data if isinstance(data, dict) else {}
        self._page_buffered = int(info.get("buffered") or 0)
        self._page_sent = int(info.get("sent") or 0)

    def _low(self) -> None:
        if self.buffered_amount <= self._threshold:
            if self.on_buffered_amount_low is not None:
                self.on_buffered_amount_low()
        elif self._asking is None:
            self._asking = asyncio.ensure_future(self._ask())

    async def _ask(self) -> None:
        """Ask the page for ``bufferedAmount`` and what it handled (its answer follows every send posted before the
        question); tell the SDK when that is low. Ask again while sends posted meanwhile keep the estimate above
        the threshold and the page's own buffer is not (then no ``bufferedamountlow`` would come to say so)."""
        try:
            while not self._closed:
                posted = self._posted
                self._report(await self._platform._call("dc.state", self.handle))
                if self._closed:
                    return
                if self.buffered_amount <= self._threshold:
                    if self.on_buffered_amount_low is not None:
                        self.on_buffered_amount_low()
                    return
                if self._page_buffered > self._threshold or self._posted == posted:
                    return  # the page's bufferedamountlow will come, or our next send asks again
        except Exception as exc:  # the channel or the bridge went away: its close or on_lost tells the SDK
            logger.debug("bridge: dc.state of %s failed: %s", self.label, exc)
        finally:
            self._asking = None

    def _event(self, type_: str, data: Any) -> None:
        if self._closed:
            return
        if type_ == "open":
            self.ready_state = "open"
            if self.on_open is not None:
                self.on_open()
        elif type_ == "message":
            payload = data if isinstance(data, bytes) else str(data).encode()
            if self.on_message is not None:
                self.on_message(payload)
        elif type_ == "bufferedamountlow":
            self._report(data)
            self._low()
        elif type_ == "close":
            self.ready_state = "closed"
            self._stop_asking()
            if self.on_close is not None:
                self.on_close()


class BridgeSignal(SignalInbox):
    """The signalling WebSocket, held by the page host (the ``SignalTransport`` port). Frames arrive as ``message``
    events on an asyncio queue; :meth:`send` and :meth:`close` are posted."""

    def __init__(self, platform: BridgePlatform, handle: int) -> None:
        self._platform = platform
        self.handle = handle
        self.closed = False
        super().__init__()
        platform._route(handle, self)

    def _event(self, type_: str, data: Any) -> None:
        if self.closed:
            return
        if type_ == "message":
            self._incoming.put_nowait(data if isinstance(data, bytes) else str(data).encode())
        elif type_ == "close":
            info = data if isinstance(data, dict) else {}
            self._incoming.put_nowait(TransportClosed(int(info.get("code") or 1006), str(info.get("reason") or "")))
            self._release()

    def send(self, data: bytes) -> None:
        if not self.closed:
            self._platform._post("ws.send", self.handle, bytes(data))

    def set_goodbye(self, frame: bytes | None) -> None:
        """The bytes the page host sends on this socket in its ``pagehide`` handler (None: nothing)."""
        if not self.closed:
            self._platform._post("ws.setGoodbye", self.handle, None if frame is None else bytes(frame))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self._platform._post("ws.close", self.handle, code, reason)
        self._release()

    def _release(self) -> None:
        self.closed = True
        self._platform._forget(self.handle)


class BridgePeerConnection:
    """An RTCPeerConnection on the page. Callbacks are plain Python callables set by the engine."""

    def __init__(self, platform: BridgePlatform, handle: int) -> None:
        self._platform = platform
        self.handle = handle
        self.connection_state = "new"
        self.on_ice_candidate: Callable[[dict[str, Any] | None], None] | None = None
        self.on_track: Callable[[BridgeTrackEvent], None] | None = None
        self.on_connection_state: Callable[[str], None] | None = None
        self.on_data_channel: Callable[[BridgeDataChannel], None] | None = None
        self._channels: list[BridgeDataChannel] = []
        self._remote: list[int] = []  # handles the page made for this connection (tracks, receivers)
        self._closed = False
        platform._route(handle, self)

    async def _call(self, op: str, *args: Any) -> Any:
        return await self._platform._call(op, self.handle, *args)

    # -- events from the page ------------------------------------------------------------------------------------
    def _event(self, type_: str, data: Any) -> None:
        if self._closed:
            return
        if type_ == "icecandidate":
            if self.on_ice_candidate is not None:
                self.on_ice_candidate(data if isinstance(data, dict) else None)
        elif type_ == "connectionstatechange":
            self.connection_state = str(data)
            if self.on_connection_state is not None:
                self.on_connection_state(self.connection_state)
        elif type_ == "track":
            info = data["track"]
            track = BridgeTrack(self._platform, int(info["h"]), str(info["id"]), str(info["kind"]))
            receiver = BridgeReceiver(self._platform, int(data["receiver"]))
            self._remote += [track.handle, receiver.handle]
            if self.on_track is not None:
                self.on_track(BridgeTrackEvent(track, [str(s) for s in data.get("streams") or []],
                                               str(data.get("mid") or ""), receiver))
        elif type_ == "datachannel":
            channel = BridgeDataChannel(self._platform, int(data["h"]), str(data["label"]))
            self._channels.append(channel)
            if self.on_data_channel is not None:
                self.on_data_channel(channel)

    # -- commands ------------------------------------------------------------------------------------------------
    async def set_configuration(self, config: dict[str, Any]) -> None:
        await self._call("pc.setConfiguration", config)

    async def create_offer(self, ice_restart: bool = False) -> str:
        return str(await self._call("pc.createOffer", {"iceRestart": ice_restart}))

    async def create_answer(self) -> str:
        return str(await self._call("pc.createAnswer"))

    async def set_local_description(self, type_: str, sdp: str) -> None:
        await self._call("pc.setLocalDescription", type_, sdp)

    async def set_remote_description(self, type_: str, sdp: str) -> None:
        await self._call("pc.setRemoteDescription", type_, sdp)

    async def add_ice_candidate(self, candidate: dict[str, Any] | None) -> None:
        try:
            await self._call("pc.addIceCandidate", candidate)
        except LiveKitError as exc:
            if self._platform.lost is not None or self._platform.closed:  # on_lost tells the engine
                logger.debug("addIceCandidate not delivered: %s", exc)
            else:  # a bad candidate is logged, not fatal (as in livekit-client)
                logger.warning("addIceCandidate failed: %s", exc)

    async def add_recv_transceiver(self, kind: str) -> None:
        await self._call("pc.addRecvTransceiver", kind)

    async def add_send_transceiver(
        self, track: BridgeTrack, send_encodings: list[dict[str, Any]] | None = None, codec: str | None = None
    ) -> BridgeSender:
        sender = BridgeSender(self._platform, self._platform._new_handle())
        await self._call("pc.addSendTransceiver", sender.handle, track.handle, send_encodings or None, codec or None)
        return sender

    async def remove_sender(self, sender: BridgeSender) -> None:
        await self._call("pc.removeSender", sender.handle)

    async def create_data_channel(
        self, label: str, *, ordered: bool, max_retransmits: int | None = None
    ) -> BridgeDataChannel:
        init: dict[str, Any] = {"ordered": ordered}
        if max_retransmits is not None:
            init["maxRetransmits"] = max_retransmits
        channel = BridgeDataChannel(self._platform, self._platform._new_handle(), label)
        self._channels.append(channel)
        try:
            await self._call("pc.createDataChannel", channel.handle, label, init)
        except BaseException:
            channel._gone()
            self._channels.remove(channel)
            raise
        return channel

    async def get_stats(self) -> list[dict[str, Any]]:
        return list(await self._call("pc.getStats"))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._platform._post("pc.close", self.handle)  # the page closes its channels and forgets its handles
        for channel in self._channels:
            channel._gone()
        self._channels.clear()
        for h in self._remote:
            self._platform._forget(h)
        self._remote.clear()
        self._platform._forget(self.handle)


class BridgePlatform:
    """The Platform port served by a page host over a BroadcastChannel.

    Args:
        channel: the BroadcastChannel name; a new random ``"lkpw-…"`` name when None.
        announce: tells the page the name (after the channel is open); default: a ``discover`` message on
            ``"livekit-pyweb-hosts"``, which a page that called ``serveDiscovery()`` answers. A notebook widget
            passes its own (it sends the name through the widget model and the page calls ``startHost(name)``).
        interval: heartbeat interval in seconds; two intervals of silence mean the other side is gone.
        start_timeout: seconds :meth:`start` waits for a page host before raising ``UnsupportedError``.
    """

    name = "bridge"

    def __init__(
        self,
        channel: str | None = None,
        *,
        announce: Callable[[str], None] | None = None,
        interval: float = wire.DEFAULT_INTERVAL,
        start_timeout: float = 5.0,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, not {interval!r}")
        self.channel = channel or wire.new_channel_name()
        self.interval = interval
        self.start_timeout = start_timeout
        self._announce = announce or _discover
        self._session: wire.BridgeSession | None = None
        self._channel: Any = None
        self._proxies = ProxyBag()
        self._objects: dict[int, Any] = {}
        self._page_hide: list[Callable[[], None]] = []
        self._device_change: list[Callable[[], None]] = []
        self._visibility: list[Callable[[bool], None]] = []
        self._silent: BridgeElement | None = None  # the iOS startAudio workaround's silent <audio>
        self._lost: list[Callable[[str], None]] = []
        self._starting: asyncio.Future[None] | None = None
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._closed:
            raise BridgeError("this BridgePlatform was closed; make a new one")
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    async def _start(self) -> None:
        if nullish(getattr(js, "BroadcastChannel", None)):
            raise UnsupportedError("no RTCPeerConnection and no BroadcastChannel in this JavaScript context")
        self._channel = js.BroadcastChannel.new(self.channel)
        self._proxies.listen(self._channel, "message", self._on_message)
        self._session = wire.BridgeSession(
            self._post_message, interval=self.interval, on_event=self._on_event, on_lost=self._on_lost,
            device_reasons=_DEVICE_REASONS,
        )
        handshake = asyncio.ensure_future(self._session.handshake(self.start_timeout))
        try:
            self._announce(self.channel)
            await handshake
        except TimeoutError:
            self.close()
            raise UnsupportedError(
                "no RTCPeerConnection in this Web Worker and no livekit_pyweb page host answered on BroadcastChannel "
                f"{self.channel!r} within {self.start_timeout:g} s: load lkpw-host.mjs on the page "
                "(serveDiscovery())"
            ) from None
        except BaseException:
            handshake.cancel()
            self.close()
            raise

    def close(self) -> None:
        """Say goodbye to the page host (it releases what is left), fail pending calls, destroy our proxies and
        close the channel. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._session is not None:
            self._session.close()
        self._proxies.close()
        if self._channel is not None:
            try:
                self._channel.close()
            except Exception:
                pass
            self._channel = None
        self._objects.clear()

    # -- the channel ---------------------------------------------------------------------------------------------
    def _post_message(self, message: dict[str, Any]) -> None:
        if self._channel is not None:
            self._channel.postMessage(_js(message))

    def _on_message(self, event: Any) -> None:
        if self._session is None:
            return
        try:
            self._session.receive(_py(event.data))
        except Exception:  # a callback of ours failed: log it, keep serving
            logger.exception("bridge: handling a message from the page failed")

    def _on_event(self, event: wire.Event) -> None:
        if event.h == 0:
            if event.type == "pagehide":
                for fn in list(self._page_hide):
                    fn()
            elif event.type == "devicechange":
                for fn in list(self._device_change):
                    fn()
            elif event.type == "visibilitychange":
                hidden = bool((event.data or {}).get("hidden"))
                for visibility_fn in list(self._visibility):
                    visibility_fn(hidden)
            return
        target = self._objects.get(event.h)
        if target is None:
            logger.debug("bridge: %s event for a forgotten handle %d", event.type, event.h)
            return
        target._event(event.type, event.data)

    def _on_lost(self, why: str) -> None:
        for fn in list(self._lost):
            fn(why)

    # -- for the port objects ----------------------------------------------------------------------------------
    def _require(self) -> wire.BridgeSession:
        if self._session is None or self._session.welcome is None:
            raise BridgeError("the bridge has not started (await platform.start() first)")
        return self._session

    async def _call(self, op: str, *args: Any) -> Any:
        return await self._require().call(op, *args)

    def _post(self, op: str, *args: Any) -> None:
        if self._session is not None:
            self._session.post(op, *args)

    def _new_handle(self) -> int:
        return self._require().handles.new()

    def _route(self, handle: int, target: Any) -> None:
        self._objects[handle] = target

    def _forget(self, handle: int) -> None:
        self._objects.pop(handle, None)

    # -- the port ------------------------------------------------------------------------------------------------
    async def open_signal(self, url: str, timeout: float) -> BridgeSignal:
        """Open the signalling WebSocket on the page (see :class:`BridgeSignal`); errors as the direct path's
        ``websocket.open_signal``: the validate URL's answer on failure, ``Timeout`` after ``timeout`` seconds."""
        ws = BridgeSignal(self, self._new_handle())
        try:
            async with asyncio.timeout(timeout):
                await self._require().call("ws.open", ws.handle, url, timeout=None)
        except TimeoutError:
            ws.close()
            raise open_timeout_error(url) from None
        except TransportClosed as exc:
            ws._release()  # the page released it
            failure = str(exc)
        except BaseException:  # cancelled, the bridge lost: release the socket on the page now
            ws.close()
            raise
        else:
            return ws
        raise await explain_failed_open(url, failure)

    async def create_peer_connection(self, config: dict[str, Any]) -> BridgePeerConnection:
        pc = BridgePeerConnection(self, self._new_handle())
        try:
            await self._call("pc.create", pc.handle, config)
        except BaseException:
            self._forget(pc.handle)
            raise
        return pc

    async def get_user_media(self, constraints: dict[str, Any]) -> list[BridgeTrack]:
        tracks = await self._call("media.getUserMedia", constraints)
        return [BridgeTrack(self, int(t["h"]), str(t["id"]), str(t["kind"]), dict(t.get("settings") or {}))
                for t in tracks]

    async def get_display_media(self, options: dict[str, Any]) -> list[BridgeTrack]:
        """``getDisplayMedia`` on the page: it needs the page's user activation when the call arrives (a click on
        the page shortly before; the browser keeps it for a few seconds)."""
        tracks = await self._call("media.getDisplayMedia", options)
        return [BridgeTrack(self, int(t["h"]), str(t["id"]), str(t["kind"]), dict(t.get("settings") or {}))
                for t in tracks]
    async def enumerate_devices(self) -> list[dict[str, str]]:
        infos = await self._call("media.enumerateDevices")
        return [{"device_id": str(d.get("deviceId") or ""), "kind": str(d.get("kind") or ""),
                 "label": str(d.get("label") or ""), "group_id": str(d.get("groupId") or "")} for d in infos]

    def on_devices_changed(self, fn: Callable[[], None]) -> _Registration:
        """The page host pushes every ``devicechange`` of its ``navigator.mediaDevices`` (a ``h = 0`` event)."""
        return _Registration(self._device_change, fn)

    def on_page_hide(self, fn: Callable[[], None]) -> _Registration:
        return _Registration(self._page_hide, fn)

    def on_visibility_changed(self, fn: Callable[[bool], None]) -> _Registration:
        """The page host pushes every ``visibilitychange`` of its document (a ``h = 0`` event, ``{hidden}``)."""
        return _Registration(self._visibility, fn)

    def silent_audio(self, state: str) -> BridgeElement | None:
        """Posts ``media.silentAudio``; ``"create"`` allocates the element's handle here (see the port)."""
        if state == "create":
            if self._silent is None:
                self._silent = BridgeElement(self, self._new_handle())
                self._post("media.silentAudio", self._silent.handle, "create")
            return self._silent
        silent = self._silent
        if silent is not None:
            self._post("media.silentAudio", silent.handle, state)
            if state == "remove":
                self._silent = None
                self._forget(silent.handle)
        return None

    def on_lost(self, fn: Callable[[str], None]) -> _Registration:
        return _Registration(self._lost, fn)

    def start_audio(self, elements: list[Any]) -> asyncio.Future[list[str]]:
        """Posts ``media.startAudio`` at once (see the port): the page plays them when it reads the call, which
        the browser allows only while the page still has user activation."""
        return self._play_now("media.startAudio", elements)

    def start_video(self, elements: list[Any]) -> asyncio.Future[list[str]]:
        """Posts ``media.startVideo`` at once, as :meth:`start_audio`."""
        return self._play_now("media.startVideo", elements)

    def _play_now(self, op: str, elements: list[Any]) -> asyncio.Future[list[str]]:
        handles = [e.handle for e in elements if isinstance(e, BridgeElement)]
        try:
            asked = self._require().call_now(op, handles)
        except BridgeError as exc:
            logger.info("%s: %s", op, exc)
            done: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
            done.set_result(["BridgeError"] if handles else [])
            return done
        result: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

        def settle(f: asyncio.Future[Any]) -> None:
            if result.done():
                return
            if f.cancelled():
                result.cancel()
            elif f.exception() is not None:
                logger.info("%s on the page failed: %s", op, f.exception())
                result.set_result(["BridgeError"])
            else:
                value = f.result()
                result.set_result([str(v) for v in value if v] if isinstance(value, list) else [])

        asked.add_done_callback(settle)
        return result

    def user_agent(self) -> str:
        welcome = self._session.welcome if self._session is not None else None
        return welcome.user_agent if welcome is not None else ""

    async def capabilities(self) -> dict[str, bool]:
        await self.start()
        value = await self._call("host.capabilities")
        return {str(k): bool(v) for k, v in _py(value).items()} if value is not None else {}

    async def file_info(self, file: Any) -> dict[str, Any]:
        """A page's file (``{"selector", "index"}``): the page host reads it; a File/Blob this worker holds: read
        here (Blob is a worker API too)."""
        if not isinstance(file, dict):
            return files.file_info(file)
        info = _py(await self._call("file.info", str(file["selector"]), int(file.get("index", 0))))
        return {"name": str(info.get("name") or ""), "size": int(info["size"]), "type": str(info.get("type") or "")}

    async def read_file(self, file: Any, offset: int, length: int) -> bytes:
        if not isinstance(file, dict):
            return await files.read_file(file, offset, length)
        data = _py(await self._call("file.read", str(file["selector"]), int(file.get("index", 0)), offset, length))
        return bytes(data or b"")

    async def send_codecs(self, kind: str) -> list[str] | None:
        mimes = await self._call("media.sendCodecs", kind)
        return None if mimes is None else [str(m) for m in mimes]

    async def prepare_connection(self, url: str) -> None:
        await self._call("net.prepare", url)

    # -- extras (tests, benches, notebooks) ---------------------------------------------------------------------
    async def counts(self) -> dict[str, int]:
        """The page host's ``{handles, pcs, elements}``: what it still holds for us (leak checks)."""
        return {k: int(v) for k, v in (await self._call("host.counts")).items()}

    async def ping(self) -> None:
        """One round trip to the page host."""
        await self._call("host.ping")

    @property
    def host_id(self) -> str:
        welcome = self._session.welcome if self._session is not None else None
        return welcome.host_id if welcome is not None else ""

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def lost(self) -> str | None:
        """Why the page host is considered gone, or None."""
        return self._session.lost if self._session is not None else None


def page_id() -> str | None:
    """The id of the page whose host should serve us (``serveDiscovery()`` made it), where this worker can learn it:
    its name (``new Worker(url, {name: workerName()})``: ``"lkpw-host:<id>"``), else the page's document
    (``document.documentElement.dataset.lkpwHost``: a PyScript worker's ``js.document`` is a synchronous proxy of
    it; a plain worker has none). None when neither says."""
    try:
        found = wire.page_id_from_worker_name(str(getattr(js, "name", "") or ""))
    except Exception:
        found = None
    if found:
        return found
    try:
        document: Any = getattr(js, "document", None)
        if document is None or nullish(document):
            return None
        value = document.documentElement.dataset.lkpwHost
    except Exception:  # no document here, or the proxy refused
        return None
    return value if isinstance(value, str) and value else None


def _discover(channel: str) -> None:
    """The default announcement: ``{t: "discover", channel, page}`` on ``"livekit-pyweb-hosts"`` (``page``: see
    :func:`page_id`; without it every page of the origin that serves discovery may answer)."""
    announcer = js.BroadcastChannel.new(wire.DISCOVERY_CHANNEL)
    try:
        announcer.postMessage(_js(wire.discover(channel, page_id())))
    finally:
        announcer.close()  # messages already posted are still delivered
