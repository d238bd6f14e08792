"""Capture (getUserMedia) and rendering (HTMLMediaElement) adapters: :class:`BrowserTrack` is the direct
``MediaTrackPort`` (see ``_core/ports.py``). Main thread only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import to_js

from .._core.ports import ElementView
from ..errors import DeviceError, DeviceErrorReason, UnsupportedError
from ._proxies import PageHelper, ProxyBag, nullish


def _js(obj: Any) -> Any:
    return to_js(obj, dict_converter=js.Object.fromEntries)


def user_agent() -> str:
    try:
        return str(js.navigator.userAgent)
    except AttributeError:
        return ""


class BrowserTrack:
    """A MediaStreamTrack of this page (captured, or received by a peer connection) behind the port."""

    def __init__(self, track: Any, settings: dict[str, Any] | None = None) -> None:
        self._track = track
        self.id = str(track.id)
        self.kind = str(track.kind)
        self.settings: dict[str, Any] = settings if settings is not None else {}
        self.on_play: Callable[[bool, str], None] | None = None
        self._on_ended: Callable[[], None] | None = None
        self._watching_ended = False
        self._stream: Any = None  # a received track: the MediaStream it arrived in (its removetrack)
        self._on_removed: Callable[[], None] | None = None
        self._watching_removed = False
        self._bag: ProxyBag | None = None
        self._report: Any = None  # the proxy the page calls with play() results, made at the first attach
        self._watches: list[ElementWatch] = []

    def _proxies(self) -> ProxyBag:
        if self._bag is None:
            self._bag = ProxyBag()
        return self._bag

    @property
    def on_ended(self) -> Callable[[], None] | None:
        return self._on_ended

    @on_ended.setter
    def on_ended(self, fn: Callable[[], None] | None) -> None:
        """Set by the SDK (see the port); a received track starts listening then: a track event nothing binds
        (a receive transceiver with no publication) holds no proxy."""
        self._on_ended = fn
        if fn is not None:
            self.watch_ended()

    def watch_ended(self) -> None:
        """Hear the track's ``ended`` event (captured: the user stopped sharing, the device went away; received:
        the peer connection stopped its transceiver); one listener, removed on :meth:`release` (``stop()`` itself
        fires no ``ended``)."""
        if not self._watching_ended:
            self._watching_ended = True
            self._proxies().listen(self._track, "ended", self._ended)

    def _ended(self, _event: Any) -> None:
        if self._on_ended is not None:
            self._on_ended()

    @property
    def on_removed(self) -> Callable[[], None] | None:
        return self._on_removed

    @on_removed.setter
    def on_removed(self, fn: Callable[[], None] | None) -> None:
        """Set by the SDK (see the port): listening to the stream's ``removetrack`` starts then (one proxy, removed
        on :meth:`release`); a track that arrived in no stream never reports it."""
        self._on_removed = fn
        if fn is not None and not self._watching_removed and self._stream is not None:
            self._watching_removed = True
            self._proxies().listen(self._stream, "removetrack", self._removed)

    def _removed(self, event: Any) -> None:
        if self._on_removed is not None and event.track == self._track:
            self._on_removed()

    @property
    def native(self) -> Any:
        return self._track

    @property
    def ready_state(self) -> str:
        return str(self._track.readyState)

    def set_enabled(self, enabled: bool) -> None:
        self._track.enabled = enabled

    def stop(self) -> None:
        self._track.stop()

    def attach(self, element: Any = None) -> Any:
        if self._report is None:  # how play() went: autoplay state (can_playback_audio / can_playback_video)
            self._report = self._proxies().keep(self._played)
        if element is None:
            return create_media_element(self.kind, self._track, self._report)
        attach_to_element(element, self._track, self.kind, self._report)
        return element

    def _played(self, ok: Any, name: Any) -> None:
        if self.on_play is not None:
            self.on_play(bool(ok), str(name))

    async def detect_silence(self, window_ms: float) -> bool:
        return bool(await _DETECT_SILENCE(self._track, float(window_ms)))

    async def clone(self) -> BrowserTrack:
        return BrowserTrack(self._track.clone(), dict(self.settings))

    def detach(self, element: Any) -> None:
        detach_from_element(element, self._track)

    def mount(self, element: Any, selector: str) -> None:
        document: Any = getattr(js, "document", None)
        if nullish(document):
            raise UnsupportedError("there is no DOM here (a Web Worker): mount() needs the main thread")
        parent = document.querySelector(selector)
        if nullish(parent):
            raise ValueError(f"no element in the page matches {selector!r}")
        parent.append(element)

    def observe(self, element: Any, fn: Callable[[ElementView], None]) -> ElementWatch:
        watch = ElementWatch(element, fn, self._watches)
        self._watches.append(watch)
        watch.start()
        return watch
    async def set_sink_id(self, element: Any, device_id: str) -> None:
        await set_sink_id(element, device_id)

    def release(self) -> None:
        for watch in list(self._watches):
            watch.close()
        # The play() reporter goes with the track (a result arriving later meets a destroyed proxy, which
        # attachTrack ignores); the JS track itself is garbage collected with its last reference.
        if self._bag is not None:
            self._bag.close()
            self._bag = None
        self._report = None
        self._watching_ended = False
        self._watching_removed = False
        self._stream = None
        self.on_play = None
        self._on_ended = None
        self._on_removed = None


class ElementWatch:
    """Adaptive stream: an element watched by a ResizeObserver, an IntersectionObserver and the document's
    ``visibilitychange`` (all made in JS by ``_WATCH``); one kept proxy reports each change. Close to stop."""

    def __init__(self, element: Any, fn: Callable[[ElementView], None], owner: list[ElementWatch]) -> None:
        self._element = element
        self._fn: Callable[[ElementView], None] | None = fn
        self._owner = owner
        self._bag = ProxyBag()
        self._stop: Any = None

    def start(self) -> None:
        report = self._bag.keep(self._report)
        try:
            self._stop = _WATCH(self._element, report)  # reports the initial view from inside this call
        except Exception:
            self.close()
            raise

    def _report(self, width: Any, height: Any, visible: Any, hidden: Any, ratio: Any) -> None:
        if self._fn is not None:
            self._fn(ElementView(float(width), float(height), bool(visible), bool(hidden), float(ratio)))

    def close(self) -> None:
        self._fn = None
        if self._stop is not None:
            stop, self._stop = self._stop, None
            try:
                stop()
            except Exception:  # the page is going away
                pass
        self._bag.close()
        if self in self._owner:
            self._owner.remove(self)


async def get_user_media(constraints: dict[str, Any]) -> list[BrowserTrack]:
    """Capture with ``constraints``; returns the tracks. Raises DeviceError / UnsupportedError."""
    navigator: Any = getattr(js, "navigator", None)
    devices: Any = None if nullish(navigator) else getattr(navigator, "mediaDevices", None)
    if nullish(devices):
        raise UnsupportedError("navigator.mediaDevices is not available here (a Web Worker, or an insecure page)")
    stream = await _device_call("getUserMedia", devices, "getUserMedia", _js(constraints))
    return _captured(stream)


async def get_display_media(options: dict[str, Any]) -> list[BrowserTrack]:
    """Capture a screen/window/tab with ``options`` (needs a user activation). Raises DeviceError /
    UnsupportedError."""
    navigator: Any = getattr(js, "navigator", None)
    devices: Any = None if nullish(navigator) else getattr(navigator, "mediaDevices", None)
    if nullish(devices) or nullish(getattr(devices, "getDisplayMedia", None)):
        raise UnsupportedError("getDisplayMedia is not available here (a Web Worker, an insecure page, or a "
                               "browser without screen capture)")
    # The promise stays in JS (_SETTLE_CALL), as getUserMedia's: a rejected media promise awaited in Pyodide can
    # fail to settle (measured for getUserMedia's OverconstrainedError) and loses the DOMException's name.
    stream = await _device_call("getDisplayMedia", devices, "getDisplayMedia", _js(options))
    return _captured(stream)


def _captured(stream: Any) -> list[BrowserTrack]:
    tracks = []
    for t in stream.getTracks():
        track = BrowserTrack(t, track_settings(t))
        track.watch_ended()
        tracks.append(track)
    return tracks


def _media_devices() -> Any:
    navigator: Any = getattr(js, "navigator", None)
    devices: Any = None if nullish(navigator) else getattr(navigator, "mediaDevices", None)
    if nullish(devices):
        raise UnsupportedError("navigator.mediaDevices is not available here (a Web Worker, or an insecure page)")
    return devices


async def enumerate_devices() -> list[dict[str, str]]:
    """``enumerateDevices()`` as ``{device_id, kind, label, group_id}`` dicts."""
    infos = await _device_call("enumerateDevices", _media_devices(), "enumerateDevices")
    return [{"device_id": str(d.deviceId), "kind": str(d.kind), "label": str(d.label), "group_id": str(d.groupId)}
            for d in infos]


class DeviceChangeListener:
    """Calls ``fn()`` on every ``devicechange`` of ``navigator.mediaDevices``; :meth:`close` stops it."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._bag = ProxyBag()
        navigator: Any = getattr(js, "navigator", None)
        devices: Any = None if nullish(navigator) else getattr(navigator, "mediaDevices", None)
        if not nullish(devices) and hasattr(devices, "addEventListener"):
            self._bag.listen(devices, "devicechange", lambda _event: fn())

    def close(self) -> None:
        self._bag.close()


