"""Error types raised by livekit_pyweb.

Every failure the SDK reports is a :class:`LiveKitError`. The tree::

    LiveKitError
    ├── ConnectError               (reason: ConnectionErrorReason, status: HTTP status or None)
    │                              also importable as ConnectionError, livekit-client's name
    ├── UnsupportedServer          (the server did not say its version: too old for this client; code 10)
    ├── SignalProtocolError        (the server sent something we cannot parse or did not expect)
    ├── SignalRequestError         (the server refused a request, or did not answer it in time; code 15;
    │                               reason: RequestErrorReason)
    ├── NegotiationError           (an SDP offer/answer step failed in the browser)
    ├── TrackError
    │   ├── PublishTrackError      (the server refused or did not acknowledge a publication)
    │   ├── TrackInvalidError      (the track cannot be used for this: ended, no size, published twice; code 20)
    │   └── DeviceError            (getUserMedia/getDisplayMedia failed; reason: DeviceErrorReason)
    ├── UnsupportedError           (the environment lacks an API, e.g. RTCPeerConnection in a Web Worker)
    ├── BridgeError                (Web Worker only: the page host serving the browser objects stopped answering)
    ├── PublishDataError           (a data packet too large, or no open data channel to send it on; code 14)
    ├── StreamError                (a data stream failed: sending, or an incoming one ended abnormally; code 16;
    │                               reason: DataStreamErrorReason; also importable as DataStreamError)
    └── InvalidStateError          (a call made in the wrong state, e.g. publish before connect)

``ConnectError`` is livekit.rtc's name for a failed join, so code written for the official Python SDK catches
the same class here. ``ConnectionError`` is the same class under livekit-client's name; it shadows Python's builtin
``ConnectionError`` only where a user imports it from this package, which is why the primary name is
``ConnectError`` (and neither is an ``OSError``: a refused token is no socket failure).

Browser exceptions (``pyodide.ffi.JsException``) never reach callers: the adapters in
``livekit_pyweb._browser`` translate them at the boundary, keeping the original as ``__cause__``.
"""

from __future__ import annotations

import enum

__all__ = [
    "LiveKitError",
    "ConnectionErrorReason",
    "ConnectError",
    "ConnectionError",
    "SignalProtocolError",
    "NegotiationError",
    "TrackError",
    "PublishTrackError",
    "DeviceErrorReason",
    "MediaDeviceFailure",
    "DeviceError",
    "UnsupportedError",
    "InvalidStateError",
    "BridgeError",
    "PublishDataError",
    "DeviceUnsupportedError",
    "UnexpectedConnectionState",
    "UnsupportedServer",
    "RequestErrorReason",
    "SignalRequestError",
    "TrackInvalidError",
    "DataStreamErrorReason",
    "StreamError",
    "DataStreamError",
]


class LiveKitError(Exception):
    """Root of every error this package raises.

    ``code`` is livekit-client's error code for the same failure where it has one (its ``LivekitError.code``):
    1 connection, 10 unsupported server, 12 unexpected connection state, 13 negotiation, 15 signal request and
    publish track (livekit-client gives both classes 15), 20 invalid track, 21 unsupported device/API; ``None``
    for errors of ours it has no code for."""

    code: int | None = None


class ConnectionErrorReason(enum.Enum):
    """Why a connection attempt failed; the names match livekit-client's ``ConnectionErrorReason``."""

    NotAllowed = "NotAllowed"
    """The server refused the token (HTTP 401/403 from ``validate``), or the room may not be joined."""
    ServerUnreachable = "ServerUnreachable"
    """Nothing answered at the URL (no WebSocket, and ``validate`` got no HTTP answer)."""
    InternalError = "InternalError"
    """The server answered with an error (5xx) or broke the protocol."""
    Cancelled = "Cancelled"
    """``disconnect()`` was called while connecting."""
    LeaveRequest = "LeaveRequest"
    """The server sent a leave request while joining."""
    Timeout = "Timeout"
    """A step of the join did not finish in time."""
    ServiceNotFound = "ServiceNotFound"
    """The server has no ``/rtc/v1`` endpoint (an older server): retry on the legacy ``/rtc`` path."""


