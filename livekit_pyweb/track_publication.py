"""Publications: a track as the room knows it (sid, name, source, muted), whether or not we hold its media."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._core import adaptive, convert, dynacast, proto
from ._core.simulcast import Layer
import enum

from .errors import InvalidStateError
from .enums import SubscriptionStatus, TrackKind, TrackSource, VideoQuality
from .track import LocalTrack, RemoteTrack, RemoteVideoTrack, Track


class PermissionStatus(enum.Enum):
    """livekit-client's ``TrackPublication.PermissionStatus``: whether the publisher lets us subscribe to a remote
    track (``track_subscription_permission_changed``; livekit.rtc has no name for it)."""

    ALLOWED = "allowed"
    NOT_ALLOWED = "not_allowed"


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


class _CodecSender:
    """One sender of a published video track (the primary codec's, or a backup codec's): its encodings as sent
    (lowest first, see _core.simulcast) and their dynacast ``active`` flags."""

    def __init__(self, codec: str, sender: Any, layers: Sequence[Layer], port: Any = None) -> None:
        self.codec = codec
        self.sender = sender
        self.port = port  # a backup codec's own clone of the track (None: the publication's track)
        self.layers = tuple(layers)
        self.active = [True] * len(self.layers)  # the browser starts every encoding active
        self._wanted: list[bool] | None = None
        self._lock = asyncio.Lock()

    async def set_subscribed_qualities(self, qualities: Mapping[int, bool]) -> None:
        """Dynacast: switch the encodings to what subscribers need ({quality: enabled} from the server). Updates
        are applied in order, one sender transaction at a time; one that waited applies the latest wish."""
        if not self.layers:
            return
        self._wanted = dynacast.encodings_active(self.layers, qualities, self._wanted or self.active)
        async with self._lock:
            wanted = self._wanted
            if wanted == self.active:
                return
            await self.sender.set_encodings_active(list(wanted))
            self.active = wanted


class LocalTrackPublication(TrackPublication):
    def __init__(self, info: Any, track: LocalTrack, sender: Any, layers: Sequence[Layer] = (), codec: str = "",
                 options: Any = None) -> None:
        super().__init__(info)
        self.track: LocalTrack | None = track
        self._sender = sender
        self._first_subscription = asyncio.Event()
        self._primary = _CodecSender(codec, sender, layers)
        self._options: Any = options  # the TrackPublishOptions it was published with
        self._encoded_dims: tuple[int, int] | None = None  # the capture size its video encodings were computed for
        self._codec = codec  # the video codec we send it in ("vp8", "vp9", ...), "" for audio
        self._backup_codec: str | None = None  # announced in the AddTrackRequest's simulcast_codecs
        self._backups: dict[str, _CodecSender] = {}  # backup codecs published (livekit-client simulcastCodecs)
        self._backup_tasks: dict[str, asyncio.Task[Any]] = {}
        self._codec_qualities: dict[str, dict[int, bool]] = {}  # the latest wish per backup codec

    @property
    def _layers(self) -> tuple[Layer, ...]:
        """The primary sender's encodings as sent (lowest first)."""
        return self._primary.layers

    async def _set_subscribed_qualities(self, qualities: Mapping[int, bool]) -> None:
        """Dynacast for the primary codec's sender (see :class:`_CodecSender`)."""
        await self._primary.set_subscribed_qualities(qualities)

    async def wait_for_subscription(self) -> None:
        """Wait until another participant subscribes to this track for the first time."""
        await self._first_subscription.wait()