async def set_sink_id(element: Any, device_id: str) -> None:
    """``element.setSinkId(device_id)``; DeviceError (NotFound, PermissionDenied ...) or UnsupportedError."""
    if nullish(element) or not hasattr(element, "setSinkId"):
        raise UnsupportedError("this browser cannot choose the audio output of a media element (no setSinkId)")
    await _device_call("setSinkId", element, "setSinkId", device_id)


async def _device_call(what: str, target: Any, method: str, *args: Any) -> Any:
    """``await target[method](*args)`` for a media-device API, the promise kept in JS (see _SETTLE_CALL); a
    rejection raises DeviceError with the DOMException's name and reason."""
    outcome = await _SETTLE_CALL(target, method, js.Array.of(*args))
    if outcome.ok:
        return outcome.value
    name, message = str(outcome.name), str(outcome.message)
    raise DeviceError(f"{what} failed: {name}: {message}", DeviceErrorReason.get_failure(name), name)


def track_settings(track: Any) -> dict[str, Any]:
    return dict(track.getSettings().to_py())


def create_media_element(kind: str, track: Any, report: Any = None) -> Any:
    """A ``<video>``/``<audio>`` element playing ``track``; autoplay, inline, video muted (as livekit-client)."""
    document: Any = getattr(js, "document", None)
    if nullish(document):
        raise UnsupportedError("there is no DOM here (a Web Worker): attach() needs the main thread")
    element = document.createElement("video" if kind == "video" else "audio")
    attach_to_element(element, track, kind, report)
    return element


