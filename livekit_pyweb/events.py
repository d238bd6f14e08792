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
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from .participant import Participant, RemoteParticipant
    from .track import LocalTrack, RemoteTrack
    from .track_publication import LocalTrackPublication, RemoteTrackPublication, TrackPublication

logger = logging.getLogger("livekit_pyweb.events")

EventName = Literal[
    "connected",
    "disconnected",
    "connection_state_changed",
    "participant_connected",
    "participant_disconnected",
    "track_published",
    "track_unpublished",
    "track_subscribed",
    "track_unsubscribed",
    "track_muted",
    "track_unmuted",
    "local_track_published",
    "local_track_unpublished",
    "room_metadata_changed",
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
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionStateChanged(RoomEvent):
    name: ClassVar[str] = "connection_state_changed"
    state: Any


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


_KNOWN = {cls.name for cls in RoomEvent.__subclasses__()}
_END = object()


class EventEmitter:
    """``on``/``off``/``once`` for named events, plus :meth:`events` streams."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._streams: list[asyncio.Queue[Any]] = []

    def on(self, name: EventName, handler: Callable[..., Any] | None = None) -> Any:
        """Register ``handler`` for ``name``; without a handler, returns a decorator.

        Raises:
            ValueError: unknown event name. TypeError: ``handler`` is a coroutine function.
        """
        if name not in _KNOWN:
            raise ValueError(f"unknown event {name!r}; known events: {', '.join(sorted(_KNOWN))}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.iscoroutinefunction(fn):
                raise TypeError(
                    f"handler for {name!r} is a coroutine function; wrap it with asyncio.ensure_future, "
                    "or consume `async for ev in room.events()`"
                )
            self._handlers.setdefault(name, []).append(fn)
            return fn

        return register if handler is None else register(handler)

    def once(self, name: EventName, handler: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> None:
            self.off(name, wrapper)
            handler(*args)

        return self.on(name, wrapper)  # type: ignore[no-any-return]

    def off(self, name: EventName, handler: Callable[..., Any]) -> None:
        handlers = self._handlers.get(name, [])
        if handler in handlers:
            handlers.remove(handler)

    def _emit(self, event: RoomEvent) -> None:
        args = [getattr(event, f.name) for f in dataclasses.fields(event)]
        for handler in list(self._handlers.get(event.name, ())):
            try:
                handler(*args)
            except Exception:
                logger.exception("handler for %r raised", event.name)
        for queue in self._streams:
            queue.put_nowait(event)

    def _end_streams(self) -> None:
        for queue in self._streams:
            queue.put_nowait(_END)

    async def events(self) -> AsyncIterator[RoomEvent]:
        """Every event from now on, in order, until the room disconnects."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._streams.append(queue)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield item
        finally:
            self._streams.remove(queue)
