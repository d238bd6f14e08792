"""Tracks: local (captured here) and remote (received), audio and video.

A track is a MediaStreamTrack of the page, reached through the platform port (``_core/ports.py``): on the main
thread ``track.media_stream_track`` is the JS object itself; in a Web Worker (JupyterLite, PyScript worker mode)
the track lives on the main thread and Python holds a handle to it (``media_stream_track`` is then None).

:meth:`Track.attach` renders a track. On the main thread it returns the ``<video>``/``<audio>`` element to put in
the page. In a Web Worker it returns a :class:`~livekit_pyweb._browser.bridge.BridgeElement`: a handle to the
element, which lives on the main thread; the page renders it (``element.mount("#css-selector")`` appends it there,
page JavaScript gets it with ``globalThis.livekitPyweb.hosts.get(element.channel).element(element.handle)``, and in
a notebook ``display(track)`` shows it in the cell output).
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._core.adaptive import AdaptiveStream, Change
from .devices import unwrap_device_id
from .enums import StreamState, TrackKind, TrackSource
from .errors import DeviceError, DeviceErrorReason, InvalidStateError
from .events import TRACK_EVENT_NAMES, EventEmitter, TrackEventName

if TYPE_CHECKING:
    from ._core.ports import Closable, ElementView, MediaTrackPort, Platform, ReceiverPort, SenderPort
    from .options import AdaptiveStreamSettings, AudioCaptureOptions, VideoCaptureOptions

# outbound-rtp counters that add up over a simulcast track's encodings (LocalTrack.get_stats).
_SUMMED_OUTBOUND = ("bytesSent", "packetsSent", "headerBytesSent", "framesEncoded", "framesSent", "keyFramesEncoded",
                    "hugeFramesSent", "retransmittedBytesSent", "retransmittedPacketsSent", "nackCount", "firCount",
                    "pliCount", "totalEncodeTime", "totalEncodedBytesTarget", "totalPacketSendDelay")
_RID_ORDER = {"q": 0, "h": 1, "f": 2}

logger = logging.getLogger("livekit_pyweb.track")


class Track(EventEmitter[TrackEventName]):
    """Base of every track. An emitter of livekit-client's track events (snake_case, see ``TrackEventName``):
    ``track.on("muted", fn)``, ``"unmuted"``, ``"element_attached"``/``"element_detached"`` (element), and for a
    remote audio track ``"audio_playback_started"``/``"audio_playback_failed"`` (error name), for a remote video
    track ``"video_playback_started"``/``"video_playback_failed"`` (error name)."""

    _event_names = TRACK_EVENT_NAMES

    def __init__(self, port: MediaTrackPort, kind: TrackKind, source: TrackSource, name: str = "") -> None:
        super().__init__()
        self._port = port
        self.kind = kind
        self.source = source
        self.name = name
        self.sid = ""
        self._muted = False
        self._stream_state = StreamState.STATE_UNKNOWN
        self._attached: list[Any] = []

    @property
    def media_stream_track(self) -> Any:
        """The JS ``MediaStreamTrack`` when it lives in this thread (main-thread Pyodide), else None."""
        return self._port.native

    @property
    def mst_id(self) -> str:
        """The MediaStreamTrack's id (the ``cid`` livekit uses while publishing)."""
        return self._port.id

    @property
    def muted(self) -> bool:
        """Muted as the room knows it: by us (:meth:`LocalTrack.mute`), by the server, or by the remote publisher."""
        return self._muted

    @property
    def stream_state(self) -> StreamState:
        """Remote tracks: whether the server is forwarding media (``STATE_PAUSED`` when it paused it, e.g. for
        bandwidth). ``STATE_UNKNOWN`` until it says, and always for local tracks."""
        return self._stream_state

    async def get_stats(self) -> dict[str, Any]:
        """This track's RTP statistics now, as the browser measures them (W3C webrtc-stats names): a remote
        track's ``inbound-rtp`` entry (``bytesReceived``, ``framesDecoded``, ``frameWidth``, ...), a published local
        track's ``outbound-rtp`` entry (``bytesSent``, ``framesEncoded``, ...; see :meth:`LocalTrack.get_stats`
        for simulcast); ``{}`` while there is none (a local track not published). livekit.rtc returns its own
        protobuf list here; the whole reports are in :meth:`Room.get_rtc_stats`."""
        return {}

    @property
    def attached_elements(self) -> list[Any]:
        return list(self._attached)

    def attach(self, element: Any = None) -> Any:
        """Play this track in ``element`` (created when omitted: ``<video>`` or ``<audio>``) and return it.

        The element autoplays, plays inline, and (video) is muted so that autoplay is allowed. On the main
        thread, put it in the page with e.g. ``document.body.append(track.attach())``; in a Web Worker the result
        is a handle the page renders (see the module docstring): ``track.attach().mount("#tiles")``.
        """
        element = self._port.attach(element)
        if not any(e is element for e in self._attached):
            self._attached.append(element)
            self._emit_args("element_attached", element)
        return element

    def attach_to(self, selector: str) -> Any:
        """Play this track in a new element appended to the page's ``document.querySelector(selector)``; returns
        the element (on the main thread) or its handle (in a Web Worker). The same call works in both places::

            room.on("track_subscribed", lambda track, *_: track.attach_to("#tiles"))

        Raises:
            ValueError: nothing in the page matches ``selector`` (on the main thread; in a worker the page host
                logs the miss).
        """
        element = self.attach()
        try:
            self._port.mount(element, selector)
        except BaseException:
            self.detach(element)
            raise
        return element

    def detach(self, element: Any = None) -> list[Any]:
        """Stop playing in ``element`` (or in every attached element); returns the detached elements."""
        if element is None and not self._attached:
            return []
        targets = [element] if element is not None else list(self._attached)
        for el in targets:
            self._port.detach(el)
            was = len(self._attached)
            self._attached = [e for e in self._attached if e is not el]
            if len(self._attached) != was:
                self._emit_args("element_detached", el)
        return targets

    def _set_muted_state(self, muted: bool) -> None:
        """The room's knowledge of this track's mute changed: store it and tell the track's listeners."""
        if muted != self._muted:
            self._muted = muted
            self._emit_args("muted" if muted else "unmuted", self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """Jupyter: ``display(track)`` shows the playing track in the cell output (``livekit_pyweb.jupyter``)."""
        try:
            jupyter: Any = importlib.import_module("livekit_pyweb.jupyter")
        except ImportError:  # the notebook front end (anywidget) is optional
            return {"text/plain": repr(self)}
        return jupyter.track_mimebundle(self, include, exclude)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sid={self.sid!r}, source={self.source.name}, name={self.name!r})"


