"""Tracks: local (captured here) and remote (received), audio and video.

A track wraps the browser's ``MediaStreamTrack`` (``track.media_stream_track``, a JS object). Remote tracks
render with :meth:`RemoteTrack.attach`, which returns a ``<video>``/``<audio>`` element for you to put in the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .enums import StreamState, TrackKind, TrackSource


class Track:
    """Base of every track."""

    def __init__(self, media_stream_track: Any, kind: TrackKind, source: TrackSource, name: str = "") -> None:
        self.media_stream_track = media_stream_track
        self.kind = kind
        self.source = source
        self.name = name
        self.sid = ""
        self._muted = False
        self._stream_state = StreamState.STATE_UNKNOWN
        self._attached: list[Any] = []

    @property
    def mst_id(self) -> str:
        """The MediaStreamTrack's id (the ``cid`` livekit uses while publishing)."""
        return str(self.media_stream_track.id)

    @property
    def muted(self) -> bool:
        """Muted as the room knows it: by us (:meth:`LocalTrack.mute`), by the server, or by the remote publisher."""
        return self._muted

    @property
    def stream_state(self) -> StreamState:
        """Remote tracks: whether the server is forwarding media (``STATE_PAUSED`` when it paused it, e.g. for
        bandwidth). ``STATE_UNKNOWN`` until it says, and always for local tracks."""
        return self._stream_state

    @property
    def attached_elements(self) -> list[Any]:
        return list(self._attached)

    def attach(self, element: Any = None) -> Any:
        """Play this track in ``element`` (created when omitted: ``<video>`` or ``<audio>``) and return it.

        The element autoplays, plays inline, and (video) is muted so that autoplay is allowed. Put it in the page
        with e.g. ``document.body.append(track.attach())``.

        Raises:
            UnsupportedError: no DOM here (Pyodide running in a Web Worker).
        """
        from ._browser import media

        kind = "video" if self.kind == TrackKind.KIND_VIDEO else "audio"
        if element is None:
            element = media.create_media_element(kind, self.media_stream_track)
        else:
            media.attach_to_element(element, self.media_stream_track, kind)
        if not any(e is element for e in self._attached):
            self._attached.append(element)
        return element

    def detach(self, element: Any = None) -> list[Any]:
        """Stop playing in ``element`` (or in every attached element); returns the detached elements."""
        if element is None and not self._attached:
            return []
        from ._browser import media

        targets = [element] if element is not None else list(self._attached)
        for el in targets:
            media.detach_from_element(el, self.media_stream_track)
            self._attached = [e for e in self._attached if e is not el]
        return targets

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sid={self.sid!r}, source={self.source.name}, name={self.name!r})"


class LocalTrack(Track):
    """A track captured in this page (camera, microphone, screen)."""

    def __init__(self, media_stream_track: Any, kind: TrackKind, source: TrackSource, name: str = "") -> None:
        super().__init__(media_stream_track, kind, source, name)
        self._stopped = False
        self._mute_hook: Callable[[LocalTrack, bool], None] | None = None  # set while published

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
            self.media_stream_track.enabled = not muted
            self._muted = muted

    def stop(self) -> None:
        """Stop capturing; the device is released. Idempotent."""
        if not self._stopped:
            self._stopped = True
            self.detach()
            self.media_stream_track.stop()

    @property
    def dimensions(self) -> tuple[int, int] | None:
        from ._browser import media

        settings = media.track_settings(self.media_stream_track)
        if "width" in settings and "height" in settings:
            return int(settings["width"]), int(settings["height"])
        return None


class LocalVideoTrack(LocalTrack):
    def __init__(self, media_stream_track: Any, source: TrackSource = TrackSource.SOURCE_CAMERA, name: str = "") -> None:
        super().__init__(media_stream_track, TrackKind.KIND_VIDEO, source, name)


class LocalAudioTrack(LocalTrack):
    def __init__(self, media_stream_track: Any, source: TrackSource = TrackSource.SOURCE_MICROPHONE, name: str = "") -> None:
        super().__init__(media_stream_track, TrackKind.KIND_AUDIO, source, name)


class RemoteTrack(Track):
    """A track received from another participant."""

    def __init__(self, media_stream_track: Any, kind: TrackKind, source: TrackSource, sid: str, receiver: Any) -> None:
        super().__init__(media_stream_track, kind, source)
        self.sid = sid
        self.receiver = receiver

    async def get_stats(self) -> dict[str, Any]:
        """The receiver's ``inbound-rtp`` statistics (``framesDecoded``, ``bytesReceived``, ...), or ``{}``."""
        from ._browser.peer_connection import receiver_stats

        for entry in await receiver_stats(self.receiver):
            if entry.get("type") == "inbound-rtp":
                return entry
        return {}


class RemoteVideoTrack(RemoteTrack):
    def __init__(self, media_stream_track: Any, source: TrackSource, sid: str, receiver: Any) -> None:
        super().__init__(media_stream_track, TrackKind.KIND_VIDEO, source, sid, receiver)


class RemoteAudioTrack(RemoteTrack):
    def __init__(self, media_stream_track: Any, source: TrackSource, sid: str, receiver: Any) -> None:
        super().__init__(media_stream_track, TrackKind.KIND_AUDIO, source, sid, receiver)


AudioTrack = LocalAudioTrack | RemoteAudioTrack
"""Any audio track (livekit.rtc's name for the union)."""
VideoTrack = LocalVideoTrack | RemoteVideoTrack
"""Any video track."""
