"""The Room: connect, track participants and their tracks, emit events, disconnect."""

from __future__ import annotations

import asyncio
import enum
import logging
from types import TracebackType
from typing import Any

from ._core import model as core_model
from ._core import proto
from ._core.client_info import parse_user_agent
from ._core.join import JoinState
from ._core.model import RoomModel, parse_stream_id
from ._core.ports import Platform
from .errors import ConnectionError, ConnectionErrorReason, InvalidStateError
from .events import (
    Connected,
    ConnectionStateChanged,
    Disconnected,
    EventEmitter,
    ParticipantConnected,
    ParticipantDisconnected,
    RoomEvent,
    RoomMetadataChanged,
    TrackMuted,
    TrackPublished,
    TrackSubscribed,
    TrackUnmuted,
    TrackUnpublished,
    TrackUnsubscribed,
)
from .options import RoomOptions, TrackKind, TrackSource
from .participant import LocalParticipant, RemoteParticipant
from .track import RemoteAudioTrack, RemoteTrack, RemoteVideoTrack
from .track_publication import RemoteTrackPublication

logger = logging.getLogger("livekit_pyweb.room")

# livekit-client retries finding the publication of an arriving track 20 times, 150 ms apart.
_TRACK_LOOKUP_TRIES = 20
_TRACK_LOOKUP_DELAY = 0.15


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"


