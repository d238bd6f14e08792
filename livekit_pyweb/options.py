"""Options, as frozen dataclasses. Defaults follow livekit-client where the concept exists there."""

from __future__ import annotations

import dataclasses

from .enums import IceTransportType, TrackSource


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
        rtc_config: livekit.rtc's spelling of ``ice_servers`` and ``ice_transport_policy`` (it sets them).
        connect_timeout: livekit.rtc's name for ``signal_timeout`` (it sets it).
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
    rtc_config: RtcConfiguration | None = None
    connect_timeout: float | None = None

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
    """Camera capture; livekit-client's default capture preset is 1280x720 at 30 fps."""

    width: int = 1280
    height: int = 720
    frame_rate: float = 30.0
    device_id: str | None = None
    facing_mode: str | None = None

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
        video_max_bitrate: bits/s for the top video layer; None picks from the resolution.
    """

    name: str = ""
    source: TrackSource = TrackSource.SOURCE_UNKNOWN
    simulcast: bool = True
    dtx: bool = True
    red: bool = True
    stereo: bool = False
    video_max_bitrate: int | None = None
