"""Publications: a track as the room knows it (sid, name, source, muted), whether or not we hold its media."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._core import convert, dynacast, proto
from ._core.simulcast import Layer
from .errors import InvalidStateError
from .enums import SubscriptionStatus, TrackKind, TrackSource, VideoQuality
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
    def __init__(self, info: Any, send_settings: Callable[[Any], None] | None = None, *, desired: bool = True,
                 set_subscribed: Callable[[RemoteTrackPublication, bool], None] | None = None) -> None:
        super().__init__(info)
        self.track: RemoteTrack | None = None
        self._send_settings = send_settings  # the room's way to the server (UpdateTrackSettings)
        self._quality: VideoQuality | None = None
        self._desired = desired  # we want it: auto-subscribe, or set_subscribed(True)
        self._set_subscribed = set_subscribed  # the room's UpdateSubscription and events

    def set_subscribed(self, subscribed: bool) -> None:
        """Subscribe to this track (``True``) or unsubscribe from it (``False``), as livekit.rtc and
        livekit-client's ``setSubscribed``. Returns at once (one signalling message is queued).

        Unsubscribing releases the track now: ``track_unsubscribed`` fires, its elements are detached and
        :attr:`track` becomes None (the server stops forwarding it). Subscribing asks the server for the track;
        it arrives later as a new track in ``track_subscribed``. Each change of :attr:`subscription_status` is
        told by ``track_subscription_status_changed``; a subscription the server cannot make by
        ``track_subscription_failed``.

        Raises:
            TypeError: ``subscribed`` is not a bool.
            InvalidStateError: the room is not connected.
        """
        if not isinstance(subscribed, bool):
            raise TypeError(f"subscribed must be a bool, not {type(subscribed).__name__}")
        if self._set_subscribed is None:
            raise InvalidStateError("this publication belongs to no connected room")
        self._set_subscribed(self, subscribed)

    @property
    def subscription_status(self) -> SubscriptionStatus:
        """``UNSUBSCRIBED`` when we do not want the track, ``DESIRED`` while it has not arrived, ``SUBSCRIBED``
        once :attr:`track` is here (livekit-client's ``subscriptionStatus``)."""
        if not self._desired:
            return SubscriptionStatus.UNSUBSCRIBED
        return SubscriptionStatus.SUBSCRIBED if self.track is not None else SubscriptionStatus.DESIRED

    def set_video_quality(self, quality: VideoQuality) -> None:
        """For a simulcast video track, ask the server for one layer: ``VIDEO_QUALITY_LOW`` (q),
        ``VIDEO_QUALITY_MEDIUM`` (h) or ``VIDEO_QUALITY_HIGH`` (f), as livekit.rtc and livekit-client's
        ``setVideoQuality``. Takes effect at once (one signalling message); the server switches layers at the next
        key frame.

        Raises:
            ValueError: not a video publication, not simulcast, or not a VideoQuality.
        """
        if self.kind != TrackKind.KIND_VIDEO:
            raise ValueError(f"set_video_quality is only for video publications (sid={self.sid})")
        if not self.simulcasted:
            raise ValueError(f"set_video_quality needs a simulcast publication (sid={self.sid})")
        if not isinstance(quality, VideoQuality):
            raise ValueError(f"quality must be a VideoQuality, not {quality!r}")
        self._quality = quality
        if self._send_settings is not None:
            settings = proto.rtc().UpdateTrackSettings(track_sids=[self.sid], disabled=False,
                                                        quality=convert.to_proto_video_quality(quality))
            self._send_settings(settings)

    @property
    def subscribed(self) -> bool:
        return self.track is not None
