"""livekit_pyweb: the LiveKit client SDK for Python pages running on Pyodide.

Public names are imported lazily (the protobuf runtime costs ~0.6 s in Pyodide; ``import livekit_pyweb`` should
not), so ``from livekit_pyweb import Room`` loads only what a room needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .errors import (
        ConnectError,
        ConnectionError,
        ConnectionErrorReason,
        DeviceError,
        DeviceErrorReason,
        MediaDeviceFailure,
        InvalidStateError,
        LiveKitError,
        NegotiationError,
        PublishTrackError,
        SignalProtocolError,
        TrackError,
        UnsupportedError,
        BridgeError,
        DeviceUnsupportedError,
        UnexpectedConnectionState,
        UnsupportedServer,
        RequestErrorReason,
        SignalRequestError,
        TrackInvalidError,
        PublishDataError,
        DataStreamErrorReason,
        StreamError,
        DataStreamError,
    )
    from .data_stream import (
        ByteStreamInfo,
        ByteStreamReader,
        ByteStreamWriter,
        PageFile,
        TextStreamInfo,
        TextStreamReader,
        TextStreamWriter,
    )
    from .transcription import Transcription, TranscriptionSegment
    from .options import (
        DataStreamOptions,
        AdaptiveStreamSettings,
        AudioCaptureOptions,
        AudioEncoding,
        BackupCodecPolicy,
        ScreenSharePresets,
        VideoEncoding,
        VideoPreset,
        VideoPresets,
        VideoPresets43,
        VideoResolution,
        IceServer,
        RoomOptions,
        RtcConfiguration,
        TrackPublishOptions,
        VideoCaptureOptions,
        ScreenShareCaptureOptions,
        ParticipantTrackPermission,
    )
    from .local_tracks import (
        create_local_audio_track,
        create_local_screen_tracks,
        create_local_tracks,
        create_local_video_track,
    )
    from .enums import (
        ConnectionQuality,
        ConnectionState,
        DataPacketKind,
        DegradationPreference,
        DisconnectReason,
        IceTransportType,
        ParticipantKind,
        ParticipantKindDetail,
        ParticipantState,
        StreamState,
        TrackKind,
        TrackSource,
        VideoCodec,
        VideoQuality,
        SubscriptionStatus,
    )
    from .events import EventEmitter
    from .devices import MediaDeviceInfo
    from .participant import LocalParticipant, Participant, RemoteParticipant
    from .room import DataPacket, Room, RtcStats
    from .rpc import RpcCallInfo, RpcError, RpcInterceptor, RpcInvocationData
    from .track import AudioTrack, VideoTrack, LocalAudioTrack, LocalTrack, LocalVideoTrack, RemoteAudioTrack, RemoteTrack, RemoteVideoTrack, Track
    from .track_publication import LocalTrackPublication, PermissionStatus, RemoteTrackPublication, TrackPublication
    from .log import LogLevel, set_log_extension, set_log_level
    from .support import is_browser_supported, supports_adaptive_stream, supports_dynacast

_EXPORTS = {
    "room": ("Room", "RtcStats", "DataPacket"),
    "options": ("RoomOptions", "DataStreamOptions", "RtcConfiguration", "IceServer", "TrackPublishOptions", "VideoCaptureOptions", "AudioCaptureOptions",
                "AdaptiveStreamSettings",
                "VideoEncoding", "AudioEncoding", "VideoResolution", "VideoPreset", "VideoPresets", "VideoPresets43",
                "ScreenSharePresets", "BackupCodecPolicy", "ScreenShareCaptureOptions", "ParticipantTrackPermission"),
    "local_tracks": ("create_local_tracks", "create_local_video_track", "create_local_audio_track",
                     "create_local_screen_tracks"),
    "enums": ("TrackKind", "TrackSource", "ConnectionState", "DisconnectReason", "ConnectionQuality", "StreamState",
              "DataPacketKind", "ParticipantKind", "ParticipantKindDetail", "ParticipantState", "VideoCodec",
              "VideoQuality", "IceTransportType", "DegradationPreference", "SubscriptionStatus"),
    "events": ("EventEmitter",),
    "devices": ("MediaDeviceInfo",),
    "errors": ("LiveKitError", "ConnectError", "ConnectionError", "ConnectionErrorReason", "SignalProtocolError", "NegotiationError",
               "TrackError", "PublishTrackError", "DeviceError", "DeviceErrorReason", "MediaDeviceFailure", "UnsupportedError",
               "InvalidStateError", "BridgeError", "DeviceUnsupportedError", "UnexpectedConnectionState",
               "UnsupportedServer", "RequestErrorReason", "SignalRequestError", "TrackInvalidError", "PublishDataError",
               "DataStreamErrorReason", "StreamError", "DataStreamError"),
    "data_stream": ("TextStreamInfo", "ByteStreamInfo", "TextStreamReader", "ByteStreamReader", "TextStreamWriter",
                    "ByteStreamWriter", "PageFile"),
    "transcription": ("Transcription", "TranscriptionSegment"),
    "participant": ("Participant", "LocalParticipant", "RemoteParticipant"),
    "rpc": ("RpcError", "RpcInvocationData", "RpcCallInfo", "RpcInterceptor"),
    "track": ("Track", "AudioTrack", "VideoTrack", "LocalTrack", "LocalVideoTrack", "LocalAudioTrack", "RemoteTrack", "RemoteVideoTrack",
              "RemoteAudioTrack"),
    "track_publication": ("TrackPublication", "LocalTrackPublication", "RemoteTrackPublication", "PermissionStatus"),
    "log": ("LogLevel", "set_log_level", "set_log_extension"),
    "support": ("is_browser_supported", "supports_adaptive_stream", "supports_dynacast"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["__version__", *_WHERE]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'livekit_pyweb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
