"""The Room: connect, track participants and their tracks, emit events, disconnect."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any

from ._core import model as core_model
from ._core.audio_session import Action as SilentAudioAction, SilentAudioPolicy, is_ios
# The engine comes with the room, not at the first connect(): in Pyodide every module is compiled from source when
# first imported (measured: the engine and its five _core modules, about 75 ms), and a page or a memory snapshot
# that imports the room before the user clicks "join" has paid for it already. Pure Python: no js, no protobuf.
from ._engine import Engine
from ._core import platforms
from ._core import convert, proto, wire
from ._core.dynacast import codec_name, subscribed_qualities
from ._core.join import JoinState
from ._core.model import RoomModel, parse_stream_id
from ._core.ports import PLATFORM_CHOICES, Platform
from ._core.signal_url import redact_url, to_http_url
from .devices import MediaDeviceInfo, check_kind, local_devices, source_kind
from .errors import (ConnectionError, ConnectionErrorReason, DeviceError, InvalidStateError, RequestErrorReason,
                     SignalRequestError, UnsupportedError)
from .events import (
    Connected,
    ActiveDeviceChanged,
    ActiveSpeakersChanged,
    AudioPlaybackChanged,
    VideoPlaybackChanged,
    LocalAudioSilenceDetected,
    ConnectionQualityChanged,
    ConnectionStateChanged,
    DataReceived,
    LocalTrackSubscribed,
    MediaDevicesChanged,
    Moved,
    ParticipantAttributesChanged,
    ParticipantMetadataChanged,
    ParticipantNameChanged,
    ParticipantPermissionsChanged,
    RoomUpdated,
    TokenRefreshed,
    Disconnected,
    EventEmitter,
    EventName,
    SignalConnected,
    ParticipantConnected,
    ParticipantDisconnected,
    RoomEvent,
    RoomMetadataChanged,
    TrackMuted,
    TrackPublished,
    TrackStreamStateChanged,
    TrackSubscribed,
    TrackSubscriptionFailed,
    TrackSubscriptionStatusChanged,
    TrackSubscriptionPermissionChanged,
    TrackUnmuted,
    TrackUnpublished,
    TrackUnsubscribed,
    TranscriptionReceived,
)
from .enums import ConnectionState, DataPacketKind, DisconnectReason, StreamState, SubscriptionStatus
from .options import RoomOptions
from .data_stream import ByteStreamHandler, StreamManager, TextStreamHandler
from .participant import LocalParticipant, Participant, RemoteParticipant
from .rpc import RpcDriver
from .track import LocalTrack, RemoteAudioTrack, RemoteTrack, RemoteVideoTrack
from .track_publication import LocalTrackPublication, RemoteTrackPublication

logger = logging.getLogger("livekit_pyweb.room")

# livekit-client retries finding the publication of an arriving track 20 times, 150 ms apart.
_TRACK_LOOKUP_TRIES = 20
_TRACK_LOOKUP_DELAY = 0.15


# Stats entries of one direction of a peer connection (RTCStatsType); the rest (transport, candidates, codecs,
# certificates) concern both.
_SILENCE_WINDOW_MS = 200  # livekit-client's detectSilence: how long the analyser listens before it is read
_SENDING_STATS = frozenset({"outbound-rtp", "remote-inbound-rtp", "media-source", "media-playout"})
_RECEIVING_STATS = frozenset({"inbound-rtp", "remote-outbound-rtp"})


@dataclasses.dataclass
class DataPacket:
    """What ``data_received`` gives (livekit.rtc's ``DataPacket``): a packet another participant published with
    ``publish_data``."""

    data: bytes
    """The payload of the data packet."""
    kind: DataPacketKind
    """How it travelled: ``KIND_RELIABLE`` or ``KIND_LOSSY``."""
    participant: RemoteParticipant | None
    """Who sent it; None when sent by a server SDK (or by a participant this room does not know)."""
    topic: str | None = None
    """The topic it was published under (``""`` when none)."""


# DataPacket kinds nobody acts on, each on purpose (the rest are handled in Room._on_data_packet).
IGNORED_DATA_PACKETS: dict[str, str] = {
    "speaker": "active speakers arrive as the speakers_changed signal message",
    "sip_dtmf": "SIP DTMF (not filed yet)",
    "metrics": "agent metrics (livekit-client ignores them too)",
    "chat_message": "the legacy chat packet (chat travels as the lk.chat text stream)",
    "encrypted_packet": "E2EE (not filed yet)",
}


@dataclasses.dataclass(frozen=True)
class RtcStats:
    """:meth:`Room.get_rtc_stats`: livekit.rtc's attribute names, holding the browser's own statistics: each
    entry is one RTCStats object of ``RTCPeerConnection.getStats()`` as a dict (``{"type": "outbound-rtp",
    "bytesSent": ..., ...}``, W3C webrtc-stats names), not livekit.rtc's protobuf messages.

    ``publisher_stats``: what we send (``outbound-rtp`` per encoding, ``remote-inbound-rtp``, ``media-source``)
    and the connection's shared entries (``transport``, ``candidate-pair``, ``codec``, ...); ``subscriber_stats``:
    what we receive (``inbound-rtp``, ``remote-outbound-rtp``) and the shared entries. With two peer connections
    (``/rtc``) each holds its connection's whole report; with one (``/rtc/v1``, the default) the report is split
    by direction and the shared entries appear in both."""

    publisher_stats: list[dict[str, Any]]
    subscriber_stats: list[dict[str, Any]]


class Room(EventEmitter[EventName]):
    """A LiveKit room, as seen by this page.

    Example::

        room = Room()

        @room.on("track_subscribed")
        def on_track(track, publication, participant):
            document.body.append(track.attach())

        await room.connect(url, token)
        await room.local_participant.set_camera_enabled(True)
    """

    def __init__(self, options: RoomOptions | None = None, *, platform: Platform | str = "auto") -> None:
        """Args:
            options: how to connect (see :class:`RoomOptions`).
            platform: where the browser objects (peer connections, capture, media elements) live.
                ``"auto"`` (default): this page's own APIs on the main thread; in a Web Worker (JupyterLite,
                PyScript ``worker``), the bridge to the page's main thread. ``"direct"`` or ``"bridge"`` force
                one; a :class:`~livekit_pyweb._core.ports.Platform` object is used as given (and left open).

        Raises:
            ValueError: ``platform`` is none of those.
        """
        super().__init__()
        self.options = options or RoomOptions()
        if isinstance(platform, str) and platform not in PLATFORM_CHOICES:
            raise ValueError(f"platform must be one of {PLATFORM_CHOICES} or a Platform object, not {platform!r}")
        self._platform_choice = platform
        self._platform: Any = None if isinstance(platform, str) else platform
        self._owns_platform = False  # a platform this Room made from a choice name, closed when it disconnects
        self._engine: Any = None
        self._model = RoomModel()
        self._room_info: Any = None
        self._local: LocalParticipant | None = None
        self._remote: dict[str, RemoteParticipant] = {}
        self._state = ConnectionState.CONN_DISCONNECTED
        self._deferred: list[RoomEvent] = []
        self._speaker_levels: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._audio_playback = True  # as livekit-client: True until the browser refuses to play remote audio
        self._video_playback = True  # the same for remote video (livekit-client's canPlaybackVideo)
        # livekit-client's iOS startAudio workaround (see _core/audio_session.py): its policy (made with the
        # platform it runs on), the silent element's handle and the page-visibility listener
        self._binding: dict[str, asyncio.Task[None]] = {}  # track sid -> an arriving track being bound
        self._silent_policy: SilentAudioPolicy | None = None
        self._silent_element: Any = None
        self._visibility_listener: Any = None
        self._pending_qualities: dict[str, Any] = {}  # dynacast updates for a publication not stored yet
        self._signal_requests: dict[int, asyncio.Future[SignalRequestError]] = {}  # request_id -> refusal
        self._dynacast_forced = False  # a publication with a backup codec turned dynacast on (livekit-client)
        self._codec_capabilities: dict[str, frozenset[str] | None] = {}  # kind -> codecs this browser can send
        # Devices: the one in use per kind (get_active_device), the deviceId constraint the next capture of a
        # kind uses (switch_active_device before anything is published), the audio output of remote audio.
        self._active_devices: dict[str, str] = {}
        self._capture_devices: dict[str, Any] = {}
        self._audio_output: str | None = None
        self._device_listener: Any = None
        self._known_devices: list[MediaDeviceInfo] = []  # as the last device change listed them
        self._rpc: RpcDriver | None = None  # RPC of the current connection (made at join, closed at teardown)
        self._data_streams = StreamManager(self)  # data streams: handlers by topic, readers and writers in flight

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
    def num_participants(self) -> int:
        """Participants in the room as the server last counted them (eventually consistent)."""
        return int(self._room_info.num_participants) if self._room_info is not None else 0

    @property
    def num_publishers(self) -> int:
        return int(self._room_info.num_publishers) if self._room_info is not None else 0

    @property
    def creation_time(self) -> datetime.datetime | None:
        """When the room was created (UTC), or None before joining."""
        if self._room_info is None:
            return None
        millis = int(self._room_info.creation_time_ms) or int(self._room_info.creation_time) * 1000
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)

    @property
    def is_recording(self) -> bool:
        return bool(self._room_info.active_recording) if self._room_info is not None else False

    @property
    def departure_timeout(self) -> float:
        """Seconds the room stays open after the last participant left."""
        return float(self._room_info.departure_timeout) if self._room_info is not None else 0.0

    @property
    def empty_timeout(self) -> float:
        """Seconds an empty room (nobody ever joined) stays open."""
        return float(self._room_info.empty_timeout) if self._room_info is not None else 0.0

    @property
    def remote_participants(self) -> Mapping[str, RemoteParticipant]:
        """Everyone else in the room, by identity (read-only; the room keeps it current)."""
        return MappingProxyType(self._remote)

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    def isconnected(self) -> bool:
        return self._state is ConnectionState.CONN_CONNECTED

    @property
    def local_participant(self) -> LocalParticipant:
        if self._local is None:
            raise InvalidStateError("the room has not joined yet: await room.connect(url, token) first")
        return self._local

    # -- autoplay ----------------------------------------------------------------------------------------
    @property
    def can_playback_audio(self) -> bool:
        """False once the browser refused to play a remote audio element (autoplay policy: no user gesture yet)
        until :meth:`start_audio` or a later play succeeds; ``audio_playback_changed`` tells each change."""
        return self._audio_playback

    def start_audio(self) -> asyncio.Future[bool]:
        """Play every element a remote audio track is attached to again (unmuted); awaitable, giving
        :attr:`can_playback_audio` afterwards. Call it from a user gesture (a click handler).

        The ``play()`` calls happen synchronously inside this call, before it returns its future: browsers count
        a gesture only for code that runs during the event (in Pyodide, a click handler that starts a coroutine
        keeps the user activation for the synchronous part only). So both ``room.start_audio()`` in a plain
        handler and ``await room.start_audio()`` in an async one work. In a Web Worker the click happened on the
        page, not in the worker: the request reaches the page host later, and the browser allows it only while
        the page still has user activation; a page button should call ``globalThis.livekitPyweb.startAudio()``
        in its own click handler (``lkpw-host.mjs``), whose results reach the room as play events. Refusals are
        logged at INFO, never raised."""
        elements = [element for participant in self._remote.values()
                    for pub in participant.track_publications.values()
                    if isinstance(pub.track, RemoteAudioTrack) for element in pub.track.attached_elements]
        if self._platform is not None:
            self._apply_silent_audio(self._silent_audio_policy().start_audio())
            if self._silent_element is not None:  # livekit-client plays it first, within the same gesture
                elements.insert(0, self._silent_element)
        pending = self._platform.start_audio(elements) if self._platform is not None else None

        async def outcome() -> bool:
            refused = list(await pending) if pending is not None else []
            if refused:
                for name in refused:
                    self._on_play(False, name)
            else:
                self._on_play(True, "")
            return self._audio_playback

        future = asyncio.ensure_future(outcome())
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # a dropped future logs nothing
        return future

    def _silent_audio_policy(self) -> SilentAudioPolicy:
        if self._silent_policy is None:
            self._silent_policy = SilentAudioPolicy(is_ios(self._platform.user_agent()))
        return self._silent_policy

    def _apply_silent_audio(self, actions: list[SilentAudioAction]) -> None:
        """Carry out what the iOS startAudio workaround's policy decided, through the port."""
        platform = self._platform
        for action in actions:
            if platform is None:
                return
            if action is SilentAudioAction.CREATE:
                self._silent_element = platform.silent_audio("create")
                self._visibility_listener = platform.on_visibility_changed(self._on_visibility_changed)
            elif action is SilentAudioAction.START_AUDIO:
                logger.debug("page visible again: start_audio() again to resume playback (livekit-client, iOS)")
                self.start_audio()
            elif action is SilentAudioAction.REMOVE:
                platform.silent_audio("remove")
                self._silent_element = None
                if self._visibility_listener is not None:
                    self._visibility_listener.close()
                    self._visibility_listener = None
            else:  # UNPLUG / PLUG: the silent element's srcObject off while hidden (no lock-screen controls)
                platform.silent_audio(action.value)

    def _on_visibility_changed(self, hidden: bool) -> None:
        if self._silent_policy is not None:
            self._apply_silent_audio(self._silent_policy.visibility_changed(hidden))

    @property
    def can_playback_video(self) -> bool:
        """False once the browser refused to play a remote video element (livekit-client's ``canPlaybackVideo``:
        a low-power mode, or an element the page unmuted, under the autoplay policy) until :meth:`start_video` or
        a later play succeeds; ``video_playback_changed`` tells each change."""
        return self._video_playback

    def start_video(self) -> asyncio.Future[bool]:
        """Play every element a remote video track is attached to again (livekit-client's ``startVideo``; the
        elements are not unmuted); awaitable, giving :attr:`can_playback_video` afterwards. Call it from a user
        gesture, as :meth:`start_audio` (the ``play()`` calls happen synchronously inside this call; in a Web
        Worker a page button should call ``globalThis.livekitPyweb.startVideo()`` itself). Never raises."""
        elements: list[Any] = []
        for participant in self._remote.values():
            for pub in participant.track_publications.values():
                if isinstance(pub.track, RemoteVideoTrack):
                    elements.extend(e for e in pub.track.attached_elements if all(e is not x for x in elements))
        pending = self._platform.start_video(elements) if self._platform is not None else None

        async def outcome() -> bool:
            refused = list(await pending) if pending is not None else []
            if refused:
                for name in refused:
                    self._on_video_play(False, name)
            else:
                self._on_video_play(True, "")
            return self._video_playback

        future = asyncio.ensure_future(outcome())
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # a dropped future logs nothing
        return future

    def _on_video_play(self, ok: bool, error: str, track: RemoteTrack | None = None) -> None:
        """A remote video element's play() result (``MediaTrackPort.on_play`` of a video track, or start_video)."""
        if track is not None:  # livekit-client's TrackEvent.VideoPlaybackStarted / VideoPlaybackFailed
            if ok:
                track._emit_args("video_playback_started")
            else:
                track._emit_args("video_playback_failed", error)
        if ok:
            if not self._video_playback:
                self._video_playback = True
                self._emit(VideoPlaybackChanged(True))
        elif error == "NotAllowedError":
            logger.info("the browser refused to play remote video: call room.start_video() from a user gesture "
                        "(see can_playback_video)")
            if self._video_playback:
                self._video_playback = False
                self._emit(VideoPlaybackChanged(False))
        else:  # AbortError: another play() or a new source replaced this one
            logger.debug("remote video play() failed: %s", error)

    def _on_play(self, ok: bool, error: str, track: RemoteTrack | None = None) -> None:
        """A remote audio element's play() result, pushed by the page (``MediaTrackPort.on_play``)."""
        if isinstance(track, RemoteVideoTrack):
            self._on_video_play(ok, error, track)
            return
        if track is not None:  # livekit-client's TrackEvent.AudioPlaybackStarted / AudioPlaybackFailed
            if ok:
                track._emit_args("audio_playback_started")
            else:
                track._emit_args("audio_playback_failed", error)
        if ok:
            if not self._audio_playback:
                self._audio_playback = True
                self._emit(AudioPlaybackChanged(True))
        elif error == "NotAllowedError":
            logger.info("the browser refused to play remote audio without a user gesture: call "
                        "room.start_audio() from one (see can_playback_audio)")
            if self._audio_playback:
                self._audio_playback = False
                self._emit(AudioPlaybackChanged(False))
        else:  # AbortError: another play() or a new source replaced this one
            logger.debug("remote audio play() failed: %s", error)

    # -- statistics ----------------------------------------------------------------------------------------
    async def get_rtc_stats(self) -> RtcStats:
        """The peer connections' WebRTC statistics now (see :class:`RtcStats`), as livekit.rtc's
        ``get_rtc_stats``; per track, :meth:`Track.get_stats`.

        Raises:
            InvalidStateError: the room is not connected.
        """
        engine = self._require_connected()
        publisher, subscriber = engine.publisher, engine.subscriber
        if engine.single_pc or subscriber is None:
            report = list(await publisher.get_stats()) if publisher is not None else []
            return RtcStats(publisher_stats=[dict(e) for e in report if e.get("type") not in _RECEIVING_STATS],
                            subscriber_stats=[dict(e) for e in report if e.get("type") not in _SENDING_STATS])
        sending = list(await publisher.get_stats()) if publisher is not None else []
        receiving = list(await subscriber.get_stats())
        return RtcStats(publisher_stats=[dict(e) for e in sending], subscriber_stats=[dict(e) for e in receiving])

    # -- devices -----------------------------------------------------------------------------------------
    @staticmethod
    async def get_local_devices(
        kind: str | None = None, request_permissions: bool = True, *, platform: Platform | None = None
    ) -> list[MediaDeviceInfo]:
        """The page's media devices (livekit-client's static ``Room.getLocalDevices``): every one, or those of
        ``kind`` (``"audioinput"``, ``"videoinput"``, ``"audiooutput"``). Works before any room connects: on the
        main thread it asks the page's ``navigator.mediaDevices``; in a Web Worker a page host answers across the
        bridge (``platform``, else the one a connected Room or ``create_local_tracks`` uses, else one made for this
        call and closed afterwards).

        With ``request_permissions`` (default), when the kind asked for is missing or its labels are empty (no
        capture allowed yet) it captures once (stopped at once) so that the browser lists them with labels.

        Raises:
            ValueError: not a device kind.
            DeviceError: the permission was refused (``reason`` PermissionDenied) or capturing failed.
            UnsupportedError: this page has no ``navigator.mediaDevices``.
        """
        if kind is not None:
            check_kind(kind)
        if platform is None:  # a connected Room's, or the one create_local_tracks shares (see _core.platforms)
            platform = platforms.existing("auto")
        if platform is not None:
            await platform.start()
            return await local_devices(platform, kind, request_permissions)
        own = default_platform("auto")  # none yet: one for this call only (nothing left behind)
        try:
            await own.start()
            return await local_devices(own, kind, request_permissions)
        finally:
            own.close()

    def get_active_device(self, kind: str) -> str | None:
        """The device id in use for ``kind`` (livekit-client's ``getActiveDevice``): the device our published
        camera or microphone captures from, or the last one :meth:`switch_active_device` chose; None until then."""
        return self._active_devices.get(check_kind(kind))

    async def switch_active_device(self, kind: str, device_id: str, exact: bool = True) -> bool:
        """Use the device ``device_id`` for ``kind`` (livekit-client's ``switchActiveDevice``).

        * ``"videoinput"`` / ``"audioinput"``: our published camera / microphone restarts on that device (see
          :meth:`LocalTrack.restart_track`: the publication, its sid and what the peers receive go on, now from
          the new device), and later captures of that kind use it. ``exact`` (default) asks for exactly that
          device (``{"exact": id}``: a missing one fails with ``DeviceError`` NotFound); False makes it a
          preference the browser may not follow.
        * ``"audiooutput"``: every remote audio track plays to that output (``setSinkId`` on every element it is
          attached to, and on the elements attached later).

        Returns True when every track now uses the device (False: an inexact choice the browser did not follow).
        ``active_device_changed(kind, device_id)`` tells the change. Works before connecting (the choice then
        applies to the first capture, and to remote audio).

        Raises:
            ValueError: not a device kind.
            DeviceError: the device could not be used (``reason`` PermissionDenied, NotFound, DeviceInUse, Other);
                for a capture, ``media_devices_error`` is emitted and ``last_camera_error`` /
                ``last_microphone_error`` set, and the tracks go on as before.
            UnsupportedError: the browser cannot choose an audio output (no ``setSinkId``).
        """
        check_kind(kind)
        if kind == "audiooutput":
            previous = self._audio_output
            self._audio_output = device_id
            try:
                for track in self._remote_audio_tracks():
                    await track.set_sink_id(device_id)
            except BaseException:
                self._audio_output = previous
                raise
            self._set_active_device(kind, device_id)
            return True
        constraint: Any = {"exact": device_id} if exact else device_id
        previous_constraint = self._capture_devices.get(kind)
        self._capture_devices[kind] = constraint
        local = self._local
        captures: list[LocalTrack] = [pub.track for pub in (local.track_publications.values() if local else ())
                                      if pub.track is not None and source_kind(pub.source) == kind]
        success = True
        try:
            for capture in captures:
                success = await capture._set_device_id(constraint) and success
        except (DeviceError, UnsupportedError) as exc:
            self._restore_capture_device(kind, previous_constraint)
            if local is not None:
                local._device_failed(kind, exc, video=kind == "videoinput", audio=kind == "audioinput")
            raise
        except BaseException:
            self._restore_capture_device(kind, previous_constraint)
            raise
        if not captures:  # nothing captures yet: the choice is what the next capture uses
            self._set_active_device(kind, device_id)
        return success

    def _restore_capture_device(self, kind: str, constraint: Any) -> None:
        if constraint is None:
            self._capture_devices.pop(kind, None)
        else:
            self._capture_devices[kind] = constraint

    def _with_device_defaults(self, constraints: dict[str, Any]) -> dict[str, Any]:
        """``constraints`` for a capture, with the device :meth:`switch_active_device` chose where the caller named
        none."""
        out = dict(constraints)
        for key, kind in (("video", "videoinput"), ("audio", "audioinput")):
            chosen = self._capture_devices.get(kind)
            if key in out and chosen is not None:
                value = out[key]
                if value is True:
                    out[key] = {"deviceId": chosen}
                elif isinstance(value, dict) and "deviceId" not in value:
                    out[key] = {**value, "deviceId": chosen}
        return out

    def _remote_audio_tracks(self) -> list[RemoteAudioTrack]:
        return [pub.track for participant in self._remote.values() for pub in participant.track_publications.values()
                if isinstance(pub.track, RemoteAudioTrack)]

    def _set_active_device(self, kind: str, device_id: str) -> None:
        self._active_devices[kind] = device_id
        self._emit(ActiveDeviceChanged(kind, device_id))

    async def _check_silence(self, pub: LocalTrackPublication) -> None:
        """livekit-client's onLocalTrackPublished for audio: is the track just published entirely silent (a
        200 ms window of the page's AudioContext)? Then the track's ``audio_silence_detected`` and the room's
        ``local_audio_silence_detected(publication)``."""
        track = pub.track
        if track is None:
            return
        silent = await track._port.detect_silence(_SILENCE_WINDOW_MS)
        if not silent or pub.track is not track or self._engine is None:
            return
        logger.info("local audio track %s seems silent (check the microphone)", pub.sid)
        track._emit_args("audio_silence_detected")
        self._emit(LocalAudioSilenceDetected(pub))

    def _on_local_track_restarted(self, track: LocalTrack) -> None:
        """One of our published tracks was captured (published, or restarted on another device): its device is
        the active one of its kind (livekit-client's onLocalTrackPublished / onLocalTrackRestarted)."""
        kind = source_kind(track.source)
        device_id = track.get_device_id()
        if kind is not None and device_id and device_id != self._active_devices.get(kind):
            self._set_active_device(kind, device_id)

    def _on_devices_changed(self) -> None:
        self._spawn(self._devices_changed())

    async def _devices_changed(self) -> None:
        """livekit-client's handleDeviceChange: follow the default devices (selectDefaultDevices), then emit
        ``media_devices_changed``."""
        platform = self._platform
        try:
            if platform is not None:
                await self._select_default_devices(platform)
        except Exception as exc:  # the page changed under us; the event still tells the app to look again
            logger.info("after a device change, selecting the default devices failed: %s", exc)
        self._emit(MediaDevicesChanged())

    async def _remember_devices(self) -> None:
        """The devices as they are when we connect (no permission asked): what a later device change compares with
        (livekit-client's DeviceManager.previousDevices)."""
        try:
            if self._platform is not None:
                self._known_devices = await local_devices(self._platform, None, False)
        except Exception as exc:
            logger.debug("listing the devices failed: %s", exc)

    async def _select_default_devices(self, platform: Any) -> None:
        """As livekit-client (Chrome, not iOS): a device whose label changed under the same id (``"default"``: the
        system default moved) is announced when it is the active one; a kind whose active device was the first of
        its kind follows the new first one; an audio output that went away falls back to the first one. Inputs
        that went away are left alone (their track ends)."""
        previous = self._known_devices
        available = await local_devices(platform, None, False)
        self._known_devices = available
        for device in available:
            before = next((d for d in previous if d.device_id == device.device_id and d.kind == device.kind), None)
            if (before is not None and before.label and before.label != device.label
                    and self.get_active_device(device.kind) == "default"):
                self._emit(ActiveDeviceChanged(device.kind, device.device_id))
        for kind in ("audiooutput", "audioinput", "videoinput"):
            of_kind = [d.device_id for d in available if d.kind == kind]
            active = self._active_devices.get(kind)
            first_before = next((d.device_id for d in previous if d.kind == kind), None)
            if active is not None and active == first_before and of_kind and of_kind[0] != active:
                await self.switch_active_device(kind, of_kind[0])
                continue
            if kind == "audiooutput" and active is not None and of_kind and active not in of_kind:
                await self.switch_active_device(kind, of_kind[0])

    @property
    def server_info(self) -> Any:
        join = self._engine.join_response if self._engine else None
        return wire.to_proto(join.server_info) if join is not None else None

    # -- data streams (handlers stay registered across connections, as livekit.rtc) ----------------------------
    def register_text_stream_handler(self, topic: str, handler: TextStreamHandler) -> None:
        """Call ``handler(reader, participant_identity)`` for each incoming text stream on ``topic`` (e.g.
        ``"lk.chat"``, ``"lk.transcription"``); streams of a topic nobody handles are ignored. ``handler`` may be a
        coroutine function (run as a task).

        Raises:
            ValueError: a handler for ``topic`` is already set.
        """
        self._data_streams.register_text_stream_handler(topic, handler)

    def unregister_text_stream_handler(self, topic: str) -> None:
        self._data_streams.unregister_text_stream_handler(topic)

    def register_byte_stream_handler(self, topic: str, handler: ByteStreamHandler) -> None:
        """As :meth:`register_text_stream_handler`, for byte streams (``send_bytes``, ``send_file``,
        ``stream_bytes``): the handler gets a :class:`~livekit_pyweb.data_stream.ByteStreamReader`."""
        self._data_streams.register_byte_stream_handler(topic, handler)

    def unregister_byte_stream_handler(self, topic: str) -> None:
        self._data_streams.unregister_byte_stream_handler(topic)

    def _on_transcription(self, received: Any) -> None:
        """A ``transcription`` data packet (``_core.data_streams.TranscriptionReceived``): livekit.rtc's and
        livekit-client's ``transcription_received(segments, participant, publication)``; the participant is the
        transcribed one (None if unknown), the publication its track ``track_sid`` (None if unknown)."""
        from .transcription import TranscriptionSegment

        segments = [TranscriptionSegment(id=s.id, text=s.text, start_time=int(s.start_time), end_time=int(s.end_time),
                                         language=s.language, final=bool(s.final)) for s in received.segments]
        participant: Participant | None = None
        if self._local is not None and received.participant_identity == self._local.identity:
            participant = self._local
        else:
            participant = self._remote.get(received.participant_identity)
        publication = participant.track_publications.get(received.track_sid) if participant is not None else None
        self._emit_or_defer(TranscriptionReceived(segments, participant, publication))

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def connect(self, url: str, token: str, options: RoomOptions | None = None) -> None:
        """Join the room at ``url`` with ``token``; returns once media can flow.

        Raises:
            ConnectionError: ``reason`` says why: ``NotAllowed`` (token refused), ``ServerUnreachable``,
                ``InternalError``, ``Timeout``, ``LeaveRequest``, ``Cancelled``.
            InvalidStateError: the room is already connected or connecting.
        """
        if self._engine is not None:
            raise InvalidStateError("connect() called while the room is connecting or connected")
        if not isinstance(url, str) or not isinstance(token, str):
            raise TypeError(f"url and token must be str, not {type(url).__name__} and {type(token).__name__}")
        if not token:
            raise ConnectionError("the token is empty", ConnectionErrorReason.NotAllowed)
        if options is not None:
            self.options = options
        if self._platform is None:
            self._platform, self._owns_platform = platforms.for_room(str(self._platform_choice), default_platform)
        if self._device_listener is None:
            self._device_listener = self._platform.on_devices_changed(self._on_devices_changed)
        self._engine = Engine(
            self.options,
            None,  # the engine reads the User-Agent once the platform has started
            self._on_signal,
            self._on_track,
            self._on_engine_closed,
            self._platform,
        )
        self._engine.on_data_packet = self._on_data_packet
        try:
            join = await self._engine.join(url, token)
            self._apply_join(join)
            self._emit(SignalConnected())  # as livekit-client: the JoinResponse is applied, media not up yet
            await self._engine.wait_connected()
        except BaseException:
            # Includes CancelledError: a cancelled connect() cleans up and stays cancelled, so that
            # asyncio.timeout() and TaskGroup around it work. (disconnect() during connect() is not a
            # cancellation: connect() then raises ConnectionError(Cancelled), as livekit-client does.)
            await self._teardown(DisconnectReason.UNKNOWN_REASON, emit=False)
            raise
        self._set_state(ConnectionState.CONN_CONNECTED)
        self._spawn(self._remember_devices())
        self._emit(Connected())
        deferred, self._deferred = self._deferred, []
        for event in deferred:
            self._emit(event)

    async def disconnect(self) -> None:
        """Leave the room: tell the server, stop local tracks, close every connection. Idempotent."""
        if self._engine is None:
            return
        await self._teardown(DisconnectReason.CLIENT_INITIATED, emit=True)

    async def __aenter__(self) -> Room:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.disconnect()

    aclose = disconnect

    async def prepare_connection(self, url: str, token: str | None = None) -> None:
        """Warm up a following :meth:`connect` (livekit-client ``prepareConnection``): resolve the server's name
        and open its HTTP(S) connection (DNS, TCP, TLS) with a ``HEAD`` request from the page, as soon as the page
        loads. Only while disconnected (else it does nothing). Never raises: a failure is logged and ``connect``
        reports any real problem itself. ``token`` is accepted for livekit-client's signature (LiveKit Cloud
        region selection, which this SDK does not do) and never sent.
        """
        if self._engine is not None or self._state is not ConnectionState.CONN_DISCONNECTED:
            return
        try:
            http_url = to_http_url(url)
            if self._platform is None:
                from ._browser.host import default_platform

                self._platform = default_platform(str(self._platform_choice))
            await self._platform.start()
            await self._platform.prepare_connection(http_url)
            logger.debug("prepared the connection to %s", http_url)
        except Exception as exc:
            logger.warning("could not prepare the connection to %s: %s", redact_url(str(url)), exc)

    # -- internals used by participants --------------------------------------------------------------------
    @property
    def _dynacast_on(self) -> bool:
        return self.options.dynacast or self._dynacast_forced

    def _force_dynacast(self) -> None:
        if not self._dynacast_on:
            logger.debug("dynacast turned on: a publication has a backup codec")
        self._dynacast_forced = True

    async def _send_codecs(self, kind: str) -> frozenset[str] | None:
        """The codec names (``"vp8"``, ``"vp9"``...) this browser can send (``RTCRtpSender.getCapabilities``),
        asked once per room; None when the browser does not say."""
        if kind not in self._codec_capabilities:
            mimes = await self._platform_required().send_codecs(kind)
            self._codec_capabilities[kind] = (
                None if mimes is None else frozenset(m.rpartition("/")[2].lower() for m in mimes))
        return self._codec_capabilities[kind]

    def _engine_required(self) -> Any:
        if self._engine is None:
            raise InvalidStateError("the room is not connected")
        return self._engine

    def _send_track_settings(self, settings: Any) -> None:
        if self._engine is not None:
            self._engine.send_track_settings(settings)

    def _platform_required(self) -> Any:
        if self._platform is None:
            raise InvalidStateError("the room has not joined yet: await room.connect(url, token) first")
        return self._platform

    def _require_connected(self) -> Any:
        if self._state is not ConnectionState.CONN_CONNECTED or self._engine is None:
            raise InvalidStateError("the room is not connected: await room.connect(url, token) first")
        return self._engine

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self._state:
            self._state = state
            self._emit(ConnectionStateChanged(state))

    def _emit_or_defer(self, event: RoomEvent) -> None:
        if self._state is ConnectionState.CONN_CONNECTED:
            self._emit(event)
        else:
            self._deferred.append(event)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- join and server messages ------------------------------------------------------------------------
    def _apply_join(self, join: Any) -> None:
        self._room_info = join.room
        self._local = LocalParticipant(self, join.participant)
        self._model.local_sid = join.participant.sid
        self._rpc = RpcDriver(self)
        # Participants already present are not "connected" events (as livekit.rtc); their tracks are.
        for event in self._model.apply(join.other_participants):
            self._apply_model_event(event, initial=True)

    def _on_signal(self, kind: str, msg: Any) -> None:
        """A server message the engine passed on: each kind has its handler or is ignored on purpose."""
        handler = _SIGNAL_HANDLERS.get(kind)
        if handler is not None:
            handler(self, msg)
        elif kind in IGNORED_SIGNALS:
            logger.debug("signal %s ignored: %s", kind, IGNORED_SIGNALS[kind])
        else:  # a message kind newer than this package: visible, never silently dropped
            logger.warning("signal message %r is not known to this version of livekit_pyweb", kind)

    def _on_data_packet(self, packet: Any) -> None:
        """A DataPacket the engine received (any data channel, duplicates already dropped), by its kind."""
        which = packet.WhichOneof("value")
        if which == "user":
            user = packet.user
            kind = DataPacketKind.KIND_RELIABLE if packet.kind == proto.models().DataPacket.Kind.RELIABLE \
                else DataPacketKind.KIND_LOSSY
            sender = self._remote.get(packet.participant_identity)
            self._emit_or_defer(DataReceived(DataPacket(bytes(user.payload), kind, sender, user.topic)))
        elif which in ("rpc_request", "rpc_ack", "rpc_response"):
            if self._rpc is not None:
                self._rpc.handle_packet(packet)
        elif which in ("stream_header", "stream_chunk", "stream_trailer", "transcription"):
            self._data_streams.handle_packet(packet)  # data streams and transcriptions (data_stream.py)
        elif which in IGNORED_DATA_PACKETS:
            logger.debug("data packet %s ignored: %s", which, IGNORED_DATA_PACKETS[which])
        elif which is None:
            logger.debug("empty data packet from %s ignored", packet.participant_identity)
        else:  # a kind newer than this package: visible, never silently dropped
            logger.warning("data packet %s from %s ignored: not known to this version", which,
                           packet.participant_identity)

    def _on_update(self, msg: Any) -> None:
        local = self._local
        for info in msg.participants:
            if local is not None and info.sid == self._model.local_sid:
                self._apply_info(local, info)
        for event in self._model.apply(msg.participants):
            self._apply_model_event(event)
        # What else a publication's TrackInfo says may change after it was announced (simulcast once the layers
        # arrive, size, codec): keep every publication current with an accepted (not stale) update.
        for accepted in msg.participants:
            remote = self._participant_by_sid(accepted.sid)
            if remote is None or id(self._model.participants.get(accepted.sid)) != id(accepted):
                continue
            for track in accepted.tracks:
                pub = remote._publications.get(track.sid)
                if pub is not None:
                    pub._update(track)

    def _apply_info(self, participant: Participant, info: Any) -> None:
        """New ParticipantInfo for a participant we know: store it, then say what changed (as livekit.rtc)."""
        old = participant._info
        participant._update_info(info)
        if old.name != info.name:
            self._emit_or_defer(ParticipantNameChanged(participant, old.name, info.name))
        if old.metadata != info.metadata:
            self._emit_or_defer(ParticipantMetadataChanged(participant, old.metadata, info.metadata))
        before, after = dict(old.attributes), dict(info.attributes)
        changed = {k: after.get(k, "") for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        if changed:
            self._emit_or_defer(ParticipantAttributesChanged(changed, participant))
        if old.permission != info.permission:
            self._emit_or_defer(ParticipantPermissionsChanged(participant, participant.permissions))

    def _on_track_unpublished(self, msg: Any) -> None:
        local = self._local
        if local is not None and msg.track_sid in local.track_publications:
            self._spawn(local.unpublish_track(msg.track_sid))
        else:
            for event in self._model.remove_track(msg.track_sid):
                self._apply_model_event(event)

    def _on_server_mute(self, msg: Any) -> None:
        # The server (an admin's MutePublishedTrack) mutes or unmutes one of our tracks: obey, as livekit-client
        # does, so that our capture, our publication and the peers agree.
        local = self._local
        pub = local.track_publications.get(msg.sid) if local is not None else None
        if pub is not None and local is not None:
            self._spawn(local.set_track_muted(pub, bool(msg.muted)))

    def _on_subscription_permission(self, msg: Any) -> None:
        # The publisher of a remote track allowed or denied our subscription (livekit-client's
        # handleSubscriptionPermissionUpdate). Denied, the server stops forwarding it: the track is unsubscribed.
        participant = self._participant_by_sid(msg.participant_sid)
        pub = participant.track_publications.get(msg.track_sid) if participant is not None else None
        if participant is None or pub is None:
            logger.debug("subscription_permission_update for unknown track %s of %s", msg.track_sid,
                         msg.participant_sid)
            return
        if pub._set_allowed(bool(msg.allowed)):
            participant._emit_args("track_subscription_permission_changed", pub, pub.permission_status)
            self._emit_or_defer(TrackSubscriptionPermissionChanged(pub, pub.permission_status, participant))
        if not msg.allowed and pub.track is not None:
            self._unsubscribe(pub, participant)

    def _on_subscribed_quality_update(self, msg: Any) -> None:
        # Dynacast: which qualities of one of our video tracks subscribers need. Off (the default, as in
        # livekit-client), the update is ignored on purpose and every encoding keeps sending.
        if not self._dynacast_on:
            logger.debug("subscribed_quality_update ignored: RoomOptions.dynacast is off")
            return
        local = self._local
        pub = local.track_publications.get(msg.track_sid) if local is not None else None
        if pub is None:  # may come between the server's TrackPublishedResponse and publish_track storing it
            self._pending_qualities[msg.track_sid] = msg
            return
        self._apply_quality_update(pub, msg)

    def _dynacast_published(self, pub: LocalTrackPublication) -> None:
        """publish_track stored ``pub``: apply a dynacast update that came before it."""
        msg = self._pending_qualities.pop(pub.sid, None)
        if msg is not None and self._dynacast_on:
            self._apply_quality_update(pub, msg)

    def _apply_quality_update(self, pub: LocalTrackPublication, msg: Any) -> None:
        own = f"video/{pub._codec}" if pub._codec else pub.mime_type
        qualities = subscribed_qualities(msg, own)
        if qualities is not None:
            self._spawn(self._set_publishing_qualities(pub, qualities))
        primary = codec_name(own) if own else ""
        for entry in msg.subscribed_codecs:
            codec = codec_name(entry.codec)
            if not codec or not primary or codec == primary:
                continue
            if codec != pub._backup_codec:
                logger.debug("subscribed_quality_update for %s asks for %s, which we did not announce", pub.sid, codec)
                continue
            wish = {int(q.quality): bool(q.enabled) for q in entry.qualities}
            pub._codec_qualities[codec] = wish
            backup = pub._backups.get(codec)
            if backup is not None:
                self._spawn(self._set_backup_qualities(pub, backup, wish))
            elif any(wish.values()) and codec not in pub._backup_tasks and self._local is not None:
                # livekit-client: a subscriber needs the backup codec: publish the track again in it
                task = asyncio.ensure_future(self._publish_backup(pub, codec))
                pub._backup_tasks[codec] = task
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _publish_backup(self, pub: LocalTrackPublication, codec: str) -> None:
        local = self._local
        try:
            assert local is not None
            await local._publish_backup_codec(pub, codec)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._engine is None or local is None or pub.sid not in local.track_publications:
                logger.debug("backup codec %s for %s dropped, the track is gone: %s", codec, pub.sid, exc)
            else:
                logger.warning("could not publish %s in backup codec %s: %s", pub.sid, codec, exc)
        finally:
            pub._backup_tasks.pop(codec, None)

    async def _set_backup_qualities(self, pub: LocalTrackPublication, backup: Any, wish: dict[int, bool]) -> None:
        try:
            await backup.set_subscribed_qualities(wish)
        except Exception as exc:
            logger.debug("dynacast for the %s sender of %s: %s", backup.codec, pub.sid, exc)

    async def _set_publishing_qualities(self, pub: LocalTrackPublication, qualities: dict[int, bool]) -> None:
        try:
            await pub._set_subscribed_qualities(qualities)
        except Exception as exc:
            local = self._local
            if self._engine is None or local is None or pub.sid not in local.track_publications:
                logger.debug("dynacast update for %s dropped, the track is gone: %s", pub.sid, exc)
            else:
                logger.warning("dynacast: could not switch the encodings of %s: %s", pub.sid, exc)

    def _on_room_update(self, msg: Any) -> None:
        old = self.metadata
        self._room_info = msg.room
        if old != self.metadata:
            self._emit_or_defer(RoomMetadataChanged(old, self.metadata))
        self._emit_or_defer(RoomUpdated())

    def _on_speakers_changed(self, msg: Any) -> None:
        # Only the changes arrive; keep the whole set, loudest first (livekit-client does the same).
        for info in msg.speakers:
            if info.active:
                self._speaker_levels[info.sid] = float(info.level)
            else:
                self._speaker_levels.pop(info.sid, None)
        speakers = [p for sid, _ in sorted(self._speaker_levels.items(), key=lambda kv: -kv[1])
                    if (p := self._any_participant_by_sid(sid)) is not None]
        everyone: list[Participant] = [*self._remote.values(), *([self._local] if self._local else [])]
        for participant in everyone:
            speaking = participant.sid in self._speaker_levels
            if speaking != participant._speaking:
                participant._speaking = speaking
                participant._emit_args("is_speaking_changed", speaking)
        self._emit_or_defer(ActiveSpeakersChanged(speakers))

    def _on_connection_quality(self, msg: Any) -> None:
        for update in msg.updates:
            participant = self._any_participant_by_sid(update.participant_sid)
            if participant is None:
                continue
            participant._connection_quality = convert.connection_quality(update.quality)
            participant._emit_args("connection_quality_changed", participant._connection_quality)
            self._emit_or_defer(ConnectionQualityChanged(participant, participant._connection_quality))

    def _on_stream_state(self, msg: Any) -> None:
        # The server paused (bandwidth) or resumed forwarding tracks we subscribe to: as livekit-client, only a
        # subscribed track has a stream state, and only a change is an event.
        for info in msg.stream_states:
            participant = self._participant_by_sid(info.participant_sid)
            pub = participant.track_publications.get(info.track_sid) if participant is not None else None
            if participant is None or pub is None or pub.track is None:
                logger.debug("stream state for %s, which we do not hold", info.track_sid)
                continue
            state = convert.stream_state(info.state)
            if state is not pub.track._stream_state:
                pub.track._stream_state = state
                participant._emit_args("track_stream_state_changed", pub, state)
                self._emit_or_defer(TrackStreamStateChanged(pub, state, participant))
            if state is StreamState.STATE_ACTIVE:
                # adaptive stream: re-evaluate visibility (a track attached nowhere gets paused), as
                # livekit-client does when the server says it forwards the track
                pub.track._stream_active()

    def _on_subscription_response(self, msg: Any) -> None:
        # The server gave up subscribing us to a track (not found after its timeout, a codec we cannot receive):
        # as livekit-client, a track of it still on its way is dropped, and the failure told only for a track
        # of a participant we know.
        binding = self._binding.get(msg.track_sid)
        if binding is not None:
            binding.cancel()
        participant = self._owner_of(msg.track_sid)
        error = proto.models().SubscriptionError.Name(msg.err) if msg.err in proto.models().SubscriptionError.values() \
            else str(msg.err)
        if participant is None:
            logger.debug("subscription to %s failed (%s); no participant of ours publishes it", msg.track_sid, error)
            return
        logger.info("the server could not subscribe us to %s of %s: %s", msg.track_sid, participant.identity, error)
        participant._emit_args("track_subscription_failed", msg.track_sid, error)
        self._emit_or_defer(TrackSubscriptionFailed(participant, msg.track_sid, error))

    def _on_local_track_subscribed(self, msg: Any) -> None:
        local = self._local
        pub = local.track_publications.get(msg.track_sid) if local is not None else None
        if pub is not None and pub.track is not None and local is not None:
            pub._first_subscription.set()
            local._emit_args("local_track_subscribed", pub)
            self._emit_or_defer(LocalTrackSubscribed(pub.track))

    def _expect_request_response(self, request_id: int) -> asyncio.Future[SignalRequestError]:
        """A future that gets the error if the server refuses request ``request_id`` (see ``_on_request_response``)."""
        future: asyncio.Future[SignalRequestError] = asyncio.get_running_loop().create_future()
        self._signal_requests[request_id] = future
        return future

    def _forget_request(self, request_id: int) -> None:
        self._signal_requests.pop(request_id, None)

    def _on_request_response(self, msg: Any) -> None:
        # The server's answer to a request of ours. As livekit-client: a request we wait for (set_metadata,
        # set_name, set_attributes carry a request_id) fails with SignalRequestError unless the reason is OK; an OK
        # ends the wait for an answer (success is our ParticipantInfo showing the change). Answers to requests
        # that carry no id (mute, add_track, trickle) are only logged: those calls have their own outcome.
        waiting = self._signal_requests.pop(msg.request_id, None) if msg.request_id else None
        ok = msg.reason == proto.rtc().RequestResponse.OK
        if waiting is not None:
            if not ok and not waiting.done():
                try:
                    reason = RequestErrorReason(int(msg.reason))
                except ValueError:
                    reason = RequestErrorReason.UNCLASSIFIED_ERROR
                waiting.set_result(SignalRequestError(msg.message or f"the server refused the request ({reason.name})",
                                                      reason))
        elif not ok:
            logger.info("the server refused a %s request: %s %s", msg.WhichOneof("request") or "signal",
                        proto.rtc().RequestResponse.Reason.Name(msg.reason), msg.message)

    def _on_token(self, msg: Any) -> None:
        self._emit_or_defer(TokenRefreshed())

    def _on_room_moved(self, msg: Any) -> None:
        self._room_info = msg.room
        self._emit_or_defer(Moved())

    def _any_participant_by_sid(self, sid: str) -> Participant | None:
        if self._local is not None and sid == self._local.sid:
            return self._local
        return self._participant_by_sid(sid)

    def _apply_model_event(self, event: Any, initial: bool = False) -> None:
        if isinstance(event, core_model.ParticipantJoined):
            joined = RemoteParticipant(event.info)
            self._remote[joined.identity] = joined
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
            self._apply_info(participant, event.info)
        elif isinstance(event, core_model.TrackPublished):
            pub = RemoteTrackPublication(event.track, self._send_track_settings, desired=self.options.auto_subscribe,
                                         set_subscribed=self._set_subscribed)
            participant._publications[pub.sid] = pub
            if not initial:
                participant._emit_args("track_published", pub)
                self._emit_or_defer(TrackPublished(pub, participant))
        elif isinstance(event, core_model.TrackMuteChanged):
            changed = participant.track_publications.get(event.track.sid)
            if changed is not None:
                changed._update(event.track)
                if changed.track is not None:
                    changed.track._set_muted_state(changed.muted)
                participant._emit_args("track_muted" if changed.muted else "track_unmuted", changed)
                self._emit_or_defer(
                    TrackMuted(participant, changed) if changed.muted else TrackUnmuted(participant, changed)
                )
        elif isinstance(event, core_model.TrackUnpublished):
            removed = participant._publications.pop(event.track.sid, None)
            if removed is not None:
                self._unsubscribe(removed, participant)
                participant._emit_args("track_unpublished", removed)
                self._emit_or_defer(TrackUnpublished(removed, participant))
        elif isinstance(event, core_model.ParticipantLeft):
            participant._update_info(event.info)  # its last word: state DISCONNECTED and the reason
            self._remote.pop(participant.identity, None)
            if self._rpc is not None:  # our calls to it fail with RECIPIENT_DISCONNECTED (livekit-client)
                self._rpc.participant_left(participant.identity)
            self._emit_or_defer(ParticipantDisconnected(participant))
            participant._end_streams()
            self._data_streams.participant_left(participant.identity)

    def _participant_by_sid(self, sid: str) -> RemoteParticipant | None:
        for participant in self.remote_participants.values():
            if participant.sid == sid:
                return participant
        return None

    def _unsubscribe(self, pub: RemoteTrackPublication, participant: RemoteParticipant) -> None:
        track = pub.track
        if track is None:
            return
        before = pub.subscription_status
        pub._set_track(None)
        track._close_adaptive()  # before detach: a track going away tells the server nothing more
        track.detach()
        track._port.release()
        participant._emit_args("track_unsubscribed", track, pub)
        self._emit_or_defer(TrackUnsubscribed(track, pub, participant))
        self._status_changed(pub, participant, before)
        track._end_streams()

    def _status_changed(self, pub: RemoteTrackPublication, participant: RemoteParticipant,
                        before: SubscriptionStatus) -> None:
        if pub.subscription_status is not before:
            participant._emit_args("track_subscription_status_changed", pub, pub.subscription_status)
            self._emit_or_defer(TrackSubscriptionStatusChanged(pub, pub.subscription_status, participant))

    def _set_subscribed(self, pub: RemoteTrackPublication, subscribed: bool) -> None:
        """``RemoteTrackPublication.set_subscribed``: tell the server (UpdateSubscription), then the events: the
        status first, then (unsubscribing) the track released, as livekit-client orders them."""
        engine = self._engine_required()
        participant = self._owner_of(pub.sid)
        if participant is None or participant.track_publications.get(pub.sid) is not pub:
            raise InvalidStateError(f"track {pub.sid} is no longer published")
        before = pub.subscription_status
        pub._desired = subscribed
        engine.send_subscription([pub.sid], subscribed, participant.sid)
        self._status_changed(pub, participant, before)
        if not subscribed:
            self._unsubscribe(pub, participant)

    # -- remote media ------------------------------------------------------------------------------------
    def _on_track(self, event: Any) -> None:
        track_sid, participant_sid = self._published_track_of(event)
        if not track_sid:
            # The receive transceivers created before the join fire "track" when the first answer negotiates
            # them, with a random stream id and no track mapped to their mid: nothing is published there (yet).
            logger.debug("ignoring a track event that carries no published track (mid %s)", event.mid or "?")
            return
        task = self._spawn(self._bind_track(event, participant_sid, track_sid))
        self._binding[track_sid] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._binding.get(track_sid) is finished:
                del self._binding[track_sid]
            if finished.cancelled() and self._engine is not None:  # the server said the subscription failed
                logger.debug("arriving track %s dropped: its subscription failed", track_sid)
                event.track.release()
        task.add_done_callback(done)

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
        if not pub._desired:
            # Media of a subscription we have dropped since (set_subscribed(False) while it was on its way).
            logger.debug("ignoring arriving track %s: we unsubscribed from it", track_sid)
            event.track.release()
            return
        source = pub.source
        track: RemoteTrack
        if event.track.kind == "video":
            track = RemoteVideoTrack(event.track, source, track_sid, event.receiver,
                                     self.options.adaptive_stream_settings)
        else:
            track = RemoteAudioTrack(event.track, source, track_sid, event.receiver)
        event.track.on_play = lambda ok, error: self._on_play(ok, error, track)
        event.track.on_removed = lambda: self._spawn(self._remote_track_removed(pub, track))
        if isinstance(track, RemoteAudioTrack) and self._audio_output is not None:
            track._sink_id = self._audio_output  # switch_active_device("audiooutput"): applied as it attaches
        track.name = pub.name
        if pub.track is not None:
            self._unsubscribe(pub, participant)
        track._muted = pub.muted
        before = pub.subscription_status
        pub._set_track(track)
        participant._emit_args("track_subscribed", track, pub)
        self._emit_or_defer(TrackSubscribed(track, pub, participant))
        self._status_changed(pub, participant, before)

    async def _remote_track_removed(self, pub: RemoteTrackPublication, track: RemoteTrack) -> None:
        """The track left the stream it arrived in: a remote description stopped sending it (e.g. the server
        unsubscribed us after a failed subscription). As livekit-client: the publication drops it,
        ``track_unsubscribed``."""
        participant = self._owner_of(pub.sid)
        if pub.track is not track or participant is None:
            return
        logger.debug("remote track %s of %s removed from its stream: unsubscribed", pub.sid, participant.identity)
        self._unsubscribe(pub, participant)

    def _owner_of(self, track_sid: str) -> RemoteParticipant | None:
        for participant in self.remote_participants.values():
            if track_sid in participant.track_publications:
                return participant
        return None

    # -- teardown ----------------------------------------------------------------------------------------
    def _on_engine_closed(self, reason: DisconnectReason) -> None:
        # Reconnection is a later step; for now a lost session disconnects the room.
        if self._engine is not None:
            self._spawn(self._teardown(reason, emit=True, send_leave=False))

    async def _teardown(self, reason: DisconnectReason, *, emit: bool, send_leave: bool = True) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        was_connected = self._state is ConnectionState.CONN_CONNECTED
        if self._rpc is not None:  # pending calls fail with RECIPIENT_DISCONNECTED, running handlers are cancelled
            self._rpc.close()
            self._rpc = None
        await engine.close(send_leave=send_leave)
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self._local is not None:
            self._local._stop_all()
        self._data_streams.close()
        self._deferred.clear()
        self._pending_qualities.clear()
        self._signal_requests.clear()
        for participant in self._remote.values():  # adaptive stream: stop watching elements (their proxies)
            for pub in participant.track_publications.values():
                if pub.track is not None:
                    pub.track._close_adaptive()
        self._dynacast_forced = False
        if was_connected and emit:
            for event in self._model.clear():
                self._apply_model_event(event)
        else:
            self._model.clear()
            for remote in self._remote.values():
                remote._end_streams()
            self._remote.clear()
        if self._local is not None:
            self._local._end_streams()
        if self._device_listener is not None:
            self._device_listener.close()
            self._device_listener = None
        if self._silent_policy is not None:  # livekit-client removes the silent element on Disconnected
            self._apply_silent_audio(self._silent_policy.disconnected())
            self._silent_policy = None  # the next connect may run on another platform
        if isinstance(self._platform_choice, str) and self._platform is not None:
            platform, self._platform = self._platform, None  # the next connect() picks again
            if self._owns_platform:
                platforms.room_done(str(self._platform_choice), platform)
                platform.close()
            self._owns_platform = False
        self._set_state(ConnectionState.CONN_DISCONNECTED)
        if emit:
            self._emit(Disconnected(reason))
        self._end_streams()


def default_platform(choice: str) -> Any:
    """The platform a choice name gives in this JavaScript context (``_browser.host``; imported when first needed)."""
    from ._browser.host import default_platform as make

    return make(choice)


# SignalResponse kinds the room handles (the engine handles ENGINE_SIGNALS itself, see _engine.py).
_SIGNAL_HANDLERS: dict[str, Callable[[Room, Any], None]] = {
    "update": Room._on_update,
    "track_unpublished": Room._on_track_unpublished,
    "mute": Room._on_server_mute,
    "room_update": Room._on_room_update,
    "speakers_changed": Room._on_speakers_changed,
    "connection_quality": Room._on_connection_quality,
    "stream_state_update": Room._on_stream_state,
    "track_subscribed": Room._on_local_track_subscribed,
    "refresh_token": Room._on_token,
    "room_moved": Room._on_room_moved,
    "subscribed_quality_update": Room._on_subscribed_quality_update,
    "subscription_response": Room._on_subscription_response,
    "request_response": Room._on_request_response,
    "subscription_permission_update": Room._on_subscription_permission,
}

# SignalResponse kinds nobody acts on yet, each on purpose, with who will.
IGNORED_SIGNALS: dict[str, str] = {
    "reconnect": "only sent during a resume (the reconnect work)",
    "subscribed_audio_codec_update": "codec negotiation (issue #9: media features)",
    "publish_data_track_response": "data tracks (not filed yet)",
    "unpublish_data_track_response": "data tracks (not filed yet)",
    "data_track_subscriber_handles": "data tracks (not filed yet)",
    "store_data_blob_response": "data blobs (not filed yet)",
    "get_data_blob_response": "data blobs (not filed yet)",
}
