"""Publications: a track as the room knows it (sid, name, source, muted), whether or not we hold its media."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from ._core import convert, dynacast
from ._core.simulcast import Layer
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
    def __init__(self, info: Any, track: LocalTrack, sender: Any, layers: Sequence[Layer] = ()) -> None:
        super().__init__(info)
        self.track: LocalTrack | None = track
        self._sender = sender
        self._first_subscription = asyncio.Event()
        # Dynacast: the video encodings as sent (lowest first, see _core.simulcast) and their ``active`` flags.
        self._layers = tuple(layers)
        self._encodings_active = [True] * len(self._layers)  # the browser starts every encoding active
        self._wanted_active: list[bool] | None = None
        self._dynacast_lock = asyncio.Lock()

    async def _set_subscribed_qualities(self, qualities: Mapping[int, bool]) -> None:
        """Dynacast: switch our encodings to what subscribers need ({quality: enabled} from the server). Updates
        are applied in order, one sender transaction at a time; one that waited applies the latest wish."""
        if not self._layers:
            return
        self._wanted_active = dynacast.encodings_active(self._layers, qualities,
                                                        self._wanted_active or self._encodings_active)
        async with self._dynacast_lock:
            wanted = self._wanted_active
            if wanted == self._encodings_active:
                return
            await self._sender.set_encodings_active(list(wanted))
            self._encodings_active = wanted

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