class RemoteTrackPublication(TrackPublication):
    """A track another participant published. What we ask the server to send of it (``UpdateTrackSettings``) is
    composed in one place, :meth:`_send_update`, from :meth:`set_enabled`, :meth:`set_video_dimensions`,
    :meth:`set_video_quality` and, with adaptive stream, where the video shows (see ``_core/adaptive.py``)."""

    def __init__(self, info: Any, send_settings: Callable[[Any], None] | None = None, *, desired: bool = True,
                 set_subscribed: Callable[[RemoteTrackPublication, bool], None] | None = None) -> None:
        super().__init__(info)
        self.track: RemoteTrack | None = None
        self._send_settings = send_settings  # the room's way to the server (UpdateTrackSettings)
        self._quality: VideoQuality | None = None
        self._desired = desired  # we want it: auto-subscribe, or set_subscribed(True)
        self._set_subscribed = set_subscribed  # the room's UpdateSubscription and events
        self._requested_enabled: bool | None = None
        self._requested_dimensions: tuple[int, int] | None = None
        self._visible = True  # adaptive stream: some element shows the video
        self._adaptive_dimensions: tuple[float, float] | None = None
        self._allowed = True  # the publisher lets us subscribe (until its SubscriptionPermissionUpdate says not)

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

    @property
    def permission_status(self) -> PermissionStatus:
        """Whether the publisher allows us to subscribe (livekit-client's ``permissionStatus``)."""
        return PermissionStatus.ALLOWED if self._allowed else PermissionStatus.NOT_ALLOWED

    def _set_allowed(self, allowed: bool) -> bool:
        """The server's word on our permission; True when it changed."""
        changed = allowed != self._allowed
        self._allowed = allowed
        return changed

    def set_video_quality(self, quality: VideoQuality) -> None:
        """For a simulcast video track, ask the server for one layer: ``VIDEO_QUALITY_LOW`` (q),
        ``VIDEO_QUALITY_MEDIUM`` (h) or ``VIDEO_QUALITY_HIGH`` (f), as livekit.rtc and livekit-client's
        ``setVideoQuality``. Takes effect at once (one signalling message); the server switches layers at the next
        key frame. Replaces an earlier :meth:`set_video_dimensions`; with adaptive stream, a rendered size smaller
        than that layer wins.

        Raises:
            ValueError: not a video publication, not simulcast, or not a VideoQuality.
        """
        if self.kind != TrackKind.KIND_VIDEO:
            raise ValueError(f"set_video_quality is only for video publications (sid={self.sid})")
        if not self.simulcasted:
            raise ValueError(f"set_video_quality needs a simulcast publication (sid={self.sid})")
        if not isinstance(quality, VideoQuality):
            raise ValueError(f"quality must be a VideoQuality, not {quality!r}")
        if quality == self._quality:
            return
        self._quality = quality
        self._requested_dimensions = None
        self._send_update()

    def set_video_dimensions(self, width: int, height: int) -> None:
        """Ask the server for the layer that fits ``width`` x ``height`` pixels (livekit-client's
        ``setVideoDimensions``); replaces an earlier :meth:`set_video_quality`. With adaptive stream, a rendered
        size smaller than this (by area) wins.

        Raises:
            ValueError: not a video publication, or not two positive ints.
        """
        if self.kind != TrackKind.KIND_VIDEO:
            raise ValueError(f"set_video_dimensions is only for video publications (sid={self.sid})")
        for value in (width, height):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"width and height must be positive ints, not {width!r} x {height!r}")
        if self._requested_dimensions == (width, height):
            return
        self._requested_dimensions = (width, height)
        self._quality = None
        self._send_update()

    def set_enabled(self, enabled: bool) -> None:
        """Ask the server to stop (False) or resume (True) sending this track while staying subscribed
        (livekit-client's ``setEnabled``: e.g. a video scrolled out of view). Overrides adaptive stream's own
        pause/resume from then on.

        Raises:
            ValueError: ``enabled`` is not a bool.
        """
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled must be a bool, not {enabled!r}")
        if self._requested_enabled is enabled:
            return
        self._requested_enabled = enabled
        self._send_update()

    @property
    def is_enabled(self) -> bool:
        """Whether we ask the server to send this track: :meth:`set_enabled`'s wish, else (adaptive stream) whether
        it shows somewhere, else True."""
        return not self._settings().disabled

    @property
    def video_quality(self) -> VideoQuality:
        """The layer asked for with :meth:`set_video_quality` (``VIDEO_QUALITY_HIGH`` when none was)."""
        return self._quality if self._quality is not None else VideoQuality.VIDEO_QUALITY_HIGH

    @property
    def subscribed(self) -> bool:
        return self.track is not None

    def _set_track(self, track: RemoteTrack | None) -> None:
        """The room binds (or unbinds) the received track; an adaptive video reports to us while bound."""
        old = self.track
        if isinstance(old, RemoteVideoTrack) and old is not track:
            old._on_adaptive = None
        self.track = track
        if isinstance(track, RemoteVideoTrack) and track.is_adaptive_stream:
            track._on_adaptive = self._adaptive_changed

    def _adaptive_changed(self, change: adaptive.Change) -> None:
        if change.visible is not None:
            self._visible = change.visible
        if change.dimensions is not None:
            self._adaptive_dimensions = change.dimensions
        self._send_update()

    def _settings(self) -> adaptive.TrackSettings:
        track = self.track
        is_adaptive = isinstance(track, RemoteVideoTrack) and track.is_adaptive_stream
        layers = {int(layer.quality): (int(layer.width), int(layer.height)) for layer in self._info.layers}
        return adaptive.compose(
            video=self.kind == TrackKind.KIND_VIDEO,
            requested_enabled=self._requested_enabled,
            adaptive=is_adaptive,
            visible=self._visible,
            adaptive_dimensions=self._adaptive_dimensions if is_adaptive else None,
            requested_dimensions=self._requested_dimensions,
            requested_quality=None if self._quality is None else convert.to_proto_video_quality(self._quality),
            layers=layers,
        )

    def _send_update(self) -> None:
        """Send the settings as they stand now (livekit-client's ``emitTrackUpdate``)."""
        if self._send_settings is None:
            return
        wanted = self._settings()
        msg = proto.rtc().UpdateTrackSettings(track_sids=[self.sid], disabled=wanted.disabled)
        if wanted.quality is not None:
            msg.quality = wanted.quality
        else:
            msg.width, msg.height = wanted.width, wanted.height
        self._send_settings(msg)
