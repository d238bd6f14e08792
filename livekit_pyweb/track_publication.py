"""Publications: a track as the room knows it (sid, name, source, muted), whether or not we hold its media."""

from __future__ import annotations

import asyncio
from typing import Any

from ._core import convert
from .enums import TrackKind, TrackSource
from .track import LocalTrack, RemoteTrack, Track


class TrackPublication:
    track: Track | None

    def __init__(self, info: Any) -> None:
        self._info = info
        self.track = None

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
        return convert.track_kind(self._info.type)

    @property
    def source(self) -> TrackSource:
        return convert.track_source(self._info.source)

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

    @property
    def audio_features(self) -> list[int]:
        """The ``AudioTrackFeature`` values the publisher declared (stereo, no DTX, echo cancellation, ...)."""
        return [int(f) for f in self._info.audio_features]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sid={self.sid!r}, source={self.source.name}, name={self.name!r})"


class LocalTrackPublication(TrackPublication):
    def __init__(self, info: Any, track: LocalTrack, sender: Any) -> None:
        super().__init__(info)
        self.track: LocalTrack | None = track
        self._sender = sender
        self._first_subscription = asyncio.Event()

    async def wait_for_subscription(self) -> None:
        """Wait until another participant subscribes to this track for the first time."""
        await self._first_subscription.wait()


class RemoteTrackPublication(TrackPublication):
    def __init__(self, info: Any) -> None:
        super().__init__(info)
        self.track: RemoteTrack | None = None

    @property
    def subscribed(self) -> bool:
        return self.track is not None
