"""Capture (getUserMedia) and rendering (HTMLMediaElement) adapters: :class:`BrowserTrack` is the direct
``MediaTrackPort`` (see ``_core/ports.py``). Main thread only."""

from __future__ import annotations

from typing import Any

import js
from pyodide.ffi import to_js

from ..errors import UnsupportedError
from ._errors import device_errors
from ._proxies import nullish


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
        if element is None:
            return create_media_element(self.kind, self._track)
        attach_to_element(element, self._track, self.kind)
        return element

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

    def release(self) -> None:
        pass  # nothing held: the JS object is garbage collected with its last reference


async def get_user_media(constraints: dict[str, Any]) -> list[BrowserTrack]:
    """Capture with ``constraints``; returns the tracks. Raises DeviceError / UnsupportedError."""
    navigator: Any = getattr(js, "navigator", None)
    devices: Any = None if nullish(navigator) else getattr(navigator, "mediaDevices", None)
    if nullish(devices):
        raise UnsupportedError("navigator.mediaDevices is not available here (a Web Worker, or an insecure page)")
    with device_errors("getUserMedia"):
        stream = await devices.getUserMedia(_js(constraints))
    return [BrowserTrack(t, track_settings(t)) for t in stream.getTracks()]


def track_settings(track: Any) -> dict[str, Any]:
    return dict(track.getSettings().to_py())


def create_media_element(kind: str, track: Any) -> Any:
    """A ``<video>``/``<audio>`` element playing ``track``; autoplay, inline, video muted (as livekit-client)."""
    document: Any = getattr(js, "document", None)
    if nullish(document):
        raise UnsupportedError("there is no DOM here (a Web Worker): attach() needs the main thread")
    element = document.createElement("video" if kind == "video" else "audio")
    attach_to_element(element, track, kind)
    return element


def attach_to_element(element: Any, track: Any, kind: str) -> None:
    stream = element.srcObject
    if nullish(stream) or not hasattr(stream, "getTracks"):
        stream = js.MediaStream.new()
        element.srcObject = stream
    for old in list(stream.getTracks()):
        if old.kind == track.kind and old.id != track.id:
            stream.removeTrack(old)
    if not any(t.id == track.id for t in stream.getTracks()):
        stream.addTrack(track)
    element.autoplay = True
    # Muted unless there is sound to hear: a muted video may autoplay without a user gesture.
    element.muted = not any(str(t.kind) == "audio" for t in stream.getTracks())
    element.setAttribute("playsinline", "true")
    if kind == "video":
        element.playsInline = True
    promise = element.play()
    if not nullish(promise):
        # A rejected play() (autoplay policy) must not surface as an unhandled rejection.
        promise.catch(_IGNORE)


def detach_from_element(element: Any, track: Any) -> None:
    stream = element.srcObject
    if not nullish(stream) and hasattr(stream, "getTracks"):
        for t in list(stream.getTracks()):
            if t.id == track.id:
                stream.removeTrack(t)
        if stream.getTracks().length == 0:
            element.srcObject = None


# One long-lived no-op callback shared by every play() rejection: created once, never per call.
_IGNORE: Any = js.Function.new("e", "return undefined")
