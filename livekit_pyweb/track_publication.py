"""Publications: a track as the room knows it (sid, name, source, muted), whether or not we hold its media."""

from __future__ import annotations

from typing import Any

from .options import TrackKind, TrackSource
from .track import LocalTrack, RemoteTrack


class TrackPublication:
    def __init__(self, info: Any) -> None:
        self._info = info

    def _update(self, info: Any) -> None:
        self._info = info

    @property
    def sid(self) -> str:
        return str(self._info.sid)

    @property
    def name(self) -> str:
        return str(self._info.name)

    @property
    def kind(self) -> TrackKind:
        return TrackKind(self._info.type)

    @property
    def source(self) -> TrackSource:
        return TrackSource(self._info.source)

    @property
    def muted(self) -> bool:
        return bool(self._info.muted)

    @property
    def simulcasted(self) -> bool:
        return bool(self._info.simulcast)

    @property
    def width(self) -> int:
        return int(self._info.width)

    @property
    def height(self) -> int:
        return int(self._info.height)

    @property
    def mime_type(self) -> str:
        return str(self._info.mime_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sid={self.sid!r}, source={self.source.name}, name={self.name!r})"


class LocalTrackPublication(TrackPublication):
    def __init__(self, info: Any, track: LocalTrack, transceiver: Any) -> None:
        super().__init__(info)
        self.track: LocalTrack | None = track
        self._transceiver = transceiver


class RemoteTrackPublication(TrackPublication):
    def __init__(self, info: Any) -> None:
        super().__init__(info)
        self.track: RemoteTrack | None = None

    @property
    def subscribed(self) -> bool:
        return self.track is not None
