"""Enums with ``livekit.rtc``'s names and values, so code written against the official Python SDK reads the same here.

livekit.rtc's enums mirror its FFI protocol (``TrackKind.KIND_VIDEO == 2``); the signalling protocol the browser
speaks numbers some of them differently (``TrackType.VIDEO == 1``). The conversion happens once, in
:mod:`livekit_pyweb._core.convert`; nothing else in the package reads a signalling enum value.
"""

from __future__ import annotations

import enum

__all__ = [
    "TrackKind",
    "TrackSource",
    "ConnectionState",
    "DisconnectReason",
    "ConnectionQuality",
    "StreamState",
    "DataPacketKind",
    "ParticipantKind",
    "ParticipantKindDetail",
    "ParticipantState",
    "VideoCodec",
    "VideoQuality",
    "IceTransportType",
    "DegradationPreference",
]  # livekit.rtc's (tests/unit/test_convert.py compares them); SubscriptionStatus is livekit-client's


class TrackKind(enum.IntEnum):
    KIND_UNKNOWN = 0
    KIND_AUDIO = 1
    KIND_VIDEO = 2


class TrackSource(enum.IntEnum):
    SOURCE_UNKNOWN = 0
    SOURCE_CAMERA = 1
    SOURCE_MICROPHONE = 2
    SOURCE_SCREENSHARE = 3
    SOURCE_SCREENSHARE_AUDIO = 4


class ConnectionState(enum.IntEnum):
    CONN_DISCONNECTED = 0
    CONN_CONNECTED = 1
    CONN_RECONNECTING = 2


class DisconnectReason(enum.IntEnum):
    """Why a room was left; the signalling protocol's ``DisconnectReason``, value for value."""

    UNKNOWN_REASON = 0
    CLIENT_INITIATED = 1
    DUPLICATE_IDENTITY = 2
    SERVER_SHUTDOWN = 3
    PARTICIPANT_REMOVED = 4
    ROOM_DELETED = 5
    STATE_MISMATCH = 6
    JOIN_FAILURE = 7
    MIGRATION = 8
    SIGNAL_CLOSE = 9
    ROOM_CLOSED = 10
    USER_UNAVAILABLE = 11
    USER_REJECTED = 12
    SIP_TRUNK_FAILURE = 13
    CONNECTION_TIMEOUT = 14
    MEDIA_FAILURE = 15
    AGENT_ERROR = 16


class ConnectionQuality(enum.IntEnum):
    QUALITY_UNKNOWN = -1
    QUALITY_POOR = 0
    QUALITY_GOOD = 1
    QUALITY_EXCELLENT = 2
    QUALITY_LOST = 3


class StreamState(enum.IntEnum):
    STATE_UNKNOWN = 0
    STATE_ACTIVE = 1
    STATE_PAUSED = 2


class DataPacketKind(enum.IntEnum):
    KIND_LOSSY = 0
    KIND_RELIABLE = 1


class ParticipantKind(enum.IntEnum):
    PARTICIPANT_KIND_STANDARD = 0
    PARTICIPANT_KIND_INGRESS = 1
    PARTICIPANT_KIND_EGRESS = 2
    PARTICIPANT_KIND_SIP = 3
    PARTICIPANT_KIND_AGENT = 4
    PARTICIPANT_KIND_CONNECTOR = 5
    PARTICIPANT_KIND_BRIDGE = 6


class ParticipantKindDetail(enum.IntEnum):
    PARTICIPANT_KIND_DETAIL_CLOUD_AGENT = 0
    PARTICIPANT_KIND_DETAIL_FORWARDED = 1
    PARTICIPANT_KIND_DETAIL_CONNECTOR_WHATSAPP = 2
    PARTICIPANT_KIND_DETAIL_CONNECTOR_TWILIO = 3
    PARTICIPANT_KIND_DETAIL_BRIDGE_RTSP = 4
    PARTICIPANT_KIND_DETAIL_SIMULATION = 5


class ParticipantState(enum.IntEnum):
    PARTICIPANT_STATE_JOINING = 0
    PARTICIPANT_STATE_JOINED = 1
    PARTICIPANT_STATE_ACTIVE = 2
    PARTICIPANT_STATE_DISCONNECTED = 3


class VideoCodec(enum.IntEnum):
    VP8 = 0
    H264 = 1
    AV1 = 2
    VP9 = 3
    H265 = 4


class VideoQuality(enum.IntEnum):
    VIDEO_QUALITY_LOW = 0
    VIDEO_QUALITY_MEDIUM = 1
    VIDEO_QUALITY_HIGH = 2


class IceTransportType(enum.IntEnum):
    TRANSPORT_RELAY = 0
    TRANSPORT_NOHOST = 1
    TRANSPORT_ALL = 2


class DegradationPreference(enum.IntEnum):
    BALANCED = 0
    MAINTAIN_FRAMERATE = 1
    MAINTAIN_RESOLUTION = 2
    MAINTAIN_FRAMERATE_AND_RESOLUTION = 4


class SubscriptionStatus(enum.Enum):
    """Where our subscription to a remote track stands (livekit-client's ``TrackPublication.SubscriptionStatus``;
    livekit.rtc has no name for it): ``DESIRED``: we want it (auto-subscribe, or ``set_subscribed(True)``) and its
    media has not arrived; ``SUBSCRIBED``: its track is here; ``UNSUBSCRIBED``: we do not want it
    (``set_subscribed(False)``, or ``RoomOptions(auto_subscribe=False)`` before any ``set_subscribed(True)``)."""

    DESIRED = "desired"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
