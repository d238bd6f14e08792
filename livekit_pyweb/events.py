"""Room events: a typed emitter (``room.on("track_subscribed", fn)``) and an async stream (``room.events()``).

Handlers are plain functions called with the event's fields as positional arguments, in the order the
:class:`RoomEvent` subclass declares them (as ``livekit.rtc``: ``on("track_subscribed")`` gets
``(track, publication, participant)``). Coroutine functions are refused: use ``async for ev in room.events()``
for async code. A handler that raises is logged and does not stop the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from .enums import ConnectionQuality, ConnectionState, DisconnectReason, StreamState, SubscriptionStatus
    from .participant import Participant, RemoteParticipant
    from .room import DataPacket
    from .track import LocalTrack, RemoteTrack
    from .track_publication import LocalTrackPublication, PermissionStatus, RemoteTrackPublication, TrackPublication

logger = logging.getLogger("livekit_pyweb.events")

EventName = Literal[
    # livekit.rtc's room events, every one accepted (those nothing emits yet simply never fire)
    "participant_connected",
    "participant_disconnected",
    "participant_active",
    "local_track_published",
    "local_track_unpublished",
    "local_track_republished",
    "local_track_subscribed",
    "track_published",
    "track_unpublished",
    "track_subscribed",
    "track_unsubscribed",
    "track_subscription_failed",
    "track_muted",
    "track_unmuted",
    "active_speakers_changed",
    "room_metadata_changed",
    "participant_metadata_changed",
    "participant_name_changed",
    "participant_attributes_changed",
    "connection_quality_changed",
    "participant_encryption_status_changed",
    "participant_permissions_changed",
    "data_received",
    "sip_dtmf_received",
    "transcription_received",
    "e2ee_state_changed",
    "connection_state_changed",
    "connected",
    "disconnected",
    "reconnecting",
    "reconnected",
    "room_updated",
    "moved",
    "token_refreshed",
    "data_track_published",
    "data_track_unpublished",
    # livekit-client's RoomEvents that livekit.rtc has no name for (media in a browser), snake_case
    "audio_playback_changed",
    "video_playback_changed",
    "local_audio_silence_detected",
    "track_subscription_status_changed",
    "track_stream_state_changed",
    "signal_connected",
    "track_subscription_permission_changed",
    "media_devices_changed",
    "media_devices_error",
    "active_device_changed",
]

ParticipantEventName = Literal[
    # livekit-client's ParticipantEvent names (snake_case) that media brings; the room emits each on the
    # participant concerned just before the room-level event of the same change
    "track_published",  # (publication)            a remote participant published
    "track_unpublished",  # (publication)
    "track_subscribed",  # (track, publication)
    "track_unsubscribed",  # (track, publication)
    "track_muted",  # (publication)                remote or local
    "track_unmuted",  # (publication)
    "local_track_published",  # (publication)      the local participant
    "local_track_unpublished",  # (publication)
    "local_track_subscribed",  # (publication)     someone subscribed to one of our tracks for the first time
    "connection_quality_changed",  # (quality)
    "is_speaking_changed",  # (speaking)
    "track_subscription_permission_changed",  # (publication, status)   a remote publisher allowed/denied us
    "media_devices_error",  # (error, kind)        the local participant: a capture failed
    "track_stream_state_changed",  # (publication, state)     the server paused/resumed forwarding it to us
    "track_subscription_status_changed",  # (publication, status)
    "track_subscription_failed",  # (track_sid, error)         the server could not subscribe us
]

TrackEventName = Literal[
    # livekit-client's TrackEvent names (snake_case) that media brings, emitted on the Track object
    "muted",  # (track)
    "unmuted",  # (track)
    "element_attached",  # (element)
    "element_detached",  # (element)
    "audio_playback_started",  # ()                a remote audio track's element plays
    "audio_playback_failed",  # (error_name)       the browser refused (NotAllowedError: autoplay policy)
    "video_playback_started",  # ()                a remote video track's element (holding no audio) plays
    "video_playback_failed",  # (error_name)       the browser refused its play()
    "audio_silence_detected",  # ()                 a local audio track seems entirely silent (just published)
    "ended",  # (track)                             its MediaStreamTrack ended by itself (sharing stopped, device gone)
    "restarted",  # (track)                        a local track captures anew (restart_track, a device switch)
]


@dataclasses.dataclass(frozen=True, slots=True)
class RoomEvent:
    name: ClassVar[str] = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Connected(RoomEvent):
    name: ClassVar[str] = "connected"


@dataclasses.dataclass(frozen=True, slots=True)
class Disconnected(RoomEvent):
    name: ClassVar[str] = "disconnected"
    reason: DisconnectReason


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionStateChanged(RoomEvent):
    name: ClassVar[str] = "connection_state_changed"
    state: ConnectionState


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantConnected(RoomEvent):
    name: ClassVar[str] = "participant_connected"
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantDisconnected(RoomEvent):
    name: ClassVar[str] = "participant_disconnected"
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackPublished(RoomEvent):
    name: ClassVar[str] = "track_published"
    publication: RemoteTrackPublication
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackUnpublished(RoomEvent):
    name: ClassVar[str] = "track_unpublished"
    publication: RemoteTrackPublication
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackSubscribed(RoomEvent):
    name: ClassVar[str] = "track_subscribed"
    track: RemoteTrack
    publication: RemoteTrackPublication
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackUnsubscribed(RoomEvent):
    name: ClassVar[str] = "track_unsubscribed"
    track: RemoteTrack
    publication: RemoteTrackPublication
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackSubscriptionFailed(RoomEvent):
    """The server could not subscribe us to ``track_sid`` of ``participant`` (its SubscriptionResponse);
    ``error`` names the reason: ``SE_TRACK_NOTFOUND``, ``SE_CODEC_UNSUPPORTED`` or ``SE_UNKNOWN``. livekit.rtc's
    arguments and order."""

    name: ClassVar[str] = "track_subscription_failed"
    participant: RemoteParticipant
    track_sid: str
    error: str


@dataclasses.dataclass(frozen=True, slots=True)
class TrackSubscriptionStatusChanged(RoomEvent):
    """livekit-client's ``TrackSubscriptionStatusChanged``: ``publication.subscription_status`` became ``status``."""

    name: ClassVar[str] = "track_subscription_status_changed"
    publication: RemoteTrackPublication
    status: SubscriptionStatus
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackStreamStateChanged(RoomEvent):
    """livekit-client's ``TrackStreamStateChanged``: the server paused (``STATE_PAUSED``, e.g. the subscriber's
    bandwidth cannot carry it) or resumed (``STATE_ACTIVE``) forwarding a track we subscribe to."""

    name: ClassVar[str] = "track_stream_state_changed"
    publication: RemoteTrackPublication
    stream_state: StreamState
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TrackMuted(RoomEvent):
    name: ClassVar[str] = "track_muted"
    participant: Participant
    publication: TrackPublication