class ConnectError(LiveKitError):
    """Joining (or staying in) a room failed (code 1).

    Attributes:
        reason: what kind of failure, see :class:`ConnectionErrorReason`.
        status: the HTTP status of the ``validate`` request, where one was made and answered.
    """

    code = 1

    def __init__(self, message: str, reason: ConnectionErrorReason, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status

    def __repr__(self) -> str:
        return f"ConnectError({str(self)!r}, reason={self.reason.name}, status={self.status})"


ConnectionError = ConnectError  # noqa: A001 - livekit-client's name for the same class


class UnsupportedServer(LiveKitError):
    """The server's JoinResponse says no server version (neither ``server_info.version`` nor the older
    ``server_version``): a server too old, or not a LiveKit server (code 10).

    As in livekit-client, ``Room.connect()`` does not raise it itself: it raises a :class:`ConnectError` with reason
    ``ServerUnreachable`` ("could not establish signal connection: unknown server version") whose ``__cause__`` is
    this error."""

    code = 10


class SignalProtocolError(LiveKitError):
    """A signalling message could not be decoded, or arrived where the protocol does not allow it."""


class NegotiationError(LiveKitError):
    """Creating or applying an SDP offer or answer failed (code 13)."""

    code = 13


class RequestErrorReason(enum.Enum):
    """Why the server refused a signal request: livekit-client's ``RequestErrorReason``, the non-OK values of the
    protocol's ``RequestResponse.Reason`` plus ``TimeoutError`` (no answer in time)."""

    NOT_FOUND = 1
    NOT_ALLOWED = 2
    LIMIT_EXCEEDED = 3
    QUEUED = 4
    UNSUPPORTED_TYPE = 5
    UNCLASSIFIED_ERROR = 6
    INVALID_HANDLE = 7
    INVALID_NAME = 8
    DUPLICATE_HANDLE = 9
    DUPLICATE_NAME = 10
    INVALID_REQUEST = 11
    TimeoutError = "TimeoutError"


class SignalRequestError(LiveKitError):
    """The server answered a request of ours (``set_metadata``, ``set_name``, ``set_attributes``) with a
    ``RequestResponse`` that is not OK, or the change did not show within 5 s (code 15, as livekit-client).

    Attributes:
        reason: see :class:`RequestErrorReason` (``NOT_ALLOWED``: the token lacks ``can_update_own_metadata``;
            ``LIMIT_EXCEEDED``: name/metadata/attributes too large; ``TimeoutError``).
        reason_name: the reason's name, as livekit-client's ``reasonName``.
    """

    code = 15

    def __init__(self, message: str, reason: RequestErrorReason) -> None:
        super().__init__(message)
        self.reason = reason
        self.reason_name = reason.name

    def __repr__(self) -> str:
        return f"SignalRequestError({str(self)!r}, reason={self.reason.name})"


class TrackError(LiveKitError):
    """A track operation failed."""


class PublishTrackError(TrackError):
    """The server refused a publication or did not confirm it in time, or our permissions do not allow it
    (``status`` 403, as livekit-client: raised before anything is captured or sent)."""

    code = 15

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TrackInvalidError(TrackError):
    """The track cannot be used for what was asked (code 20, as livekit-client): publishing a video track that
    reports no size, or a track whose publication is already in flight (the same MediaStreamTrack id), or one
    that has ended (stopped)."""

    code = 20


class DeviceErrorReason(enum.Enum):
    """Why capturing from (or playing to) a device failed: livekit-client's ``MediaDeviceFailure`` (also this
    enum's alias), read from the browser's DOMException name by :meth:`get_failure`."""

    PermissionDenied = "PermissionDenied"
    """The user or the browser refused access (``NotAllowedError``, ``SecurityError``)."""
    NotFound = "NotFound"
    """No such device (``NotFoundError``; ``OverconstrainedError``: no device satisfies the constraints, e.g. an
    exact ``deviceId`` that does not exist)."""
    DeviceInUse = "DeviceInUse"
    """The device exists but cannot be opened, typically another application holds it (``NotReadableError``,
    ``AbortError``)."""
    Other = "Other"

    @classmethod
    def get_failure(cls, error: BaseException | str) -> DeviceErrorReason:
        """The reason for a DOMException name (or an error carrying ``.name``, as :class:`DeviceError` does).
        As livekit-client's ``MediaDeviceFailure.getFailure`` (its legacy Chrome names included), plus
        ``SecurityError``, ``OverconstrainedError`` and ``AbortError``, which it counts as Other."""
        name = error if isinstance(error, str) else str(getattr(error, "name", "") or "")
        return DEVICE_ERROR_NAMES.get(name, cls.Other)


MediaDeviceFailure = DeviceErrorReason

DEVICE_ERROR_NAMES: dict[str, DeviceErrorReason] = {
    "NotAllowedError": DeviceErrorReason.PermissionDenied,
    "PermissionDeniedError": DeviceErrorReason.PermissionDenied,  # Chrome's legacy name
    "SecurityError": DeviceErrorReason.PermissionDenied,
    "NotFoundError": DeviceErrorReason.NotFound,
    "DevicesNotFoundError": DeviceErrorReason.NotFound,  # Chrome's legacy name
    "OverconstrainedError": DeviceErrorReason.NotFound,
    "NotReadableError": DeviceErrorReason.DeviceInUse,
    "TrackStartError": DeviceErrorReason.DeviceInUse,  # Chrome's legacy name
    "AbortError": DeviceErrorReason.DeviceInUse,
}
"""The DOMException names a capture (getUserMedia) or an output selection (setSinkId) fails with, and what they
mean; every other name is ``Other``. Both platforms (direct and worker bridge) use this one table."""


class DeviceError(TrackError):
    """getUserMedia, getDisplayMedia or setSinkId failed.

    Attributes:
        reason: see :class:`DeviceErrorReason`.
        name: the browser's DOMException name, e.g. ``"NotAllowedError"``.
    """

    def __init__(self, message: str, reason: DeviceErrorReason, name: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.name = name

    def __repr__(self) -> str:
        return f"DeviceError({str(self)!r}, reason={self.reason.name}, name={self.name!r})"


class UnsupportedError(LiveKitError):
    """This environment lacks a browser API the operation needs (code 21; livekit-client's
    ``DeviceUnsupportedError``, also this class's alias)."""

    code = 21


DeviceUnsupportedError = UnsupportedError


class InvalidStateError(LiveKitError):
    """The call is not valid in the object's current state (code 12; livekit-client's
    ``UnexpectedConnectionState``, also this class's alias)."""

    code = 12


UnexpectedConnectionState = InvalidStateError


class BridgeError(LiveKitError):
    """Python runs in a Web Worker and the page-side host that owns its browser objects (``lkpw-host.mjs``) went
    away, stopped answering, or did not answer a call in time: the call cannot complete."""


class PublishDataError(LiveKitError):
    """A data packet could not be sent (code 14, livekit-client's ``PublishDataError``; livekit.rtc raises a class
    of the same name from ``publish_data``): the encoded packet is larger than a data channel message may be, the
    room has no open data channel (not connected, or the channel closed), or it closed while the send waited for
    room in its buffer. The channel itself stays usable after a refused packet."""

    code = 14


class DataStreamErrorReason(enum.Enum):
    """Why a data stream failed: livekit-client's ``DataStreamErrorReason`` (same names and values)."""

    AlreadyOpened = 0
    """A stream with this id is already being read."""
    AbnormalEnd = 1
    """The sender closed it with a reason, left the room mid-stream, or we disconnected."""
    DecodeFailed = 2
    """Its content is not valid UTF-8 (text), or not valid raw deflate (compressed)."""
    LengthExceeded = 3
    """More bytes arrived than the header's ``total_length``."""
    Incomplete = 4
    """Fewer bytes than ``total_length`` at the trailer, or a chunk is missing."""
    HandlerAlreadyRegistered = 7
    EncryptionTypeMismatch = 8
    HeaderTooLarge = 9
    """The header packet (mostly its attributes) exceeds the 15,000-byte budget: nothing was sent."""
    PayloadTooLarge = 10
    """A compressed stream inflates beyond the receiver's limit."""


class StreamError(LiveKitError):
    """A data stream operation failed, or an incoming stream ended abnormally (livekit.rtc's ``StreamError``;
    livekit-client's ``DataStreamError``, code 16, also this class's alias).

    Attributes:
        description: the message (livekit.rtc's attribute).
        reason: see :class:`DataStreamErrorReason` (None where none applies, e.g. a write after close).
        reason_name: the reason's name, as livekit-client's ``reasonName`` ("" when no reason).
    """

    code = 16

    def __init__(self, description: str, reason: DataStreamErrorReason | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.reason = reason
        self.reason_name = reason.name if reason is not None else ""

    def __repr__(self) -> str:
        return f"StreamError({self.description!r}, reason={self.reason_name or None})"


DataStreamError = StreamError