class Room(EventEmitter):
    """A LiveKit room, as seen by this page.

    Example::

        room = Room()

        @room.on("track_subscribed")
        def on_track(track, publication, participant):
            document.body.append(track.attach())

        await room.connect(url, token)
        await room.local_participant.set_camera_enabled(True)
    """

    def __init__(self, options: RoomOptions | None = None, *, platform: Platform | None = None) -> None:
        """Args:
            options: how to connect (see :class:`RoomOptions`).
            platform: where the browser objects live; default: this page's own APIs. (The Web Worker bridge
                and the unit tests pass their own.)
        """
        super().__init__()
        self.options = options or RoomOptions()
        self._platform = platform
        self._engine: Any = None
        self._model = RoomModel()
        self._room_info: Any = None
        self._local: LocalParticipant | None = None
        self.remote_participants: dict[str, RemoteParticipant] = {}
        self._state = ConnectionState.DISCONNECTED
        self._deferred: list[RoomEvent] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- properties --------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self._room_info.name) if self._room_info is not None else ""

    @property
    def sid(self) -> str:
        return str(self._room_info.sid) if self._room_info is not None else ""

    @property
    def metadata(self) -> str:
        return str(self._room_info.metadata) if self._room_info is not None else ""

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    def isconnected(self) -> bool:
        return self._state is ConnectionState.CONNECTED

    @property
    def local_participant(self) -> LocalParticipant:
        if self._local is None:
            raise InvalidStateError("the room has not joined yet: await room.connect(url, token) first")
        return self._local

    @property
    def server_info(self) -> Any:
        return self._engine.join_response.server_info if self._engine and self._engine.join_response else None

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def connect(self, url: str, token: str, options: RoomOptions | None = None) -> None:
        """Join the room at ``url`` with ``token``; returns once media can flow.

        Raises:
            ConnectionError: ``reason`` says why: ``NotAllowed`` (token refused), ``ServerUnreachable``,
                ``InternalError``, ``Timeout``, ``LeaveRequest``, ``Cancelled``.
            InvalidStateError: the room is already connected or connecting.
        """
        if self._state is not ConnectionState.DISCONNECTED or self._engine is not None:
            raise InvalidStateError("connect() called while the room is connecting or connected")
        if not isinstance(url, str) or not isinstance(token, str):
            raise TypeError(f"url and token must be str, not {type(url).__name__} and {type(token).__name__}")
        if not token:
            raise ConnectionError("the token is empty", ConnectionErrorReason.NotAllowed)
        if options is not None:
            self.options = options
        from ._engine import Engine

        if self._platform is None:
            from ._browser.platform import BrowserPlatform

            self._platform = BrowserPlatform()
        self._engine = Engine(
            self.options,
            parse_user_agent(self._platform.user_agent()),
            self._on_signal,
            self._on_track,
            self._on_engine_closed,
            self._platform,
        )
        self._set_state(ConnectionState.CONNECTING)
        try:
            join = await self._engine.join(url, token)
            self._apply_join(join)
            await self._engine.wait_connected()
        except BaseException:
            # Includes CancelledError: a cancelled connect() cleans up and stays cancelled, so that
            # asyncio.timeout() and TaskGroup around it work. (disconnect() during connect() is not a
            # cancellation: connect() then raises ConnectionError(Cancelled), as livekit-client does.)
            await self._teardown("connect failed", emit=False)
            raise
        self._set_state(ConnectionState.CONNECTED)
        self._emit(Connected())
        deferred, self._deferred = self._deferred, []
        for event in deferred:
            self._emit(event)

    async def disconnect(self) -> None:
        """Leave the room: tell the server, stop local tracks, close every connection. Idempotent."""
        if self._engine is None:
            return
        await self._teardown("client initiated", emit=True)

    async def __aenter__(self) -> Room:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.disconnect()

    aclose = disconnect

    # -- internals used by participants --------------------------------------------------------------------
    def _engine_required(self) -> Any:
        if self._engine is None:
            raise InvalidStateError("the room is not connected")
        return self._engine

    def _require_connected(self) -> Any:
        if self._state is not ConnectionState.CONNECTED or self._engine is None:
            raise InvalidStateError("the room is not connected: await room.connect(url, token) first")
        return self._engine

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self._state:
            self._state = state
            self._emit(ConnectionStateChanged(state))

    def _emit_or_defer(self, event: RoomEvent) -> None:
        if self._state is ConnectionState.CONNECTED:
            self._emit(event)
        else:
            self._deferred.append(event)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- join and server messages ------------------------------------------------------------------------
    def _apply_join(self, join: Any) -> None:
        self._room_info = join.room
        self._local = LocalParticipant(self, join.participant)
        self._model.local_sid = join.participant.sid
        # Participants already present are not "connected" events (as livekit.rtc); their tracks are.
        for event in self._model.apply(join.other_participants):
            self._apply_model_event(event, initial=True)

    def _on_signal(self, kind: str, msg: Any) -> None:
        if kind == "update":
            local_sid = self._model.local_sid
            for info in msg.participants:
                if info.sid == local_sid and self._local is not None:
                    self._local._update_info(info)
            for event in self._model.apply(msg.participants):
                self._apply_model_event(event)
        elif kind == "track_unpublished":
            local = self._local
            if local is not None and msg.track_sid in local.track_publications:
                self._spawn(local.unpublish_track(msg.track_sid))
            else:
                for event in self._model.remove_track(msg.track_sid):
                    self._apply_model_event(event)
        elif kind == "mute":
            # The server (an admin's MutePublishedTrack) mutes or unmutes one of our tracks: obey, as
            # livekit-client does, so that our capture, our publication and the peers agree.
            local = self._local
            pub = local.track_publications.get(msg.sid) if local is not None else None
            if pub is not None and local is not None:
                self._spawn(local.set_track_muted(pub, bool(msg.muted)))
        elif kind == "room_update":
            old = self.metadata
            self._room_info = msg.room
            if old != self.metadata:
                self._emit(RoomMetadataChanged(old, self.metadata))
        else:
            logger.debug("signal %s not handled yet", kind)

    def _apply_model_event(self, event: Any, initial: bool = False) -> None:
        if isinstance(event, core_model.ParticipantJoined):
            joined = RemoteParticipant(event.info)
            self.remote_participants[joined.identity] = joined
            if not initial:
                self._emit_or_defer(ParticipantConnected(joined))
            return
        sid = event.info.sid if isinstance(event, (core_model.ParticipantChanged, core_model.ParticipantLeft)) \
            else event.participant_sid
        found = self._participant_by_sid(sid)
        if found is None:
            return
        participant = found
        if isinstance(event, core_model.ParticipantChanged):
            participant._update_info(event.info)
        elif isinstance(event, core_model.TrackPublished):
            pub = RemoteTrackPublication(event.track)
            participant.track_publications[pub.sid] = pub
            if not initial:
                self._emit_or_defer(TrackPublished(pub, participant))
        elif isinstance(event, core_model.TrackMuteChanged):
            changed = participant.track_publications.get(event.track.sid)
            if changed is not None:
                changed._update(event.track)
                self._emit_or_defer(
                    TrackMuted(participant, changed) if changed.muted else TrackUnmuted(participant, changed)
                )
        elif isinstance(event, core_model.TrackUnpublished):
            removed = participant.track_publications.pop(event.track.sid, None)
            if removed is not None:
                self._unsubscribe(removed, participant)
                self._emit_or_defer(TrackUnpublished(removed, participant))
        elif isinstance(event, core_model.ParticipantLeft):
            self.remote_participants.pop(participant.identity, None)
            self._emit_or_defer(ParticipantDisconnected(participant))

    def _participant_by_sid(self, sid: str) -> RemoteParticipant | None:
        for participant in self.remote_participants.values():
            if participant.sid == sid:
                return participant
        return None

    def _unsubscribe(self, pub: RemoteTrackPublication, participant: RemoteParticipant) -> None:
        track = pub.track
        if track is None:
            return
        pub.track = None
        track.detach()
        self._emit_or_defer(TrackUnsubscribed(track, pub, participant))

    # -- remote media ------------------------------------------------------------------------------------
    def _on_track(self, event: Any) -> None:
        track_sid, participant_sid = self._published_track_of(event)
        if not track_sid:
            # The receive transceivers created before the join fire "track" when the first answer negotiates
            # them, with a random stream id and no track mapped to their mid: nothing is published there (yet).
            logger.debug("ignoring a track event that carries no published track (mid %s)", event.mid or "?")
            return
        self._spawn(self._bind_track(event, participant_sid, track_sid))

    def _published_track_of(self, event: Any) -> tuple[str, str]:
        """``(track_sid, participant_sid)`` of an arriving track, ``("", "")`` when it carries none.

        As livekit-client: the stream id ``PA_x|TR_y`` names both; else the track id, else the answer's
        ``mid_to_track_id``, may name the track (its participant is then looked up by track)."""
        participant_sid, track_sid = parse_stream_id(event.stream_ids[0]) if event.stream_ids else ("", "")
        if not track_sid.startswith("TR"):
            track_sid = str(event.track.id)
        if not track_sid.startswith("TR") and self._engine is not None:
            track_sid = self._engine.mid_to_track_id.get(event.mid, "")
        if not track_sid.startswith("TR"):
            return "", ""
        return track_sid, participant_sid

    async def _bind_track(self, event: Any, participant_sid: str, track_sid: str) -> None:
        for _ in range(_TRACK_LOOKUP_TRIES):
            participant = self._participant_by_sid(participant_sid) if participant_sid else self._owner_of(track_sid)
            pub = participant.track_publications.get(track_sid) if participant else None
            if participant is not None and pub is not None:
                break
            await asyncio.sleep(_TRACK_LOOKUP_DELAY)
        else:
            logger.warning("no publication for arriving track %s of %s", track_sid, participant_sid or "?")
            return
        source = pub.source if pub.source != TrackSource.UNKNOWN else TrackSource.UNKNOWN
        track: RemoteTrack
        if str(event.track.kind) == "video":
            track = RemoteVideoTrack(event.track, source, track_sid, event.receiver)
        else:
            track = RemoteAudioTrack(event.track, source, track_sid, event.receiver)
        track.name = pub.name
        if pub.track is not None:
            self._unsubscribe(pub, participant)
        pub.track = track
        self._emit_or_defer(TrackSubscribed(track, pub, participant))

    def _owner_of(self, track_sid: str) -> RemoteParticipant | None:
        for participant in self.remote_participants.values():
            if track_sid in participant.track_publications:
                return participant
        return None

    # -- teardown ----------------------------------------------------------------------------------------
    def _on_engine_closed(self, reason: str) -> None:
        # Reconnection is a later step; for now a lost session disconnects the room.
        if self._engine is not None:
            self._spawn(self._teardown(reason, emit=True, send_leave=False))

    async def _teardown(self, reason: str, *, emit: bool, send_leave: bool = True) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        was_connected = self._state is ConnectionState.CONNECTED
        await engine.close(send_leave=send_leave)
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self._local is not None:
            self._local._stop_all()
        self._deferred.clear()
        if was_connected and emit:
            for event in self._model.clear():
                self._apply_model_event(event)
        else:
            self._model.clear()
            self.remote_participants.clear()
        self._set_state(ConnectionState.DISCONNECTED)
        if emit:
            self._emit(Disconnected(reason))
        self._end_streams()
