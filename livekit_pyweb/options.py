"""Options, as frozen dataclasses. Defaults follow livekit-client where the concept exists there."""

from __future__ import annotations

import dataclasses
import enum
import re

from collections.abc import Sequence

from ._core import simulcast as _ladder
from .enums import DegradationPreference, IceTransportType, TrackSource, VideoCodec


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VideoEncoding:
    """Encoder limits of one video layer (livekit.rtc ``VideoEncoding``; livekit-client ``VideoEncoding``).

    Attributes:
        max_bitrate: bits/s.
        max_framerate: frames/s (None: no cap).
        priority: RTCPriorityType of the encoding (``"very-low"``, ``"low"``, ``"medium"``, ``"high"``), or None.
    """

    max_bitrate: int
    max_framerate: float | None = None
    priority: str | None = None

    def __post_init__(self) -> None:
        if self.max_bitrate <= 0:
            raise ValueError(f"max_bitrate must be positive, not {self.max_bitrate!r}")
        if self.max_framerate is not None and self.max_framerate <= 0:
            raise ValueError(f"max_framerate must be positive, not {self.max_framerate!r}")
        if self.priority is not None and self.priority not in ("very-low", "low", "medium", "high"):
            raise ValueError(f"priority must be very-low, low, medium or high, not {self.priority!r}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AudioEncoding:
    """Encoder limit of an audio track (livekit.rtc ``AudioEncoding``; livekit-client ``AudioPreset``)."""

    max_bitrate: int

    def __post_init__(self) -> None:
        if self.max_bitrate <= 0:
            raise ValueError(f"max_bitrate must be positive, not {self.max_bitrate!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class VideoResolution:
    """A capture size (livekit-client ``VideoResolution``)."""

    width: int
    height: int
    frame_rate: float | None = None
    aspect_ratio: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class VideoPreset:
    """A size and the encoding that suits it (livekit-client ``VideoPreset``)."""

    width: int
    height: int
    max_bitrate: int
    max_framerate: float | None = None
    priority: str | None = None

    @property
    def encoding(self) -> VideoEncoding:
        return VideoEncoding(max_bitrate=self.max_bitrate, max_framerate=self.max_framerate, priority=self.priority)

    @property
    def resolution(self) -> VideoResolution:
        aspect = self.width / self.height if self.height else None
        return VideoResolution(self.width, self.height, self.max_framerate, aspect)


class VideoPresets:
    """livekit-client's 16:9 presets (``VideoPresets.h720`` is its default capture). The values are the simulcast
    ladder's own table (``_core/simulcast.py``), so capture and ladder cannot drift apart."""

    h90, h180, h216, h360, h540, h720, h1080, h1440, h2160 = (VideoPreset(*p) for p in _ladder.PRESETS_169)

    @classmethod
    def all(cls) -> tuple[VideoPreset, ...]:
        """Smallest first."""
        return _presets_of(cls)


class VideoPresets43:
    """livekit-client's 4:3 presets (the ladder's table, as :class:`VideoPresets`)."""

    h120, h180, h240, h360, h480, h540, h720, h1080, h1440 = (VideoPreset(*p) for p in _ladder.PRESETS_43)

    @classmethod
    def all(cls) -> tuple[VideoPreset, ...]:
        return _presets_of(cls)


class ScreenSharePresets:
    """livekit-client's screen-share presets (``original``: the captured size, 7 Mbit/s; the ladder's table)."""

    (h360fps3, h360fps15, h720fps5, h720fps15, h720fps30, h1080fps15, h1080fps30,
     original) = (VideoPreset(*p) for p in _ladder.PRESETS_SCREEN)

    @classmethod
    def all(cls) -> tuple[VideoPreset, ...]:
        return _presets_of(cls)


def _presets_of(cls: type) -> tuple[VideoPreset, ...]:
    return tuple(v for v in vars(cls).values() if isinstance(v, VideoPreset))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IceServer:
    urls: tuple[str, ...]
    username: str = ""
    credential: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RtcConfiguration:
    """livekit.rtc's peer-connection settings: ICE servers (empty: the server's) and the transport policy.

    ``TRANSPORT_NOHOST`` has no browser equivalent (RTCConfiguration knows only "all" and "relay") and is refused.
    """

    ice_transport_type: IceTransportType = IceTransportType.TRANSPORT_ALL
    ice_servers: tuple[IceServer, ...] = ()

    def __post_init__(self) -> None:
        if self.ice_transport_type is IceTransportType.TRANSPORT_NOHOST:
            raise ValueError("ice_transport_type TRANSPORT_NOHOST: browsers offer only 'all' and 'relay'")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AdaptiveStreamSettings:
    """``RoomOptions(adaptive_stream=AdaptiveStreamSettings(...))``: adaptive stream with these settings
    (livekit-client's ``AdaptiveStreamSettings``; ``adaptive_stream=True`` means the defaults).

    Attributes:
        pixel_density: multiplies the element's CSS size before it is sent: a number, ``"screen"`` (the device
            pixel ratio), or None (default: 2 on screens whose device pixel ratio is above 2, else 1).
        pause_video_in_background: pause videos when the page has been hidden (a background tab) for 5 s
            (default True).
    """

    pixel_density: float | str | None = None
    pause_video_in_background: bool = True

    def __post_init__(self) -> None:
        density = self.pixel_density
        if isinstance(density, str) and density != "screen":
            raise ValueError(f"pixel_density must be a positive number or 'screen', not {density!r}")
        if density is not None and not isinstance(density, str) and not (
                isinstance(density, (int, float)) and not isinstance(density, bool) and density > 0):
            raise ValueError(f"pixel_density must be a positive number or 'screen', not {density!r}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DataStreamOptions:
    """Incoming data streams (livekit.rtc's ``RoomOptions.data_stream``).

    Attributes:
        max_payload_byte_length: the most bytes (after decompression) one incoming stream may bring; a stream that
            goes beyond fails its reader with ``StreamError`` (``PayloadTooLarge``). None: livekit-client's default
            guard, 5 GB.
    """

    max_payload_byte_length: int | None = None

    def __post_init__(self) -> None:
        if self.max_payload_byte_length is not None and self.max_payload_byte_length <= 0:
            raise ValueError(f"max_payload_byte_length must be positive, not {self.max_payload_byte_length!r}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RoomOptions:
    """How a :class:`~livekit_pyweb.Room` connects.

    Attributes:
        auto_subscribe: subscribe to every published track as it appears (default True).
        adaptive_stream: adapt each subscribed video to where it shows (default False): the elements a remote
            video is attached to are watched (size, in the viewport, page visibility) and the server is asked for
            the layer that fits the largest visible one, and to pause the video while none shows. True, or
            :class:`AdaptiveStreamSettings` for its settings. Manual ``set_video_dimensions`` /
            ``set_video_quality`` / ``set_enabled`` still apply (a smaller adaptive size wins, as livekit-client).
        dynacast: send only the video layers someone subscribes to: each ``subscribed_quality_update`` from the
            server switches our encodings on or off (default False, as livekit-client; off, the update is ignored).
        single_peer_connection: join on ``/rtc/v1`` with one peer connection, falling back to ``/rtc`` with
            publisher + subscriber connections when the server has no v1 endpoint (default True). False forces
            the legacy two-connection mode.
        ice_servers: replace the ICE servers the server proposes.
        ice_transport_policy: ``"all"`` or ``"relay"``.
        signal_timeout: seconds for the WebSocket to open (livekit-client: 15).
        join_timeout: seconds from open socket to JoinResponse (livekit-client: 5).
        peer_connection_timeout: seconds for the peer connection to connect (livekit-client: 15).
        publish_timeout: seconds for the server to confirm a publication (livekit-client: 10).
        stop_local_track_on_unpublish: ``unpublish_track()`` also stops the capture (default True, as
            livekit-client's ``stopLocalTrackOnUnpublish``); ``unpublish_track(sid, stop=...)`` overrides it.
        rtc_config: livekit.rtc's spelling of ``ice_servers`` and ``ice_transport_policy`` (it sets them).
        connect_timeout: livekit.rtc's name for ``signal_timeout`` (it sets it).
        video_capture_defaults: the camera capture used when ``set_camera_enabled`` /
            ``enable_camera_and_microphone`` get none (livekit-client ``videoCaptureDefaults``).
        audio_capture_defaults: the same for the microphone.
        publish_defaults: the publish options used when ``publish_track`` / ``set_*_enabled`` get none (its
            ``source`` is replaced by the track's); livekit-client ``publishDefaults``.
        data_stream: limits for incoming data streams (:class:`DataStreamOptions`; None: the defaults).
    """

    auto_subscribe: bool = True
    adaptive_stream: bool | AdaptiveStreamSettings = False
    dynacast: bool = False
    single_peer_connection: bool = True
    ice_servers: tuple[IceServer, ...] | None = None
    ice_transport_policy: str = "all"
    signal_timeout: float = 15.0
    join_timeout: float = 5.0
    peer_connection_timeout: float = 15.0
    publish_timeout: float = 10.0
    stop_local_track_on_unpublish: bool = True
    rtc_config: RtcConfiguration | None = None
    connect_timeout: float | None = None
    video_capture_defaults: VideoCaptureOptions | None = None
    audio_capture_defaults: AudioCaptureOptions | None = None
    publish_defaults: TrackPublishOptions | None = None
    data_stream: DataStreamOptions | None = None

    @property
    def adaptive_stream_settings(self) -> AdaptiveStreamSettings | None:
        """The adaptive-stream settings in force (None: adaptive stream is off)."""
        if isinstance(self.adaptive_stream, AdaptiveStreamSettings):
            return self.adaptive_stream
        return AdaptiveStreamSettings() if self.adaptive_stream else None

    def __post_init__(self) -> None:
        if not isinstance(self.adaptive_stream, (bool, AdaptiveStreamSettings)):
            raise ValueError(f"adaptive_stream must be a bool or AdaptiveStreamSettings, not {self.adaptive_stream!r}")
        if self.connect_timeout is not None:
            object.__setattr__(self, "signal_timeout", self.connect_timeout)
        if self.rtc_config is not None:
            if self.rtc_config.ice_servers:
                object.__setattr__(self, "ice_servers", tuple(self.rtc_config.ice_servers))
            relay = self.rtc_config.ice_transport_type is IceTransportType.TRANSPORT_RELAY
            object.__setattr__(self, "ice_transport_policy", "relay" if relay else "all")
        if self.ice_transport_policy not in ("all", "relay"):
            raise ValueError(f"ice_transport_policy must be 'all' or 'relay', not {self.ice_transport_policy!r}")
        for name in ("signal_timeout", "join_timeout", "peer_connection_timeout", "publish_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VideoCaptureOptions:
    """Camera capture; livekit-client's default capture preset is 1280x720 at 30 fps (``VideoPresets.h720``).

    ``resolution`` (a :class:`VideoResolution` or a :class:`VideoPreset`, e.g. ``VideoPresets.h360``) sets
    ``width``, ``height`` and, when it has one, ``frame_rate``.
    """

    width: int = 1280
    height: int = 720
    frame_rate: float = 30.0
    device_id: str | None = None
    facing_mode: str | None = None
    resolution: VideoResolution | VideoPreset | None = None

    def __post_init__(self) -> None:
        res = self.resolution
        if isinstance(res, VideoPreset):
            res = res.resolution
        if res is not None:
            object.__setattr__(self, "width", res.width)
            object.__setattr__(self, "height", res.height)
            if res.frame_rate:
                object.__setattr__(self, "frame_rate", float(res.frame_rate))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"capture size must be positive, not {self.width}x{self.height}")

    def constraints(self) -> dict[str, object]:
        c: dict[str, object] = {
            "width": {"ideal": self.width},
            "height": {"ideal": self.height},
            "frameRate": {"ideal": self.frame_rate},
        }
        if self.device_id:
            c["deviceId"] = {"exact": self.device_id}
        if self.facing_mode:
            c["facingMode"] = self.facing_mode
        return c


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AudioCaptureOptions:
    echo_cancellation: bool = True
    noise_suppression: bool = True
    auto_gain_control: bool = True
    device_id: str | None = None

    def constraints(self) -> dict[str, object]:
        c: dict[str, object] = {
            "echoCancellation": self.echo_cancellation,
            "noiseSuppression": self.noise_suppression,
            "autoGainControl": self.auto_gain_control,
        }
        if self.device_id:
            c["deviceId"] = {"exact": self.device_id}
        return c


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TrackPublishOptions:
    """How a track is published.

    Attributes:
        name: the track name others see (default: derived from the source).
        source: what the track is (camera, microphone, ...).
        simulcast: send low/medium/high layers for video (livekit-client default True).
        dtx: discontinuous transmission for audio (default True).
        red: redundant audio encoding (default True).
        stereo: publish stereo audio (default False).
        video_max_bitrate: bits/s for the top video layer; None picks from the resolution (a shorthand for
            ``video_encoding``, which wins when both are set).
        video_codec: ``VideoCodec`` or its name (``"vp8"``, ``"h264"``, ``"vp9"``, ``"av1"``, ``"h265"``); None is
            vp8, as livekit-client. A codec this browser cannot send (``RTCRtpSender.getCapabilities``) or the server
            does not enable falls back as livekit-client does (vp9/av1 → vp8; else the server's first).
        backup_codec: for a primary codec other than vp8: publish the track again in this codec (``"vp8"`` or
            ``"h264"``; True: vp8) when the server asks for it, for subscribers that cannot decode the primary
            (livekit-client ``backupCodec``, default True; it turns dynacast on). False: never.
        backup_codec_policy: livekit-client ``BackupCodecPolicy`` (``PREFER_REGRESSION`` default, ``SIMULCAST``,
            ``REGRESSION``): how the server uses the backup codec; None leaves it to the server.
        video_encoding: limits of the top video layer (default: from the capture size and the codec, as
            livekit-client ``determineAppropriateEncoding``).
        audio_encoding: audio bitrate limit (default: none set, the browser's).
        scalability_mode: for the SVC codecs vp9/av1 (e.g. ``"L3T3_KEY"``, livekit-client's default): one
            encoding carrying every spatial/temporal layer instead of simulcast. Ignored for vp8/h264.
        degradation_preference: ``DegradationPreference`` or its browser spelling (``"maintain-framerate"``,
            ``"maintain-resolution"``, ``"balanced"``); None: by source as livekit-client (camera keeps the frame
            rate, screen share the resolution, else balanced).
        stream: a stream name grouping audio and video tracks (livekit-client ``stream``).
        video_simulcast_layers: up to two lower layers (:class:`VideoPreset`) instead of livekit-client's default
            (h180, h360 or their 4:3 versions).
        screen_share_encoding: top layer of a screen share (livekit-client default ``ScreenSharePresets.h1080fps15``).
        screen_share_simulcast_layers: lower layers of a screen share (default: one at half size).
    """

    name: str = ""
    source: TrackSource = TrackSource.SOURCE_UNKNOWN
    simulcast: bool = True
    dtx: bool = True
    red: bool = True
    stereo: bool = False
    video_max_bitrate: int | None = None
    video_codec: VideoCodec | str | None = None
    backup_codec: bool | VideoCodec | str = True
    backup_codec_policy: BackupCodecPolicy | None = None
    video_encoding: VideoEncoding | None = None
    audio_encoding: AudioEncoding | None = None
    scalability_mode: str | None = None
    degradation_preference: DegradationPreference | str | None = None
    stream: str = ""
    video_simulcast_layers: tuple[VideoPreset, ...] | None = None
    screen_share_encoding: VideoEncoding | None = None
    screen_share_simulcast_layers: tuple[VideoPreset, ...] | None = None

    def __post_init__(self) -> None:
        if self.video_codec is not None:
            object.__setattr__(self, "video_codec", video_codec_of(self.video_codec))
        if not isinstance(self.backup_codec, bool):
            backup = video_codec_of(self.backup_codec)
            if backup not in (VideoCodec.VP8, VideoCodec.H264):
                raise ValueError(f"backup_codec must be vp8 or h264 (livekit-client), not {backup.name.lower()}")
            object.__setattr__(self, "backup_codec", backup)
        if self.backup_codec_policy is not None:
            object.__setattr__(self, "backup_codec_policy", BackupCodecPolicy(self.backup_codec_policy))
        if self.scalability_mode is not None and not _SCALABILITY.match(self.scalability_mode):
            raise ValueError(f"scalability_mode {self.scalability_mode!r} is not L<1-3>T<1-3>[h|_KEY|_KEY_SHIFT]")
        if self.degradation_preference is not None:
            object.__setattr__(self, "degradation_preference", degradation_preference_of(self.degradation_preference))
        if self.video_max_bitrate is not None and self.video_max_bitrate <= 0:
            raise ValueError("video_max_bitrate must be positive")
        for name in ("video_simulcast_layers", "screen_share_simulcast_layers"):
            layers = getattr(self, name)
            if layers is not None:
                layers = tuple(layers)
                if len(layers) > 2 or not all(isinstance(p, VideoPreset) for p in layers):
                    raise ValueError(f"{name}: at most two VideoPresets")
                object.__setattr__(self, name, layers)


class BackupCodecPolicy(enum.IntEnum):
    """livekit-client ``BackupCodecPolicy`` (the protocol's values)."""

    PREFER_REGRESSION = 0
    SIMULCAST = 1
    REGRESSION = 2


_SCALABILITY = re.compile(r"^L([1-3])T([1-3])(h|_KEY|_KEY_SHIFT)?$")

_DEGRADATION = {
    DegradationPreference.BALANCED: "balanced",
    DegradationPreference.MAINTAIN_FRAMERATE: "maintain-framerate",
    DegradationPreference.MAINTAIN_RESOLUTION: "maintain-resolution",
    DegradationPreference.MAINTAIN_FRAMERATE_AND_RESOLUTION: "maintain-framerate-and-resolution",
}


def video_codec_of(value: VideoCodec | str | int) -> VideoCodec:
    """``"vp9"``, ``"VP9"``, ``"video/VP9"`` or ``VideoCodec.VP9`` → ``VideoCodec.VP9``.

    Raises:
        ValueError: not a video codec livekit knows.
    """
    if isinstance(value, str):
        name = value.rpartition("/")[2].upper()
        if name in VideoCodec.__members__:
            return VideoCodec[name]
        raise ValueError(f"unknown video codec {value!r} (vp8, h264, vp9, av1, h265)")
    try:
        return VideoCodec(value)
    except ValueError:
        raise ValueError(f"unknown video codec {value!r}") from None


def degradation_preference_of(value: DegradationPreference | str | int) -> DegradationPreference:
    if isinstance(value, str):
        for pref, spelling in _DEGRADATION.items():
            if value in (spelling, pref.name, pref.name.lower()):
                return pref
        raise ValueError(f"unknown degradation_preference {value!r} ({', '.join(_DEGRADATION.values())})")
    return DegradationPreference(value)


def degradation_preference_spelling(value: DegradationPreference) -> str:
    """The RTCDegradationPreference string the browser takes."""
    return _DEGRADATION[value]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ScreenShareCaptureOptions:
    """Screen capture (``set_screen_share_enabled``), as livekit-client's ``ScreenShareCaptureOptions``.

    Attributes:
        audio: also capture the shared tab's or system's audio (published as ``SOURCE_SCREENSHARE_AUDIO``).
        width, height, frame_rate: the ideal capture size; livekit-client's default is its ``h1080fps30`` screen
            preset (an unconstrained capture of a large screen encodes badly). ``width=0`` leaves it uncapped.
        self_browser_surface, surface_switching, system_audio: getDisplayMedia's hints (``"include"`` /
            ``"exclude"``), passed as given; None leaves the browser's default.
        prefer_current_tab: offer this tab first in the picker.
    """

    audio: bool = False
    width: int = 1920
    height: int = 1080
    frame_rate: float = 30.0
    self_browser_surface: str | None = None
    surface_switching: str | None = None
    system_audio: str | None = None
    prefer_current_tab: bool | None = None

    def constraints(self) -> dict[str, object]:
        """The ``getDisplayMedia()`` options."""
        video: dict[str, object] = {}
        if self.width > 0 and self.height > 0:
            video = {"width": {"ideal": self.width}, "height": {"ideal": self.height}, "frameRate": self.frame_rate}
        options: dict[str, object] = {"audio": self.audio, "video": video or True}
        for key, value in (("selfBrowserSurface", self.self_browser_surface),
                           ("surfaceSwitching", self.surface_switching), ("systemAudio", self.system_audio),
                           ("preferCurrentTab", self.prefer_current_tab)):
            if value is not None:
                options[key] = value
        return options


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantTrackPermission:
    """Who may subscribe to our tracks (``LocalParticipant.set_track_subscription_permissions``), as livekit.rtc's
    ``ParticipantTrackPermission``: the participant by identity, and either all our tracks or the listed sids."""

    participant_identity: str
    allow_all: bool = False
    allowed_track_sids: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.participant_identity, str) or not self.participant_identity:
            raise ValueError("participant_identity must be a non-empty identity")
        if isinstance(self.allowed_track_sids, str):
            raise ValueError("allowed_track_sids must be a sequence of track sids, not one string")
        object.__setattr__(self, "allowed_track_sids", tuple(self.allowed_track_sids))
