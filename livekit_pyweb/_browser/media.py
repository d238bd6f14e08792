"""Capture (getUserMedia) and rendering (HTMLMediaElement) adapters. Main thread only."""

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


async def get_user_media(constraints: dict[str, Any]) -> list[Any]:
    """Capture with ``constraints``; returns the MediaStreamTracks. Raises DeviceError / UnsupportedError."""
    devices: Any = getattr(js.navigator, "mediaDevices", None)
    if nullish(devices):
        raise UnsupportedError("navigator.mediaDevices is not available here (a Web Worker, or an insecure page)")
    with device_errors("getUserMedia"):
        stream = await devices.getUserMedia(_js(constraints))
    return list(stream.getTracks())


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