class LocalTrack(Track):
    """A track captured in this page (camera, microphone, screen)."""

    def __init__(self, port: MediaTrackPort, kind: TrackKind, source: TrackSource, name: str = "") -> None:
        super().__init__(port, kind, source, name)
        self._stopped = False
        self._mute_hook: Callable[[LocalTrack, bool], None] | None = None  # set while published
        self._sender: SenderPort | None = None  # set while published
        self._ended_hook: Callable[[LocalTrack], None] | None = None  # set while published
        port.on_ended = self._on_ended
        # Restarting (another device, other constraints): where it was captured and how, and who hears of a
        # restart (the room: active_device_changed).
        self._platform: Platform | None = None
        self._constraints: dict[str, Any] = {}
        self._restart_hook: Callable[[LocalTrack], None] | None = None
        self._senders_hook: Callable[[LocalTrack], Awaitable[None]] | None = None  # the other senders, published
        self._restart_lock = asyncio.Lock()

    def _on_ended(self) -> None:
        """The page says the capture ended by itself (the user stopped sharing the screen, a device went away):
        the track's ``ended`` event (livekit-client's TrackEvent.Ended), then the publication's handling."""
        self._emit_args("ended", self)
        if self._ended_hook is not None:
            self._ended_hook(self)

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called (a stopped track cannot be published again)."""
        return self._stopped

    def get_device_id(self) -> str | None:
        """The id of the device this track captures from (``getSettings().deviceId``), None when unknown."""
        value = self._port.settings.get("deviceId")
        return str(value) if value else None

    async def restart_track(self, options: VideoCaptureOptions | AudioCaptureOptions | None = None) -> None:
        """Capture again with ``options`` (None: the constraints of the last capture), e.g. on another device
        (livekit-client's ``restartTrack``). A published track keeps its publication: the sender switches to the
        new capture with ``replaceTrack`` (no renegotiation, the sid stays, the peers keep receiving), the elements
        it is attached to play the new one, the mute state carries over and the old capture stops.

        Unlike livekit-client, the new capture is made before the old one stops, so a failed restart loses
        nothing: the track goes on as it was.

        Raises:
            DeviceError: the capture failed (``reason``: PermissionDenied, NotFound, DeviceInUse, Other).
            InvalidStateError: the track is stopped, or was not captured by livekit_pyweb.
            TypeError: ``options`` are for the other kind of track.
        """
        from .options import AudioCaptureOptions, VideoCaptureOptions

        wanted = VideoCaptureOptions if self.kind == TrackKind.KIND_VIDEO else AudioCaptureOptions
        if options is not None and not isinstance(options, wanted):
            raise TypeError(f"restart_track of a {self.kind.name} track takes {wanted.__name__}, "
                            f"not {type(options).__name__}")
        await self._restart(options.constraints() if options is not None else None)

    async def _set_device_id(self, constraint: Any) -> bool:
        """Capture from another device (``constraint``: ``{"exact": id}`` or ``id``); True when the track now
        captures from that device (as livekit-client's ``setDeviceId``)."""
        device_id = unwrap_device_id(constraint)
        if self._constraints.get("deviceId") == constraint and self.get_device_id() == device_id:
            return True
        await self._restart({**self._constraints, "deviceId": constraint})
        return self.get_device_id() == device_id

    async def _restart(self, constraints: dict[str, Any] | None) -> None:
        platform = self._platform
        if platform is None:
            raise InvalidStateError(f"{self!r} cannot be restarted: it is no camera or microphone capture of ours")
        async with self._restart_lock:
            if self._stopped:
                raise InvalidStateError(f"{self!r} is stopped")
            constraints = dict(self._constraints if constraints is None else constraints)
            key = "video" if self.kind == TrackKind.KIND_VIDEO else "audio"
            ports = await platform.get_user_media({key: constraints})
            new = next((p for p in ports if p.kind == key), None)
            for extra in ports:
                if extra is not new:
                    extra.stop()
                    extra.release()
            if new is None:
                raise DeviceError(f"getUserMedia gave no {key} track", DeviceErrorReason.Other)
            if self._stopped:  # stopped while capturing: the new capture goes too
                new.stop()
                new.release()
                raise InvalidStateError(f"{self!r} was stopped while restarting")
            new.set_enabled(not self._muted)
            if self._sender is not None:
                try:
                    await self._sender.replace_track(new)
                except BaseException:
                    new.stop()
                    new.release()
                    raise
            old, self._port = self._port, new
            old.on_ended = None
            new.on_ended = self._on_ended
            for element in self._attached:
                new.attach(element)  # replaces the old capture in the element
            old.stop()
            old.release()
            self._constraints = constraints
            if self._senders_hook is not None:  # a backup codec's sender sends a clone: of the new capture now
                await self._senders_hook(self)
        self._emit_args("restarted", self)
        if self._restart_hook is not None:
            self._restart_hook(self)

    def mute(self) -> None:
        """Stop sending media (silence or black) without unpublishing; the room and its peers are told.

        Synchronous, as in livekit.rtc: the capture is disabled at once and the server is told in the same call
        (a queued signalling frame); nothing here needs to wait for an answer."""
        self._set_muted(True)

    def unmute(self) -> None:
        """Send media again after :meth:`mute`."""
        self._set_muted(False)

    def _set_muted(self, muted: bool) -> None:
        if self._mute_hook is not None:
            self._mute_hook(self, muted)
        else:  # not published: only the capture changes
            self._port.set_enabled(not muted)
            self._set_muted_state(muted)

    async def get_stats(self) -> dict[str, Any]:
        """The sender's ``outbound-rtp`` statistics (``bytesSent``, ``packetsSent``, ``framesEncoded``, ...), or
        ``{}`` while the track is not published. A simulcast video track sends one RTP stream per encoding: then
        the entry is the highest layer's, with the counters (bytes, packets, frames, ...) summed over every
        layer, and ``layers`` holds each encoding's own entry, lowest first (``rid`` q, h, f)."""
        if self._sender is None:
            return {}
        outbound = [dict(e) for e in await self._sender.get_stats() if e.get("type") == "outbound-rtp"]
        if len(outbound) <= 1:
            return outbound[0] if outbound else {}
        outbound.sort(key=lambda e: (_RID_ORDER.get(str(e.get("rid", "")), 3), int(e.get("frameWidth", 0) or 0)))
        merged = dict(outbound[-1])
        for key in _SUMMED_OUTBOUND:
            values = [e[key] for e in outbound if isinstance(e.get(key), (int, float))]
            if values:
                merged[key] = sum(values)
        merged["layers"] = outbound
        return merged

    def stop(self) -> None:
        """Stop capturing; the device is released. Idempotent."""
        if not self._stopped:
            self._stopped = True
            self.detach()
            self._port.stop()
            self._port.release()

    @property
    def dimensions(self) -> tuple[int, int] | None:
        """The captured ``(width, height)``, or None when the device did not say."""
        settings = self._port.settings
        if "width" in settings and "height" in settings:
            return int(settings["width"]), int(settings["height"])
        return None


class LocalVideoTrack(LocalTrack):
    def __init__(self, port: MediaTrackPort, source: TrackSource = TrackSource.SOURCE_CAMERA, name: str = "") -> None:
        super().__init__(port, TrackKind.KIND_VIDEO, source, name)


class LocalAudioTrack(LocalTrack):
    def __init__(self, port: MediaTrackPort, source: TrackSource = TrackSource.SOURCE_MICROPHONE, name: str = "") -> None:
        super().__init__(port, TrackKind.KIND_AUDIO, source, name)


class RemoteTrack(Track):
    """A track received from another participant."""

    def __init__(self, port: MediaTrackPort, kind: TrackKind, source: TrackSource, sid: str,
                 receiver: ReceiverPort) -> None:
        super().__init__(port, kind, source)
        self.sid = sid
        self._receiver = receiver
        port.on_ended = lambda: self._emit_args("ended", self)  # the page says the received track ended

    async def get_stats(self) -> dict[str, Any]:
        """The receiver's ``inbound-rtp`` statistics (``framesDecoded``, ``bytesReceived``, ...), or ``{}``."""
        for entry in await self._receiver.get_stats():
            if entry.get("type") == "inbound-rtp":
                return dict(entry)
        return {}

    def _close_adaptive(self) -> None:
        """The track goes away: stop watching elements (adaptive stream) and tell nobody any more."""

    def _stream_active(self) -> None:
        """The server says it forwards this track again."""


class RemoteVideoTrack(RemoteTrack):
    """A received video. With ``RoomOptions(adaptive_stream=...)`` every element it is attached to is watched (size,
    in the viewport, page visibility; see ``_core/adaptive.py``) and its publication asks the server for the layer
    that fits the largest visible element, or pauses the video while none shows it. Attach it with
    :meth:`attach` (or :meth:`attach_to`): a video played some other way is never seen, and stays paused."""

    def __init__(self, port: MediaTrackPort, source: TrackSource, sid: str, receiver: ReceiverPort,
                 adaptive: AdaptiveStreamSettings | None = None) -> None:
        super().__init__(port, TrackKind.KIND_VIDEO, source, sid, receiver)
        self._adaptive = (AdaptiveStream(adaptive.pixel_density, adaptive.pause_video_in_background)
                          if adaptive is not None else None)
        self._watches: list[tuple[Any, int, Closable]] = []  # (element, key, watch)
        self._keys = itertools.count(1)
        self._live: set[int] = set()  # keys of the elements watched now
        self._timer: asyncio.TimerHandle | None = None
        self._on_adaptive: Callable[[Change], None] | None = None  # the publication, while subscribed
        self._closed = False  # unsubscribed: nothing is watched or told any more

    @property
    def is_adaptive_stream(self) -> bool:
        """Whether adaptive stream drives this track (``RoomOptions.adaptive_stream``)."""
        return self._adaptive is not None

    def attach(self, element: Any = None) -> Any:
        element = super().attach(element)
        if self._adaptive is not None and not self._closed and not any(e is element for e, _, _ in self._watches):
            key = next(self._keys)
            self._live.add(key)  # before observe(): the direct port may report the first view from inside it
            try:
                watch = self._port.observe(element, lambda view: self._viewed(key, view))
            except BaseException:
                self._live.discard(key)
                raise
            self._watches.append((element, key, watch))
        return element

    def detach(self, element: Any = None) -> list[Any]:
        detached = super().detach(element)
        for gone in detached:
            self._unwatch(gone)
        return detached

    def _unwatch(self, element: Any) -> None:
        for entry in [w for w in self._watches if w[0] is element]:
            self._watches.remove(entry)
            self._live.discard(entry[1])
            entry[2].close()
            if self._adaptive is not None:
                self._adaptive.forget(entry[1], _now())
        self._drive()

    def _viewed(self, key: int, view: ElementView) -> None:
        if self._adaptive is None or key not in self._live:  # a view that crossed a detach: stale
            return
        self._adaptive.observe(key, view, _now())
        self._drive()

    def _stream_active(self) -> None:
        if self._adaptive is not None:
            self._adaptive.refresh()
            self._drive()

    def _drive(self) -> None:
        """Poll the policy now, tell the publication what changed, and wake up at its next deadline."""
        policy = self._adaptive
        if policy is None or self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        change = policy.poll(_now())
        if change is not None and self._on_adaptive is not None:
            try:
                self._on_adaptive(change)
            except Exception:  # the publication's send failed: log it, keep observing
                logger.exception("adaptive stream: telling the server about %s failed", self.sid)
        deadline = policy.deadline()
        if deadline is not None:  # call_later: Pyodide's webloop refuses a call_at in the past, even by a hair
            loop = _loop()
            self._timer = loop.call_later(max(0.0, deadline - loop.time()), self._drive)

    def _close_adaptive(self) -> None:
        self._closed = True
        self._on_adaptive = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        watches, self._watches = self._watches, []
        self._live.clear()
        for _, _, watch in watches:
            watch.close()


class RemoteAudioTrack(RemoteTrack):
    def __init__(self, port: MediaTrackPort, source: TrackSource, sid: str, receiver: ReceiverPort) -> None:
        super().__init__(port, TrackKind.KIND_AUDIO, source, sid, receiver)
        self._sink_id: str | None = None
        self._sink_tasks: set[asyncio.Task[None]] = set()

    @property
    def sink_id(self) -> str | None:
        """The audio output this track plays to (:meth:`set_sink_id`), None for the browser's default."""
        return self._sink_id

    async def set_sink_id(self, device_id: str) -> None:
        """Play this track on the audio output ``device_id`` (an ``"audiooutput"`` of ``Room.get_local_devices``):
        ``setSinkId`` on every element it is attached to now, and on those it is attached to later (livekit-client's
        ``RemoteAudioTrack.setSinkId``; ``Room.switch_active_device("audiooutput", id)`` does it for every track).

        Raises:
            DeviceError: the browser refused (``NotFound``: no such output; ``PermissionDenied``).
            UnsupportedError: the browser has no ``setSinkId``.
        """
        for element in list(self._attached):
            await self._port.set_sink_id(element, device_id)
        self._sink_id = device_id

    def attach(self, element: Any = None) -> Any:
        known = [e for e in self._attached]
        element = super().attach(element)
        if self._sink_id is not None and not any(e is element for e in known):
            task = asyncio.ensure_future(self._apply_sink(element, self._sink_id))
            self._sink_tasks.add(task)
            task.add_done_callback(self._sink_tasks.discard)
        return element

    async def _apply_sink(self, element: Any, device_id: str) -> None:
        try:
            await self._port.set_sink_id(element, device_id)
        except Exception as exc:
            logger.warning("could not play %r on audio output %r: %s", self, device_id, exc)


def _loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # called from a plain JS callback in Pyodide: its webloop is the event loop
        return asyncio.get_event_loop()


def _now() -> float:
    return _loop().time()


AudioTrack = LocalAudioTrack | RemoteAudioTrack
"""Any audio track (livekit.rtc's name for the union)."""
VideoTrack = LocalVideoTrack | RemoteVideoTrack
"""Any video track."""