@dataclasses.dataclass(frozen=True, slots=True)
class TrackUnmuted(RoomEvent):
    name: ClassVar[str] = "track_unmuted"
    participant: Participant
    publication: TrackPublication


@dataclasses.dataclass(frozen=True, slots=True)
class LocalTrackPublished(RoomEvent):
    name: ClassVar[str] = "local_track_published"
    publication: LocalTrackPublication
    track: LocalTrack


@dataclasses.dataclass(frozen=True, slots=True)
class LocalTrackUnpublished(RoomEvent):
    name: ClassVar[str] = "local_track_unpublished"
    publication: LocalTrackPublication


@dataclasses.dataclass(frozen=True, slots=True)
class RoomMetadataChanged(RoomEvent):
    name: ClassVar[str] = "room_metadata_changed"
    old_metadata: str
    metadata: str


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantMetadataChanged(RoomEvent):
    name: ClassVar[str] = "participant_metadata_changed"
    participant: Participant
    old_metadata: str
    metadata: str


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantNameChanged(RoomEvent):
    name: ClassVar[str] = "participant_name_changed"
    participant: Participant
    old_name: str
    new_name: str


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantAttributesChanged(RoomEvent):
    """``changed_attributes`` holds the keys that changed with their new values ("" for a removed key)."""

    name: ClassVar[str] = "participant_attributes_changed"
    changed_attributes: dict[str, str]
    participant: Participant


@dataclasses.dataclass(frozen=True, slots=True)
class ParticipantPermissionsChanged(RoomEvent):
    name: ClassVar[str] = "participant_permissions_changed"
    participant: Participant
    permissions: Any


@dataclasses.dataclass(frozen=True, slots=True)
class ActiveSpeakersChanged(RoomEvent):
    name: ClassVar[str] = "active_speakers_changed"
    speakers: list[Participant]


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionQualityChanged(RoomEvent):
    name: ClassVar[str] = "connection_quality_changed"
    participant: Participant
    quality: ConnectionQuality


@dataclasses.dataclass(frozen=True, slots=True)
class LocalTrackSubscribed(RoomEvent):
    """A participant subscribed to one of our tracks for the first time."""

    name: ClassVar[str] = "local_track_subscribed"
    track: LocalTrack


@dataclasses.dataclass(frozen=True, slots=True)
class RoomUpdated(RoomEvent):
    name: ClassVar[str] = "room_updated"


@dataclasses.dataclass(frozen=True, slots=True)
class Moved(RoomEvent):
    name: ClassVar[str] = "moved"


@dataclasses.dataclass(frozen=True, slots=True)
class TokenRefreshed(RoomEvent):
    name: ClassVar[str] = "token_refreshed"