def attach_to_element(element: Any, track: Any, kind: str, report: Any = None) -> None:
    """Play ``track`` in ``element``; ``report(ok, error_name)`` (a kept proxy) hears how ``play()`` went for an
    audio track, and for a video track in an element holding no audio (a refused autoplay is page state the room
    tracks: ``can_playback_audio``/``can_playback_video``), as livekit-client's ``attach`` (page helper
    ``attachTrack``)."""
    _ATTACH(element, track, kind, report)


def start_audio(elements: list[Any]) -> asyncio.Future[list[str]]:
    """The direct ``Platform.start_audio``: every ``play()`` is called here, synchronously, before returning (so a
    click handler's user activation covers them); the future gives the error names of the refused ones."""
    return _play_all(elements, unmute=True)


def start_video(elements: list[Any]) -> asyncio.Future[list[str]]:
    """The direct ``Platform.start_video``: as :func:`start_audio`, without unmuting (livekit-client's
    ``startVideo``)."""
    return _play_all(elements, unmute=False)


def _play_all(elements: list[Any], unmute: bool) -> asyncio.Future[list[str]]:
    settled = []
    for element in elements:
        if nullish(element) or not hasattr(element, "play"):
            continue
        settled.append(_PLAY_SETTLED(element, unmute))

    async def outcome() -> list[str]:
        names = [str(await p) for p in settled]
        return [n for n in names if n]

    return asyncio.ensure_future(outcome())


def detach_from_element(element: Any, track: Any) -> None:
    _DETACH(element, track)


# The page helpers (livekit_pyweb/_static/page_helpers.mjs, shared with the bridge's page host): plain JS, no proxy per
# call. The play() and media-device promises stay in JS (see there): one handed to Python and back loses the
# DOMException's name, and a rejected getUserMedia can fail to settle when awaited in Python.
_ATTACH = PageHelper("attachTrack")
_DETACH = PageHelper("detachTrack")
_SETTLE_CALL = PageHelper("settleCall")
_PLAY_SETTLED = PageHelper("playSettled")
_DETECT_SILENCE = PageHelper("detectSilence")
_WATCH = PageHelper("watchElement")


def send_codecs(kind: str) -> list[str] | None:
    sender: Any = getattr(js, "RTCRtpSender", None)
    if nullish(sender) or nullish(getattr(sender, "getCapabilities", None)):
        return None
    caps = sender.getCapabilities(kind)
    if nullish(caps):
        return None
    return [str(c.mimeType) for c in caps.codecs]


async def prepare_connection(url: str) -> None:
    """A HEAD request that opens the connection (no-cors: the server's CORS headers do not matter)."""
    await js.fetch(url, _js({"method": "HEAD", "mode": "no-cors", "cache": "no-store"}))
