"""The one boundary between signalling-protocol enum values and the public enums (:mod:`livekit_pyweb.enums`).

Tables are keyed by the signalling enum *names* (looked up in ``livekit-protocol`` at first use), so a renumbering
upstream cannot silently shift a mapping; a name missing on either side fails the unit test that walks every table.
"""

from __future__ import annotations

import functools
from typing import Any

from ..enums import (
    ConnectionQuality,
    DisconnectReason,
    ParticipantKind,
    ParticipantKindDetail,
    ParticipantState,
    StreamState,
    TrackKind,
    TrackSource,
    VideoQuality,
)
from . import proto

_TRACK_KIND = {"AUDIO": TrackKind.KIND_AUDIO, "VIDEO": TrackKind.KIND_VIDEO}
_TRACK_SOURCE = {
    "UNKNOWN": TrackSource.SOURCE_UNKNOWN,
    "CAMERA": TrackSource.SOURCE_CAMERA,
    "MICROPHONE": TrackSource.SOURCE_MICROPHONE,
    "SCREEN_SHARE": TrackSource.SOURCE_SCREENSHARE,
    "SCREEN_SHARE_AUDIO": TrackSource.SOURCE_SCREENSHARE_AUDIO,
}
_QUALITY = {
    "POOR": ConnectionQuality.QUALITY_POOR,
    "GOOD": ConnectionQuality.QUALITY_GOOD,
    "EXCELLENT": ConnectionQuality.QUALITY_EXCELLENT,
    "LOST": ConnectionQuality.QUALITY_LOST,
}
_STREAM_STATE = {"ACTIVE": StreamState.STATE_ACTIVE, "PAUSED": StreamState.STATE_PAUSED}
_PARTICIPANT_KIND = {
    "STANDARD": ParticipantKind.PARTICIPANT_KIND_STANDARD,
    "INGRESS": ParticipantKind.PARTICIPANT_KIND_INGRESS,
    "EGRESS": ParticipantKind.PARTICIPANT_KIND_EGRESS,
    "SIP": ParticipantKind.PARTICIPANT_KIND_SIP,
    "AGENT": ParticipantKind.PARTICIPANT_KIND_AGENT,
    "CONNECTOR": ParticipantKind.PARTICIPANT_KIND_CONNECTOR,
    "BRIDGE": ParticipantKind.PARTICIPANT_KIND_BRIDGE,
}
_VIDEO_QUALITY = {
    "LOW": VideoQuality.VIDEO_QUALITY_LOW,
    "MEDIUM": VideoQuality.VIDEO_QUALITY_MEDIUM,
    "HIGH": VideoQuality.VIDEO_QUALITY_HIGH,
}


# what -> (livekit-protocol module, path to the signalling enum, its table)
_SPECS: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "kind": ("models", ("TrackType",), _TRACK_KIND),
    "source": ("models", ("TrackSource",), _TRACK_SOURCE),
    "quality": ("models", ("ConnectionQuality",), _QUALITY),
    "stream_state": ("rtc", ("StreamState",), _STREAM_STATE),
    "participant_kind": ("models", ("ParticipantInfo", "Kind"), _PARTICIPANT_KIND),
    "video_quality": ("models", ("VideoQuality",), _VIDEO_QUALITY),
}


@functools.cache
def by_value(what: str) -> dict[int, Any]:
    """``{signalling value: public member}`` for one table of :data:`_SPECS`."""
    module, path, table = _SPECS[what]
    wrapper: Any = proto.models() if module == "models" else proto.rtc()
    for part in path:
        wrapper = getattr(wrapper, part)
    return {int(wrapper.Value(key)): member for key, member in table.items()}


def _convert(what: str, value: int, default: Any) -> Any:
    return by_value(what).get(int(value), default)


def track_kind(value: int) -> TrackKind:
    """``livekit.TrackType`` → :class:`TrackKind`."""
    return _convert("kind", value, TrackKind.KIND_UNKNOWN)  # type: ignore[no-any-return]


def track_source(value: int) -> TrackSource:
    """``livekit.TrackSource`` → :class:`TrackSource`."""
    return _convert("source", value, TrackSource.SOURCE_UNKNOWN)  # type: ignore[no-any-return]


def connection_quality(value: int) -> ConnectionQuality:
    return _convert("quality", value, ConnectionQuality.QUALITY_UNKNOWN)  # type: ignore[no-any-return]


def stream_state(value: int) -> StreamState:
    return _convert("stream_state", value, StreamState.STATE_UNKNOWN)  # type: ignore[no-any-return]


def participant_kind(value: int) -> ParticipantKind:
    return _convert("participant_kind", value, ParticipantKind.PARTICIPANT_KIND_STANDARD)  # type: ignore[no-any-return]


def video_quality(value: int) -> VideoQuality:
    return _convert("video_quality", value, VideoQuality.VIDEO_QUALITY_HIGH)  # type: ignore[no-any-return]


def participant_state(value: int) -> ParticipantState:
    """``ParticipantInfo.State`` has the same names and values."""
    return ParticipantState(int(value))


def participant_kind_details(values: Any) -> list[ParticipantKindDetail]:
    """``ParticipantInfo.kind_details`` (same values)."""
    return [ParticipantKindDetail(int(v)) for v in values]


def disconnect_reason(value: int) -> DisconnectReason:
    """``livekit.DisconnectReason`` has the same names and values; unknown future values map to UNKNOWN_REASON."""
    try:
        return DisconnectReason(int(value))
    except ValueError:
        return DisconnectReason.UNKNOWN_REASON


def to_proto_track_type(kind: TrackKind) -> int:
    """:class:`TrackKind` → ``livekit.TrackType`` (for AddTrackRequest)."""
    return int(proto.models().TrackType.Value("VIDEO" if kind is TrackKind.KIND_VIDEO else "AUDIO"))


def to_proto_video_quality(quality: VideoQuality) -> int:
    """:class:`VideoQuality` → ``livekit.VideoQuality``."""
    name = next(key for key, member in _VIDEO_QUALITY.items() if member is quality)
    return int(proto.models().VideoQuality.Value(name))


def to_proto_track_source(source: TrackSource) -> int:
    """:class:`TrackSource` → ``livekit.TrackSource``."""
    name = next(key for key, member in _TRACK_SOURCE.items() if member is source)
    return int(proto.models().TrackSource.Value(name))