@dataclasses.dataclass(frozen=True, slots=True)
class AudioPlaybackChanged(RoomEvent):
    """livekit-client's ``AudioPlaybackStatusChanged``: ``playing`` is the new ``Room.can_playback_audio`` (False:
    the browser refused to play remote audio without a user gesture; call ``room.start_audio()`` from one)."""

    name: ClassVar[str] = "audio_playback_changed"
    playing: bool


@dataclasses.dataclass(frozen=True, slots=True)
class DataReceived(RoomEvent):
    """livekit.rtc's ``data_received``: a data packet another participant (or a server SDK) published with
    ``publish_data``; handlers get the :class:`~livekit_pyweb.room.DataPacket`."""

    name: ClassVar[str] = "data_received"
    packet: DataPacket


@dataclasses.dataclass(frozen=True, slots=True)
class VideoPlaybackChanged(RoomEvent):
    """livekit-client's ``VideoPlaybackStatusChanged``: ``playing`` is the new ``Room.can_playback_video`` (False:
    the browser refused to play a remote video, e.g. an unmuted one without a user gesture, or a low-power mode;
    call ``room.start_video()`` from a gesture)."""

    name: ClassVar[str] = "video_playback_changed"
    playing: bool


@dataclasses.dataclass(frozen=True, slots=True)
class LocalAudioSilenceDetected(RoomEvent):
    """livekit-client's ``LocalAudioSilenceDetected``: a local audio track just published seems entirely silent (its
    samples over a 200 ms window all zero): the microphone may be broken, unplugged or muted in hardware."""

    name: ClassVar[str] = "local_audio_silence_detected"
    publication: LocalTrackPublication


@dataclasses.dataclass(frozen=True, slots=True)
class SignalConnected(RoomEvent):
    """livekit-client's ``SignalConnected``: the signalling connection is up and the JoinResponse is applied (the
    local participant and the participants already present are known); the peer connection is not up yet."""

    name: ClassVar[str] = "signal_connected"


@dataclasses.dataclass(frozen=True, slots=True)
class TrackSubscriptionPermissionChanged(RoomEvent):
    """livekit-client's ``TrackSubscriptionPermissionChanged``: the publisher of a remote track allowed or denied our
    subscription (its ``set_track_subscription_permissions``). Denied, the server stops sending it (the track is
    unsubscribed, ``track_unsubscribed``); allowed again, it is subscribed again (``track_subscribed``)."""

    name: ClassVar[str] = "track_subscription_permission_changed"
    publication: RemoteTrackPublication
    status: PermissionStatus
    participant: RemoteParticipant


@dataclasses.dataclass(frozen=True, slots=True)
class TranscriptionReceived(RoomEvent):
    """A ``transcription`` data packet: ``segments`` (list of TranscriptionSegment) of ``participant``'s track
    ``publication`` (either None when not known here), as livekit.rtc emits it."""

    name: ClassVar[str] = "transcription_received"
    segments: list[Any]
    participant: Participant | None
    publication: TrackPublication | None


@dataclasses.dataclass(frozen=True, slots=True)
class Emitted:
    """A participant or track event as ``participant.events()``/``track.events()`` give it: its name and the
    arguments its handlers get."""

    name: str
    args: tuple[Any, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class MediaDevicesChanged(RoomEvent):
    """livekit-client's ``MediaDevicesChanged``: the page's ``navigator.mediaDevices`` fired ``devicechange`` (a
    device plugged in or out); ``Room.get_local_devices()`` lists them again. Emitted while connected."""

    name: ClassVar[str] = "media_devices_changed"


@dataclasses.dataclass(frozen=True, slots=True)
class MediaDevicesError(RoomEvent):
    """livekit-client's ``MediaDevicesError``: capturing for a source failed (``set_camera_enabled``,
    ``set_microphone_enabled``, ``enable_camera_and_microphone``, ``switch_active_device``,
    ``set_screen_share_enabled``). ``error`` is the :class:`~livekit_pyweb.errors.DeviceError` raised (its
    ``reason``: PermissionDenied, NotFound, DeviceInUse, Other) or an ``UnsupportedError``; ``kind`` the device kind
    (``"videoinput"``/``"audioinput"``), None for a screen share or when both were asked for at once."""

    name: ClassVar[str] = "media_devices_error"
    error: Exception
    kind: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ActiveDeviceChanged(RoomEvent):
    """livekit-client's ``ActiveDeviceChanged``: the device used for ``kind`` (``"audioinput"``, ``"videoinput"``,
    ``"audiooutput"``) is now ``device_id`` (``Room.get_active_device(kind)``)."""

    name: ClassVar[str] = "active_device_changed"
    kind: str
    device_id: str


EVENT_NAMES: frozenset[str] = frozenset(typing.get_args(EventName))
"""Every event name :meth:`EventEmitter.on` accepts: livekit.rtc's room events."""
PARTICIPANT_EVENT_NAMES: frozenset[str] = frozenset(typing.get_args(ParticipantEventName))
TRACK_EVENT_NAMES: frozenset[str] = frozenset(typing.get_args(TrackEventName))
_END = object()


def _positional_arity(fn: Callable[..., Any]) -> int | None:
    """How many positional arguments ``fn`` takes; ``None`` when it takes ``*args`` (or cannot be inspected)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


class EventStream:
    """``async for event in room.events()``: every event from the moment ``events()`` was called, in order, until
    the room disconnects. Registered at once, so ``it = room.events(); await room.connect(...)`` sees
    ``connected``. :meth:`aclose` stops it early."""

    def __init__(self, streams: list[asyncio.Queue[Any]]) -> None:
        self._streams = streams
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        streams.append(self._queue)
        self._done = False

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> RoomEvent:
        if self._done:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            await self.aclose()
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            if self._queue in self._streams:
                self._streams.remove(self._queue)


T = TypeVar("T", bound=str)


class EventEmitter(Generic[T]):
    """livekit.rtc's emitter semantics: ``on``/``once`` (also as decorators), ``off``, ``emit``; a handler gets as
    many of the event's arguments as it takes positionally (``def on_track(track):`` is fine for
    ``track_subscribed``). Handlers run in registration order; one that raises is logged and the others still run.
    Plus :meth:`events`, the same events as a stream.

    ``Room`` is an ``EventEmitter[EventName]``; ``Participant`` and ``Track`` are emitters too, of livekit-client's
    participant and track events (``ParticipantEventName``, ``TrackEventName``)."""

    _event_names: ClassVar[frozenset[str]] = EVENT_NAMES

    def __init__(self) -> None:
        self._handlers: dict[str, dict[Callable[..., Any], int | None]] = {}
        self._streams: list[asyncio.Queue[Any]] = []

    def _check_name(self, name: str) -> None:
        if name not in self._event_names:
            raise ValueError(f"unknown event {name!r}; known events: {', '.join(sorted(self._event_names))}")

    def on(self, name: T, handler: Callable[..., Any] | None = None) -> Any:
        """Register ``handler`` for ``name``; without a handler, returns a decorator.

        Raises:
            ValueError: ``name`` is no room event (a typo), or ``handler`` is a coroutine function (as livekit.rtc:
                start a task from a plain handler, or consume ``async for ev in room.events()``).
        """
        self._check_name(name)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.iscoroutinefunction(fn):
                raise ValueError(
                    f"handler for {name!r} is a coroutine function; start a task from a plain handler "
                    "(asyncio.ensure_future), or consume `async for ev in room.events()`"
                )
            self._handlers.setdefault(name, {})[fn] = _positional_arity(fn)
            return fn

        return register if handler is None else register(handler)

    def once(self, name: T, handler: Callable[..., Any] | None = None) -> Any:
        """Like :meth:`on`, but the handler runs at most once; also a decorator."""
        self._check_name(name)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            arity = _positional_arity(fn)

            def once_wrapper(*args: Any) -> None:
                self.off(name, once_wrapper)
                fn(*(args if arity is None else args[:arity]))

            self.on(name, once_wrapper)
            return fn

        return register if handler is None else register(handler)

    def off(self, name: T, handler: Callable[..., Any]) -> None:
        """Unregister ``handler`` (no error if it was not registered)."""
        self._handlers.get(name, {}).pop(handler, None)

    def emit(self, name: T, *args: Any) -> None:
        """Call the handlers of ``name`` with ``args`` (trimmed to each handler's arity), as livekit.rtc's
        ``emit``. The room emits its own events; this is public for code that relays or simulates them."""
        self._check_name(name)
        self._call_handlers(name, args)

    def _call_handlers(self, name: str, args: tuple[Any, ...] | list[Any]) -> None:
        for handler, arity in list(self._handlers.get(name, {}).items()):
            try:
                handler(*(args if arity is None else args[:arity]))
            except Exception:
                logger.exception("handler for %r raised", name)

    def _emit(self, event: RoomEvent) -> None:
        self._call_handlers(event.name, [getattr(event, f.name) for f in dataclasses.fields(event)])
        for queue in self._streams:
            queue.put_nowait(event)

    def _emit_args(self, name: str, *args: Any) -> None:
        """Emit a participant or track event (no dataclass: its handlers get ``args``, streams an :class:`Emitted`)."""
        self._call_handlers(name, args)
        for queue in self._streams:
            queue.put_nowait(Emitted(name, args))

    def _end_streams(self) -> None:
        for queue in self._streams:
            queue.put_nowait(_END)

    def events(self) -> EventStream:
        """Every event from now on, in order, until the room disconnects (see :class:`EventStream`)."""
        return EventStream(self._streams)
