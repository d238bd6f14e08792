"""Participants: the local one (publishes) and remote ones (publish to us)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._core import convert, proto, wire
from ._core import simulcast
from ._core.simulcast import Layer, announced_layers
from .errors import (DeviceError, DeviceErrorReason, InvalidStateError, PublishTrackError, RequestErrorReason,
                     SignalRequestError, TrackError, TrackInvalidError, UnsupportedError)
from .events import (
    PARTICIPANT_EVENT_NAMES,
    EventEmitter,
    LocalTrackPublished,
    LocalTrackUnpublished,
    MediaDevicesError,
    ParticipantEventName,
    TrackMuted,
    TrackUnmuted,
)
from .enums import (
    ConnectionQuality,
    DisconnectReason,
    ParticipantKind,
    ParticipantKindDetail,
    ParticipantState,
    TrackKind,
    TrackSource,
    VideoCodec,
)
from .options import (
    AudioCaptureOptions,
    ParticipantTrackPermission,
    ScreenShareCaptureOptions,
    TrackPublishOptions,
    VideoCaptureOptions,
    degradation_preference_of,
    degradation_preference_spelling,
    video_codec_of,
)
from .rpc import RpcCallInfo, RpcError, RpcHandler, RpcInterceptor, _chain_outgoing
from .track import LocalAudioTrack, LocalTrack, LocalVideoTrack
from .track_publication import LocalTrackPublication, RemoteTrackPublication, TrackPublication, _CodecSender

if TYPE_CHECKING:
    from .data_stream import ByteStreamInfo, ByteStreamWriter, TextStreamInfo, TextStreamWriter
    from .transcription import Transcription
    from .room import Room

logger = logging.getLogger("livekit_pyweb.participant")

_Handler = TypeVar("_Handler", bound=RpcHandler)

# livekit-client's requestMetadataUpdate: the change must show within 5 s, checked every 50 ms.
_UPDATE_TIMEOUT = 5.0
_UPDATE_POLL = 0.05

_SOURCE_NAMES = {
    TrackSource.SOURCE_CAMERA: "camera",
    TrackSource.SOURCE_MICROPHONE: "microphone",
    TrackSource.SOURCE_SCREENSHARE: "screen_share",
    TrackSource.SOURCE_SCREENSHARE_AUDIO: "screen_share_audio",
}


class Participant(EventEmitter[ParticipantEventName]):
    """A participant of the room. Also an emitter of livekit-client's participant events (snake_case, see
    ``ParticipantEventName``): ``participant.on("track_muted", fn)`` and so on; each fires just before the room's
    event for the same change, with the participant left out of the arguments."""

    _event_names = PARTICIPANT_EVENT_NAMES

    def __init__(self, info: Any) -> None:
        super().__init__()
        self._info = info
        self._publications: dict[str, Any] = {}
        self._connection_quality = ConnectionQuality.QUALITY_UNKNOWN
        self._speaking = False

    def _update_info(self, info: Any) -> None:
        self._info = info

    @property
    def sid(self) -> str:
        return str(self._info.sid)

    @property
    def identity(self) -> str:
        return str(self._info.identity)

    @property
    def name(self) -> str:
        return str(self._info.name)

    @property
    def metadata(self) -> str:
        return str(self._info.metadata)

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self._info.attributes)

    @property
    def kind(self) -> ParticipantKind:
        """Standard, agent, SIP, ingress, egress, connector or bridge."""
        return convert.participant_kind(self._info.kind)

    @property
    def kind_details(self) -> list[ParticipantKindDetail]:
        return convert.participant_kind_details(self._info.kind_details)

    @property
    def state(self) -> ParticipantState:
        return convert.participant_state(self._info.state)

    @property
    def joined_at(self) -> datetime.datetime | None:
        """When the participant joined (UTC), or None if the server has not said."""
        millis = int(self._info.joined_at_ms) or int(self._info.joined_at) * 1000
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc) if millis else None

    @property
    def permissions(self) -> Any:
        """The participant's ``ParticipantPermission`` (can_publish, can_subscribe, can_publish_data, ...)."""
        return wire.to_proto(self._info.permission)

    @property
    def connection_quality(self) -> ConnectionQuality:
        """The latest quality the server reported (``QUALITY_UNKNOWN`` until the first report)."""
        return self._connection_quality

    @property
    def disconnect_reason(self) -> DisconnectReason | None:
        """Why the participant left, or None while it is in the room."""
        if self._info.state != proto.models().ParticipantInfo.DISCONNECTED:
            return None
        return convert.disconnect_reason(self._info.disconnect_reason)

    @property
    def track_publications(self) -> Mapping[str, TrackPublication]:
        return MappingProxyType(self._publications)

    @property
    def is_camera_enabled(self) -> bool:
        """A camera publication exists and is not muted (livekit-client's ``isCameraEnabled``)."""
        pub = self.get_track_publication(TrackSource.SOURCE_CAMERA)
        return pub is not None and not pub.muted

    @property
    def is_microphone_enabled(self) -> bool:
        """A microphone publication exists and is not muted."""
        pub = self.get_track_publication(TrackSource.SOURCE_MICROPHONE)
        return pub is not None and not pub.muted

    @property
    def is_screen_share_enabled(self) -> bool:
        """A screen-share publication exists (muted or not, as livekit-client)."""
        return self.get_track_publication(TrackSource.SOURCE_SCREENSHARE) is not None

    def get_track_publication(self, source: TrackSource) -> TrackPublication | None:
        for pub in self.track_publications.values():
            if pub.source == source:
                return pub
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sid={self.sid!r}, identity={self.identity!r})"


class RemoteParticipant(Participant):
    @property
    def track_publications(self) -> Mapping[str, RemoteTrackPublication]:
        """This participant's publications by track sid (read-only; the room keeps it current)."""
        return MappingProxyType(self._publications)


class LocalParticipant(Participant):
    @property
    def track_publications(self) -> Mapping[str, LocalTrackPublication]:
        """Our publications by track sid (read-only; publish and unpublish change it)."""
        return MappingProxyType(self._publications)

    def __init__(self, room: Room, info: Any) -> None:
        super().__init__(info)
        self._room = room
        # One capture-and-publish at a time per source (livekit-client's pendingPublishing): concurrent
        # set_camera_enabled(True) calls give one camera, and enable/disable calls settle in call order.
        self._source_locks: dict[TrackSource, asyncio.Lock] = {}
        self._pending: list[LocalTrack] = []  # tracks publish_track is publishing now
        self._camera_error: Exception | None = None
        self._microphone_error: Exception | None = None
        self._rpc_handlers: dict[str, RpcHandler] = {}
        self._rpc_interceptors: list[RpcInterceptor] = []

    def _source_lock(self, source: TrackSource) -> asyncio.Lock:
        return self._source_locks.setdefault(source, asyncio.Lock())

    # -- RPC -----------------------------------------------------------------------------------------------
    async def perform_rpc(
        self,
        *,
        destination_identity: str,
        method: str,
        payload: str,
        response_timeout: float | None = None,
        max_round_trip_latency: float | None = None,
    ) -> str:
        """Call ``method`` on the participant ``destination_identity`` with ``payload``; returns its response.

        Args:
            destination_identity: the identity of the participant to call.
            method: the method name.
            payload: the request (at most 15 360 UTF-8 bytes to a peer announcing client_protocol 0, which speaks
                RPC v1 only; no limit otherwise: RPC v2 sends it as a text stream).
            response_timeout: seconds to wait for the response once the request is sent (default 15; the callee
                is told at least ``max_round_trip_latency`` + 1).
            max_round_trip_latency: seconds to wait for the callee's acknowledgement (default 7).

        Raises:
            RpcError: the callee's error (its code, message and data), or a built-in one: ``UNSUPPORTED_METHOD``,
                ``APPLICATION_ERROR`` (the handler failed), ``CONNECTION_TIMEOUT`` (no ack), ``RESPONSE_TIMEOUT``,
                ``RECIPIENT_DISCONNECTED`` (the callee left, or we disconnected), ``REQUEST_PAYLOAD_TOO_LARGE`` (v1),
                ``UNSUPPORTED_SERVER``, ``SEND_FAILED`` (not connected, or the data channel refused it).
            TypeError, ValueError: a bad argument.
        """
        for name, value in (("destination_identity", destination_identity), ("method", method),
                            ("payload", payload)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        call = RpcCallInfo(destination_identity=destination_identity, method=method, payload=payload,
                           response_timeout=response_timeout, max_round_trip_latency=max_round_trip_latency)
        # the interceptors as they are now: adding or removing one does not change a call in flight
        return await _chain_outgoing(list(self._rpc_interceptors), self._perform_rpc)(call)

    async def _perform_rpc(self, call: RpcCallInfo) -> str:
        driver = self._room._rpc
        if driver is None or self._room._local is not self:
            raise RpcError._built_in(RpcError.ErrorCode.SEND_FAILED, "the room is not connected")
        return await driver.perform(call)

    @overload
    def register_rpc_method(self, method_name: str, handler: _Handler) -> _Handler: ...

    @overload
    def register_rpc_method(self, method_name: str, handler: None = None) -> Callable[[_Handler], _Handler]: ...

    def register_rpc_method(
        self, method_name: str, handler: _Handler | None = None
    ) -> _Handler | Callable[[_Handler], _Handler]:
        """Handle calls of ``method_name`` with ``handler`` (replacing any handler it had); also a decorator::

            @room.local_participant.register_rpc_method("greet")
            async def greet(data: RpcInvocationData) -> str:
                return f"Hello, {data.caller_identity}!"

        The handler gets an :class:`RpcInvocationData`, may be sync or async, and returns the response (a str, or
        None for an empty one). An :class:`RpcError` it raises reaches the caller as it is; any other exception
        reaches it as ``APPLICATION_ERROR`` (1500). A handler still running after the caller's
        ``response_timeout`` is cancelled and the caller gets ``RESPONSE_TIMEOUT``.
        """
        if not isinstance(method_name, str) or not method_name:
            raise TypeError(f"method_name must be a non-empty str, not {method_name!r}")

        def register(handler_func: _Handler) -> _Handler:
            if not callable(handler_func):
                raise TypeError(f"an RPC handler must be callable, not {type(handler_func).__name__}")
            self._rpc_handlers[method_name] = handler_func
            return handler_func

        return register(handler) if handler is not None else register

    def unregister_rpc_method(self, method: str) -> None:
        """Stop handling ``method`` (later calls get ``UNSUPPORTED_METHOD``); nothing happens if it had no handler."""
        self._rpc_handlers.pop(method, None)

    def add_rpc_interceptor(self, interceptor: RpcInterceptor) -> None:
        """Wrap every RPC this participant performs or handles with ``interceptor`` (see :class:`RpcInterceptor`);
        the first added is the outermost; adding the same one twice does nothing."""
        if not any(existing is interceptor for existing in self._rpc_interceptors):
            self._rpc_interceptors.append(interceptor)

    def remove_rpc_interceptor(self, interceptor: RpcInterceptor) -> None:
        """Remove ``interceptor``; calls already in flight keep the chain they started with."""
        self._rpc_interceptors = [existing for existing in self._rpc_interceptors if existing is not interceptor]

    # -- our own participant state ------------------------------------------------------------------------
    async def set_metadata(self, metadata: str) -> None:
        """Change our metadata; returns once the server applied it (our ``metadata`` shows it).

        Raises:
            SignalRequestError: the server refused (``NOT_ALLOWED``: the token lacks ``can_update_own_metadata``;
                ``LIMIT_EXCEEDED``) or the change did not show within 5 s (``TimeoutError``).
            InvalidStateError: the room is not connected.
        """
        await self._request_update(metadata=metadata)

    async def set_name(self, name: str) -> None:
        """Change our name (see :meth:`set_metadata` for what it raises)."""
        await self._request_update(name=name)

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        """Set or change the given attributes only (an empty value removes a key); see :meth:`set_metadata` for
        what it raises."""
        await self._request_update(attributes=dict(attributes))

    async def _request_update(self, *, metadata: str | None = None, name: str | None = None,
                              attributes: dict[str, str] | None = None) -> None:
        """livekit-client's ``requestMetadataUpdate``: send an ``UpdateParticipantMetadata`` with a request id, then
        succeed once our ParticipantInfo shows the change, fail at once on a ``RequestResponse`` for that id that
        is not OK, or fail after 5 s."""
        engine = self._room._require_connected()
        request_id = engine.send_update_metadata(self.metadata if metadata is None else metadata,
                                                 self.name if name is None else name, attributes)
        refused = self._room._expect_request_response(request_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _UPDATE_TIMEOUT
        try:
            while True:
                if refused.done():
                    raise refused.result()
                if self._shows(metadata, name, attributes):
                    return
                if loop.time() >= deadline:
                    raise SignalRequestError("Request to update local metadata timed out",
                                             RequestErrorReason.TimeoutError)
                await asyncio.wait([refused], timeout=min(_UPDATE_POLL, max(0.0, deadline - loop.time())))
        finally:
            self._room._forget_request(request_id)

    def _shows(self, metadata: str | None, name: str | None, attributes: dict[str, str] | None) -> bool:
        current = self.attributes
        return ((not name or self.name == name) and (not metadata or self.metadata == metadata)
                and (attributes is None or all(current.get(k) == v or (v == "" and k not in current)
                                               for k, v in attributes.items())))

    # -- data packets --------------------------------------------------------------------------------------
    async def publish_data(
        self,
        payload: bytes | str,
        *,
        reliable: bool = True,
        destination_identities: list[str] = [],  # noqa: B006 -- livekit.rtc's signature; never mutated
        topic: str = "",
    ) -> None:
        """Publish arbitrary data to the room (a ``DataPacket`` with a ``UserPacket``, as livekit-client's
        ``publishData``); others get it as ``data_received``.

        Args:
            payload: the data (a str is sent UTF-8 encoded).
            reliable: ordered and retransmitted (the ``_reliable`` channel), else best effort (``_lossy``: a packet
                may be lost, and is dropped here when the channel is backed up).
            destination_identities: only these participants get it (default: everyone else).
            topic: the topic receivers see it under.

        Returns once the packet is handed to the data channel (not when delivered); a burst of reliable sends
        waits for room in the channel's buffer, in order.

        Raises:
            PublishDataError: the packet is larger than 64,000 bytes encoded (the channel stays usable), or the
                room has no open data channel.
            InvalidStateError: the room is not connected.
        """
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
        engine = self._room._require_connected()
        m = proto.models()
        destinations = list(destination_identities)
        user = m.UserPacket(participant_identity=self.identity, payload=bytes(payload),
                            destination_identities=destinations, topic=topic)
        await engine.send_data(m.DataPacket(user=user, destination_identities=destinations), reliable=reliable)

    @property
    def last_camera_error(self) -> Exception | None:
        """The error of the last camera capture that failed (a :class:`~livekit_pyweb.errors.DeviceError`:
        ``reason`` PermissionDenied, NotFound, DeviceInUse or Other), None once one succeeded (livekit-client's
        ``lastCameraError``). Captures are those of ``set_camera_enabled``, ``enable_camera_and_microphone`` and
        ``Room.switch_active_device("videoinput", ...)``."""
        return self._camera_error

    @property
    def last_microphone_error(self) -> Exception | None:
        """As :attr:`last_camera_error`, for the microphone."""
        return self._microphone_error

    def _device_failed(self, kind: str | None, error: Exception, *, video: bool, audio: bool) -> None:
        """A capture failed: remember it per device and tell the room (``media_devices_error``)."""
        if video:
            self._camera_error = error
        if audio:
            self._microphone_error = error
        self._emit_args("media_devices_error", error, kind)
        self._room._emit(MediaDevicesError(error, kind))

    async def _capture(self, constraints: dict[str, Any]) -> list[LocalTrack]:
        """getUserMedia through the port (the room's chosen devices filled in); one track per kind asked for,
        each able to restart. Failures are recorded (``last_*_error``), emitted and raised."""
        platform = self._room._platform_required()
        constraints = self._room._with_device_defaults(constraints)
        video, audio = "video" in constraints, "audio" in constraints
        try:
            ports = await platform.get_user_media(constraints)
        except (DeviceError, UnsupportedError) as exc:
            kind = None if video and audio else "videoinput" if video else "audioinput"
            self._device_failed(kind, exc, video=video, audio=audio)
            raise
        tracks: list[LocalTrack] = []
        for port in ports:
            key = "video" if port.kind == "video" else "audio"
            if key in constraints and not any(t._port.kind == port.kind for t in tracks):
                track: LocalTrack = LocalVideoTrack(port) if key == "video" else LocalAudioTrack(port)
                track._platform = platform
                track._constraints = dict(constraints[key]) if isinstance(constraints[key], dict) else {}
                tracks.append(track)
            else:  # more than was asked for
                port.stop()
                port.release()
        if any(t.kind == TrackKind.KIND_VIDEO for t in tracks):
            self._camera_error = None
        if any(t.kind == TrackKind.KIND_AUDIO for t in tracks):
            self._microphone_error = None
        return tracks

    # -- devices -----------------------------------------------------------------------------------------
    async def set_camera_enabled(
        self, enabled: bool = True, capture: VideoCaptureOptions | None = None, publish: TrackPublishOptions | None = None
    ) -> LocalTrackPublication | None:
        """Capture and publish the camera (or unmute it); with ``False``, mute it. Returns the publication.

        Raises:
            DeviceError: capturing failed (permission, no device, device busy).
            PublishTrackError: the server did not accept the track.
        """
        capture = capture or self._room.options.video_capture_defaults or VideoCaptureOptions()
        return await self._set_source_enabled(TrackSource.SOURCE_CAMERA, enabled, {"video": capture.constraints()}, publish)

    async def set_microphone_enabled(
        self, enabled: bool = True, capture: AudioCaptureOptions | None = None, publish: TrackPublishOptions | None = None
    ) -> LocalTrackPublication | None:
        """Capture and publish the microphone (or unmute it); with ``False``, mute it."""
        capture = capture or self._room.options.audio_capture_defaults or AudioCaptureOptions()
        return await self._set_source_enabled(TrackSource.SOURCE_MICROPHONE, enabled, {"audio": capture.constraints()}, publish)

    async def enable_camera_and_microphone(
        self, video: VideoCaptureOptions | None = None, audio: AudioCaptureOptions | None = None
    ) -> list[LocalTrackPublication]:
        """Capture the camera and the microphone together (one getUserMedia call: one permission prompt) and
        publish both, as livekit-client's ``enableCameraAndMicrophone()``; a source already published is unmuted
        instead. Returns the camera's and the microphone's publications.

        Raises:
            PublishTrackError: our permissions do not allow one of them (nothing is captured then).
            DeviceError: capturing failed (nothing is published then).
        """
        async with self._source_lock(TrackSource.SOURCE_CAMERA), self._source_lock(TrackSource.SOURCE_MICROPHONE):
            return await self._enable_camera_and_microphone(video, audio)

    async def _enable_camera_and_microphone(
        self, video: VideoCaptureOptions | None, audio: AudioCaptureOptions | None
    ) -> list[LocalTrackPublication]:
        self._room._require_connected()
        sources = (TrackSource.SOURCE_CAMERA, TrackSource.SOURCE_MICROPHONE)
        for source in sources:
            self._check_publish_permission(source)
        constraints: dict[str, Any] = {}
        options = self._room.options
        if self.get_track_publication(TrackSource.SOURCE_CAMERA) is None:
            constraints["video"] = (video or options.video_capture_defaults or VideoCaptureOptions()).constraints()
        if self.get_track_publication(TrackSource.SOURCE_MICROPHONE) is None:
            constraints["audio"] = (audio or options.audio_capture_defaults or AudioCaptureOptions()).constraints()
        tracks: list[LocalTrack] = await self._capture(constraints) if constraints else []
        try:
            for track in tracks:
                await self.publish_track(track, self._publish_options(track.source, None))
        except BaseException:
            for track in tracks:
                if not any(p.track is track for p in self._publications.values()):
                    track.stop()
            raise
        publications = []
        for source in sources:
            pub = self.get_track_publication(source)
            assert isinstance(pub, LocalTrackPublication)
            if pub.muted:
                await self.set_track_muted(pub, False)
            publications.append(pub)
        return publications

    async def _set_source_enabled(
        self, source: TrackSource, enabled: bool, constraints: dict[str, Any], publish: TrackPublishOptions | None
    ) -> LocalTrackPublication | None:
        async with self._source_lock(source):
            return await self._set_source_enabled_locked(source, enabled, constraints, publish)

    async def _set_source_enabled_locked(
        self, source: TrackSource, enabled: bool, constraints: dict[str, Any], publish: TrackPublishOptions | None
    ) -> LocalTrackPublication | None:
        pub = self.get_track_publication(source)
        if pub is not None:
            assert isinstance(pub, LocalTrackPublication)
            await self.set_track_muted(pub, not enabled)
            return pub
        if not enabled:
            return None
        self._room._require_connected()
        self._check_publish_permission(source)  # before the capture: no device prompt for a refused publish
        captured = await self._capture(constraints)
        if not captured:
            raise DeviceError(f"getUserMedia gave no track for {source.name}", DeviceErrorReason.Other)
        track = captured[0]
        track.source = source
        try:
            return await self.publish_track(track, self._publish_options(source, publish))
        except BaseException:
            track.stop()
            raise

    async def set_screen_share_enabled(
        self, enabled: bool = True, capture: ScreenShareCaptureOptions | None = None,
        publish: TrackPublishOptions | None = None,
    ) -> LocalTrackPublication | None:
        """Share a screen, window or tab (``getDisplayMedia``) and publish it as ``SOURCE_SCREENSHARE``, with its
        audio as ``SOURCE_SCREENSHARE_AUDIO`` when ``capture.audio`` asks; with ``False``, stop sharing (both are
        unpublished: a screen share is not muted, as in livekit-client). Returns the video publication.

        The browser lets a page capture the screen only within a user activation: call it from a click handler
        (in a Web Worker: shortly after a click on the page). When the user stops sharing from the browser's own
        UI, the tracks end and are unpublished (``local_track_unpublished``).

        Raises:
            PublishTrackError: our permissions do not allow screen sharing (nothing is captured then).
            DeviceError: the user refused or cancelled the picker (``PermissionDenied``), or no user activation.
            UnsupportedError: this browser has no getDisplayMedia.
        """
        async with self._source_lock(TrackSource.SOURCE_SCREENSHARE):
            pub = self.get_track_publication(TrackSource.SOURCE_SCREENSHARE)
            if not enabled:
                if pub is None:
                    return None
                audio = self.get_track_publication(TrackSource.SOURCE_SCREENSHARE_AUDIO)
                for gone in (pub, audio):
                    if gone is not None and gone.sid in self._publications:
                        await self.unpublish_track(gone.sid)
                assert isinstance(pub, LocalTrackPublication)
                return pub
            if pub is not None:
                assert isinstance(pub, LocalTrackPublication)
                await self.set_track_muted(pub, False)
                return pub
            return await self._share_screen(capture or ScreenShareCaptureOptions(), publish)

    async def _share_screen(
        self, capture: ScreenShareCaptureOptions, publish: TrackPublishOptions | None
    ) -> LocalTrackPublication:
        self._room._require_connected()
        self._check_publish_permission(TrackSource.SOURCE_SCREENSHARE)
        if capture.audio:
            self._check_publish_permission(TrackSource.SOURCE_SCREENSHARE_AUDIO)
        try:
            ports = await self._room._platform_required().get_display_media(capture.constraints())
        except (DeviceError, UnsupportedError) as exc:  # livekit-client: MediaDevicesError, no device kind
            self._device_failed(None, exc, video=False, audio=False)
            raise
        video = next((p for p in ports if p.kind == "video"), None)
        audio = next((p for p in ports if p.kind == "audio"), None) if capture.audio else None
        for extra in ports:
            if extra is not video and extra is not audio:
                extra.stop()
                extra.release()
        if video is None:
            if audio is not None:
                audio.stop()
                audio.release()
            raise TrackError("getDisplayMedia gave no video track")
        tracks: list[LocalTrack] = [LocalVideoTrack(video, TrackSource.SOURCE_SCREENSHARE)]
        if audio is not None:
            tracks.append(LocalAudioTrack(audio, TrackSource.SOURCE_SCREENSHARE_AUDIO))
        published: list[LocalTrackPublication] = []
        try:
            for track in tracks:
                options = self._publish_options(track.source, publish if track.kind == TrackKind.KIND_VIDEO else None)
                published.append(await self.publish_track(track, options))
        except BaseException:
            for track in tracks:
                if not any(p.track is track for p in self._publications.values()):
                    track.stop()
            raise
        return published[0]

    async def set_track_muted(self, publication: LocalTrackPublication, muted: bool) -> None:
        """Mute or unmute a published track (the same as ``publication.track.mute()``/``unmute()``)."""
        if publication.track is None:
            raise InvalidStateError("the publication has no track")
        self._mute(publication.track, muted)

    def _mute(self, track: LocalTrack, muted: bool) -> None:
        """Mute state of one of our published tracks: capture, publication, server and events, all at once."""
        publication = next((p for p in self._publications.values() if p.track is track), None)
        track._port.set_enabled(not muted)
        track._set_muted_state(muted)
        if publication is None or publication.muted == muted:
            return
        info = proto.models().TrackInfo()
        info.CopyFrom(wire.to_proto(publication._info))
        info.muted = muted
        for backup in publication._backups.values():
            backup.port.set_enabled(not muted)
        publication._update(info)
        self._room._engine_required().send_mute(publication.sid, muted)
        self._emit_args("track_muted" if muted else "track_unmuted", publication)
        self._room._emit(TrackMuted(self, publication) if muted else TrackUnmuted(self, publication))

    # -- publishing --------------------------------------------------------------------------------------
    def _check_publish_permission(self, source: TrackSource) -> None:
        """Refuse at once what the server would not accept (livekit-client's ``hasPermissionsToPublish``):
        ``can_publish``, and ``source`` among ``can_publish_sources`` when that list is not empty.

        Raises:
            PublishTrackError: status 403, naming what the permission lacks.
        """
        if not self._info.HasField("permission"):
            raise PublishTrackError("cannot publish: the server has sent no permissions for us", 403)
        permission = self._info.permission
        if not permission.can_publish:
            raise PublishTrackError("cannot publish: our token (or the server) does not grant can_publish", 403)
        allowed = list(permission.can_publish_sources)
        if allowed and convert.to_proto_track_source(source) not in allowed:
            names = ", ".join(proto.models().TrackSource.Name(s) for s in allowed)
            raise PublishTrackError(
                f"cannot publish {source.name}: our permissions allow only these sources: {names}", 403)

    def _publish_options(self, source: TrackSource, given: TrackPublishOptions | None) -> TrackPublishOptions:
        """``given``, else the room's ``publish_defaults`` (for ``source``), else livekit-client's defaults."""
        if given is not None:
            return given
        defaults = self._room.options.publish_defaults
        if defaults is None:
            return TrackPublishOptions(source=source)
        return dataclasses.replace(defaults, source=source)

    async def _choose_codec(self, options: TrackPublishOptions) -> str:
        """The video codec to publish with, as livekit-client chooses it: the requested one (vp8 when none) if
        this browser can send it (``RTCRtpSender.getCapabilities``), else vp8; then, when the server lists the
        codecs it enables, one of those (its first otherwise)."""
        wanted = video_codec_of(options.video_codec or VideoCodec.VP8).name.lower()
        codec = wanted
        sendable = await self._room._send_codecs("video")
        if sendable is not None and codec not in sendable:
            codec = "vp8"
        engine = self._room._engine
        join = engine.join_response if engine is not None else None
        enabled = [c.mime.rpartition("/")[2].lower() for c in (join.enabled_publish_codecs if join else ())
                   if c.mime.lower().startswith("video/")]
        if enabled and codec not in enabled:
            codec = next((c for c in enabled if sendable is None or c in sendable), enabled[0])
        if codec != wanted:
            logger.info("video codec %s is not available here (browser can send %s; server enables %s): using %s",
                        wanted, sorted(sendable or ()), enabled or "all", codec)
        return codec

    async def publish_track(self, track: LocalTrack, options: TrackPublishOptions | None = None) -> LocalTrackPublication:
        """Publish ``track``; returns its publication once the server confirmed it and media is negotiated.

        Without ``options``, the room's ``RoomOptions.publish_defaults`` apply (else livekit-client's defaults).
        Video is sent in ``options.video_codec`` (see :class:`TrackPublishOptions`) with livekit-client's simulcast
        ladder or, for vp9/av1, one SVC encoding (``scalability_mode``, default ``L3T3_KEY``).

        Raises:
            InvalidStateError: the room is not connected, or the track is already published.
            PublishTrackError: the server refused the track or did not answer in time.
        """
        engine = self._room._require_connected()
        options = self._publish_options(track.source, options)
        self._check_publish_permission(options.source if options.source != TrackSource.SOURCE_UNKNOWN else track.source)
        if any(p.track is track for p in self.track_publications.values()):
            raise InvalidStateError(f"{track!r} is already published")
        if any(t is track for t in self._pending):  # as livekit-client's addTrack for a cid still pending
            raise TrackInvalidError(f"a track with cid {track.mst_id!r} has already been published (pending)")
        if track._stopped or track._port.ready_state == "ended":
            raise TrackInvalidError(f"{track!r} has ended (stopped): it has nothing to send")
        self._pending.append(track)
        try:
            return await self._publish(engine, track, options)
        finally:
            self._pending = [t for t in self._pending if t is not track]

    async def _publish(self, engine: Any, track: LocalTrack, options: TrackPublishOptions) -> LocalTrackPublication:
        if options.source != TrackSource.SOURCE_UNKNOWN:
            track.source = options.source
        rtc, m = proto.rtc(), proto.models()
        name = options.name or track.name or _SOURCE_NAMES.get(track.source, "")
        track.name = name
        request = rtc.AddTrackRequest(
            cid=track.mst_id,
            name=name,
            type=convert.to_proto_track_type(track.kind),
            source=convert.to_proto_track_source(track.source),
            muted=track.muted,
            stream=options.stream,
        )
        encodings: list[dict[str, Any]] | None = None
        layers: list[Layer] = []
        codec: str | None = None
        backup: str | None = None
        plan: _VideoPlan | None = None
        if track.kind == TrackKind.KIND_VIDEO:
            dims = track.dimensions
            if dims is None:  # livekit-client waits for the size, then raises the same (code 20)
                raise TrackInvalidError("unable to get track dimensions: the video track reports no size")
            request.width, request.height = dims
            codec = await self._choose_codec(options)
            plan = _VideoPlan(options, track.source, dims, codec)
            request.simulcast_codecs.append(rtc.SimulcastCodec(codec=codec, cid=track.mst_id))
            backup = plan.backup_codec()
            if backup is not None:
                request.simulcast_codecs.append(rtc.SimulcastCodec(codec=backup, cid=""))
                self._room._force_dynacast()  # livekit-client: multi-codec simulcast requires dynacast
            if options.backup_codec_policy is not None:
                request.backup_codec_policy = int(options.backup_codec_policy)
            layers = plan.layers()
            request.layers.extend(m.VideoLayer(quality=l.quality, width=l.width, height=l.height, bitrate=l.bitrate,
                                              spatial_layer=l.spatial_layer)
                                  for l in announced_layers(*dims, layers))
        else:
            request.disable_dtx = not options.dtx
            request.disable_red = not options.red
            request.stereo = options.stereo
            if options.audio_encoding is not None:
                encodings = [{"maxBitrate": options.audio_encoding.max_bitrate}]
        info = await engine.add_track(request)
        if plan is not None and info.codecs:
            # The server may not take our codec (livekit-client: "falling back to server selected codec").
            server_codec = info.codecs[0].mime_type.rpartition("/")[2].lower()
            if server_codec and server_codec != codec:
                logger.info("the server publishes %s as %s, not %s", info.sid, server_codec, codec)
                plan = _VideoPlan(options, track.source, plan.dims, server_codec)
                codec = server_codec
                layers = plan.layers()
        if plan is not None:
            encodings = [l.encoding() for l in layers]
        sender = await engine.add_sender(track._port, encodings, f"video/{codec.upper()}" if codec else None)
        if plan is not None:
            await self._set_degradation_preference(sender, plan.degradation_preference())
        track.sid = info.sid
        pub = LocalTrackPublication(info, track, sender, layers, codec or "", options)
        pub._backup_codec = backup
        pub._encoded_dims = plan.dims if plan is not None else None
        self._publications[info.sid] = pub
        self._room._dynacast_published(pub)
        track._mute_hook = self._mute
        track._sender = sender
        track._ended_hook = self._track_ended
        track._restart_hook = self._room._on_local_track_restarted
        track._senders_hook = self._after_restart
        await engine.negotiate()
        self._emit_args("local_track_published", pub)
        self._room._emit(LocalTrackPublished(pub, track))
        self._room._on_local_track_restarted(track)  # livekit-client: the device in use becomes the active one
        if track.kind == TrackKind.KIND_AUDIO:
            self._room._spawn(self._room._check_silence(pub))
        return pub

    async def _after_restart(self, track: LocalTrack) -> None:
        pub = next((p for p in self._publications.values() if p.track is track), None)
        if pub is None:
            return
        await self._reclone_backups(track)
        await self._refresh_encodings(pub, track)

    async def _refresh_encodings(self, pub: LocalTrackPublication, track: LocalTrack) -> None:
        """A restarted video capture of another size: its senders' encodings recomputed for the new size and
        applied to the encodings still active (livekit-client's refreshSenderEncodings); skipped when the number of
        layers would change (the negotiated encodings stay). A failure is logged."""
        dims = track.dimensions
        if track.kind != TrackKind.KIND_VIDEO or dims is None or pub._encoded_dims in (None, dims) or not pub._options:
            return
        base = pub._options
        try:
            layers = _VideoPlan(base, track.source, dims, pub._codec).layers()
            if len(layers) == len(pub._primary.layers) and await pub._primary.sender.set_encodings(
                    [l.encoding() for l in layers]):
                pub._primary.layers = tuple(layers)
                pub._encoded_dims = dims
            for codec, backup in pub._backups.items():
                options = dataclasses.replace(base, video_codec=codec, video_encoding=None, video_max_bitrate=None,
                                              simulcast=base.simulcast and track.source != TrackSource.SOURCE_SCREENSHARE)
                backup_layers = _VideoPlan(options, track.source, dims, codec).layers()
                if len(backup_layers) == len(backup.layers) and await backup.sender.set_encodings(
                        [l.encoding() for l in backup_layers]):
                    backup.layers = tuple(backup_layers)
        except Exception as exc:
            logger.warning("the encodings of %s were not recomputed for %dx%d: %s", pub.sid, dims[0], dims[1], exc)

    async def _reclone_backups(self, track: LocalTrack) -> None:
        """``track`` was restarted (another device): each backup codec's sender gets a clone of the new capture, the
        old clone stops (livekit-client's restartTrack does the same for its simulcastCodecs). A failure is logged:
        the primary codec already sends the new capture."""
        pub = next((p for p in self._publications.values() if p.track is track), None)
        for backup in list(pub._backups.values()) if pub is not None else []:
            try:
                clone = await track._port.clone()
            except Exception as exc:
                logger.warning("backup codec %s of %s keeps the previous capture: %s", backup.codec, track.sid, exc)
                continue
            clone.set_enabled(not track.muted)
            try:
                await backup.sender.replace_track(clone)
            except Exception as exc:
                logger.warning("backup codec %s of %s keeps the previous capture: %s", backup.codec, track.sid, exc)
                clone.stop()
                clone.release()
                continue
            old, backup.port = backup.port, clone
            if old is not None:
                old.stop()
                old.release()

    async def _publish_backup_codec(self, pub: LocalTrackPublication, codec: str) -> None:
        """Send ``pub``'s track a second time, in its backup ``codec``, because the server asked for that codec
        (livekit-client ``publishAdditionalCodecForTrack``): a clone of the track on its own transceiver, an
        AddTrackRequest naming the publication's sid, then a renegotiation; the subscribed qualities then
        switch its encodings like the primary's."""
        track = pub.track
        dims = track.dimensions if track is not None else None
        if track is None or dims is None or codec in pub._backups:
            return
        engine = self._room._engine_required()
        base = pub._options or TrackPublishOptions()
        options = dataclasses.replace(base, video_codec=codec, video_encoding=None, video_max_bitrate=None,
                                      simulcast=base.simulcast and track.source != TrackSource.SOURCE_SCREENSHARE)
        plan = _VideoPlan(options, track.source, dims, codec)
        layers = plan.layers()
        clone = await track._port.clone()
        if track.muted:
            clone.set_enabled(False)
        rtc, m = proto.rtc(), proto.models()
        request = rtc.AddTrackRequest(
            cid=clone.id, type=convert.to_proto_track_type(track.kind), muted=track.muted,
            source=convert.to_proto_track_source(track.source), sid=pub.sid,
            simulcast_codecs=[rtc.SimulcastCodec(codec=codec, cid=clone.id)],
        )
        request.layers.extend(m.VideoLayer(quality=l.quality, width=l.width, height=l.height, bitrate=l.bitrate,
                                          spatial_layer=l.spatial_layer)
                              for l in announced_layers(*dims, layers))
        sender = None
        try:
            sender = await engine.add_sender(clone, [l.encoding() for l in layers], f"video/{codec.upper()}")
            await self._set_degradation_preference(sender, plan.degradation_preference())
            adding = asyncio.ensure_future(engine.add_track(request))
            try:
                await engine.negotiate()
            finally:
                await adding
        except BaseException:
            if sender is not None and self._publications.get(pub.sid) is pub:
                await engine.remove_sender(sender)
            clone.stop()
            clone.release()
            raise
        if self._publications.get(pub.sid) is not pub:  # unpublished meanwhile
            await engine.remove_sender(sender)
            clone.stop()
            clone.release()
            return
        backup = _CodecSender(codec, sender, layers, clone)
        pub._backups[codec] = backup
        logger.info("published %s again in %s (backup codec)", pub.sid, codec)
        wish = pub._codec_qualities.get(codec)
        if wish is not None:  # the browser starts every encoding active: apply the latest wish at once
            await backup.set_subscribed_qualities(wish)

    @staticmethod
    async def _set_degradation_preference(sender: Any, preference: str) -> None:
        try:
            await sender.set_degradation_preference(preference)
        except Exception as exc:  # livekit-client logs it and publishes anyway
            logger.warning("could not set degradationPreference %r: %s", preference, exc)

    async def unpublish_track(self, track_sid: str, *, stop: bool | None = None) -> None:
        """Stop sending a published track, and stop capturing it when ``stop`` is true (default:
        ``RoomOptions.stop_local_track_on_unpublish``, True as in livekit-client); a track not stopped may be
        published again."""
        pub = self._publications.pop(track_sid, None)
        if pub is None:
            raise TrackError(f"no local publication {track_sid!r}")
        if stop is None:
            stop = self._room.options.stop_local_track_on_unpublish
        if pub.track is not None:
            pub.track._mute_hook = None
            pub.track._sender = None
            pub.track._ended_hook = None
            pub.track._restart_hook = None
            pub.track._senders_hook = None
        for task in pub._backup_tasks.values():
            task.cancel()
        backups = list(pub._backups.values())
        pub._backups.clear()
        engine = self._room._engine
        try:
            if engine is not None:
                for backup in backups:
                    await engine.remove_sender(backup.sender)
                await engine.remove_sender(pub._sender)
        finally:  # also when cancelled (the room disconnecting meanwhile): no capture is left running
            for backup in backups:
                backup.port.stop()
                backup.port.release()
            if stop and pub.track is not None:
                pub.track.stop()
        self._emit_args("local_track_unpublished", pub)
        self._room._emit(LocalTrackUnpublished(pub))

    def _track_ended(self, track: LocalTrack) -> None:
        """A published track ended by itself (page state). A screen share the user stopped from the browser's UI is
        unpublished, as livekit-client does; another source stays published (sending nothing) and is logged."""
        pub = next((p for p in self._publications.values() if p.track is track), None)
        if pub is None:
            return
        if track.source in (TrackSource.SOURCE_SCREENSHARE, TrackSource.SOURCE_SCREENSHARE_AUDIO):
            logger.info("%s ended (sharing stopped by the user): unpublishing it", track.source.name)
            self._room._spawn(self._unpublish_ended(pub.sid))
        else:
            logger.info("published %s track %s ended (its device went away?); it sends nothing now",
                        track.source.name, pub.sid)

    async def _unpublish_ended(self, sid: str) -> None:
        if sid in self._publications:
            await self.unpublish_track(sid)

    # -- subscription permissions ------------------------------------------------------------------------
    # -- data streams (livekit.rtc's signatures; see livekit_pyweb.data_stream) ----------------------------------
    async def send_text(
        self,
        text: str,
        *,
        destination_identities: list[str] | None = None,
        topic: str = "",
        attributes: dict[str, str] | None = None,
        reply_to_id: str | None = None,
        compress: bool = True,
        on_progress: Callable[[float], None] | None = None,
    ) -> TextStreamInfo:
        """Send ``text`` as one text stream to everyone (or to ``destination_identities``) on ``topic`` (e.g.
        ``"lk.chat"``); returns once every packet is on the data channel.

        As livekit-client 2.23: when every recipient reads data streams v2 and it fits, the whole text rides in one
        packet; else a header, 15,000-byte chunks and a trailer. With ``compress`` (default) the text is
        deflate-compressed when every recipient can inflate it. ``on_progress(fraction)`` (livekit-client
        ``onProgress``) follows the chunks sent.

        Raises:
            StreamError: the header is too large (``HeaderTooLarge``: attributes).
            InvalidStateError: the room is not connected. PublishDataError: the data channel refused a packet.
        """
        return await self._room._data_streams.send_text(
            text, destination_identities=destination_identities, topic=topic, attributes=attributes,
            reply_to_id=reply_to_id, compress=compress, on_progress=on_progress)

    async def stream_text(
        self,
        *,
        destination_identities: list[str] | None = None,
        topic: str = "",
        attributes: dict[str, str] | None = None,
        stream_id: str | None = None,
        reply_to_id: str | None = None,
        total_size: int | None = None,
        sender_identity: str | None = None,
    ) -> TextStreamWriter:
        """Open a text stream (its header is sent now): ``await writer.write(text)`` as often as needed, then
        ``await writer.aclose()``. ``sender_identity`` is accepted as livekit.rtc does; the server stamps the real
        sender on every packet anyway."""
        del sender_identity  # the server overwrites a packet's participant_identity with the real sender
        return await self._room._data_streams.stream_text(
            destination_identities=destination_identities, topic=topic, attributes=attributes, stream_id=stream_id,
            reply_to_id=reply_to_id, total_size=total_size)

    async def send_bytes(
        self,
        data: bytes,
        *,
        topic: str = "",
        name: str | None = None,
        mime_type: str | None = None,
        destination_identities: list[str] | None = None,
        attributes: dict[str, str] | None = None,
        stream_id: str | None = None,
        compress: bool = True,
        on_progress: Callable[[float], None] | None = None,
    ) -> ByteStreamInfo:
        """Send ``data`` as one byte stream (``name`` "unknown" and ``mime_type`` "application/octet-stream" by
        default); single-packet and compressed as :meth:`send_text`."""
        return await self._room._data_streams.send_bytes(
            data, destination_identities=destination_identities, topic=topic,
            name=name if name is not None else "unknown",
            mime_type=mime_type if mime_type is not None else "application/octet-stream", attributes=attributes,
            stream_id=stream_id, compress=compress, on_progress=on_progress)

    async def stream_bytes(
        self,
        name: str,
        *,
        total_size: int | None = None,
        mime_type: str = "application/octet-stream",
        attributes: dict[str, str] | None = None,
        stream_id: str | None = None,
        destination_identities: list[str] | None = None,
        topic: str = "",
    ) -> ByteStreamWriter:
        """Open a byte stream named ``name``: ``await writer.write(data)``..., then ``await writer.aclose()``."""
        return await self._room._data_streams.stream_bytes(
            name, total_size=total_size, mime_type=mime_type, attributes=attributes, stream_id=stream_id,
            destination_identities=destination_identities, topic=topic)

    async def send_file(
        self,
        file_path: Any,
        *,
        topic: str = "",
        destination_identities: list[str] | None = None,
        attributes: dict[str, str] | None = None,
        stream_id: str | None = None,
        compress: bool = True,
        on_progress: Callable[[float], None] | None = None,
    ) -> ByteStreamInfo:
        """Send a file as a byte stream named after it, its mime type guessed from the name.

        ``file_path``: a path in Pyodide's file system (as livekit.rtc), or a browser ``File``/``Blob`` (read in
        chunks by the platform: on the page, or where Python runs in a Web Worker), or a
        :class:`~livekit_pyweb.data_stream.PageFile` naming a file of an ``<input type=file>`` on the page (a worker
        cannot hold the page's File objects; the page host reads it). As livekit-client's ``sendFile``: never a
        single packet; compressed when every recipient can inflate (``compress``).

        Raises:
            FileNotFoundError / OSError: the path cannot be read.
        """
        return await self._room._data_streams.send_file(
            file_path, topic=topic, destination_identities=destination_identities, attributes=attributes,
            stream_id=stream_id, compress=compress, on_progress=on_progress)

    async def publish_transcription(self, transcription: Transcription) -> None:
        """Send a ``transcription`` data packet: the segments of ``transcription.participant_identity``'s track
        ``transcription.track_sid`` (every participant's ``transcription_received`` fires with them).

        Raises:
            InvalidStateError: the room is not connected. PublishDataError: the data channel refused it.
        """
        m = proto.models()
        packet = m.DataPacket(kind=m.DataPacket.Kind.RELIABLE, transcription=m.Transcription(
            transcribed_participant_identity=transcription.participant_identity,
            track_id=transcription.track_sid,
            segments=[m.TranscriptionSegment(id=s.id, text=s.text, start_time=s.start_time, end_time=s.end_time,
                                             final=s.final, language=s.language) for s in transcription.segments]))
        await self._room._data_streams.send(packet)

    def set_track_subscription_permissions(
        self, *, allow_all_participants: bool,
        participant_permissions: Sequence[ParticipantTrackPermission] | None = None,
    ) -> None:
        """Who may subscribe to our tracks (livekit.rtc's signature): everyone (``allow_all_participants=True``),
        or only the participants listed, each to all our tracks or to the listed track sids. The server stops
        sending a track to anyone no longer allowed; they get ``track_subscription_permission_changed``.

        ``participant_permissions`` takes :class:`~livekit_pyweb.ParticipantTrackPermission` (livekit.rtc's
        ``ParticipantTrackPermission`` messages work too: the same field names).

        Raises:
            InvalidStateError: the room is not connected.
            TypeError: an entry is not a participant permission.
        """
        rtc = proto.rtc()
        permissions = []
        for entry in participant_permissions or ():
            identity = getattr(entry, "participant_identity", None)
            if not isinstance(identity, str) or not identity:
                raise TypeError(f"participant_permissions takes ParticipantTrackPermission entries, not {entry!r}")
            permissions.append(rtc.TrackPermission(
                participant_identity=identity, all_tracks=bool(getattr(entry, "allow_all", False)),
                track_sids=[str(sid) for sid in getattr(entry, "allowed_track_sids", ())]))
        message = rtc.SubscriptionPermission(all_participants=bool(allow_all_participants),
                                             track_permissions=permissions)
        self._room._require_connected().send_subscription_permission(message)

    def _stop_all(self) -> None:
        for pub in self._publications.values():
            if pub.track is not None:
                pub.track.stop()
            for backup in pub._backups.values():
                backup.port.stop()
                backup.port.release()
            pub._backups.clear()
        self._publications.clear()


class _VideoPlan:
    """How one video track is encoded: the options, its source and size and the codec chosen (sans the browser)."""

    def __init__(self, options: TrackPublishOptions, source: TrackSource, dims: tuple[int, int], codec: str) -> None:
        self.options = options
        self.source = source
        self.dims = dims
        self.codec = codec

    @property
    def is_screen_share(self) -> bool:
        return self.source == TrackSource.SOURCE_SCREENSHARE

    def scalability_mode(self) -> str | None:
        if not simulcast.is_svc(self.codec):
            return None
        if self.is_screen_share:  # livekit-client: vp9 SVC cannot encode several spatial layers of a screen
            return "L1T3"
        return self.options.scalability_mode or simulcast.DEFAULT_SCALABILITY_MODE

    def encoding(self) -> simulcast.Encoding | None:
        o = self.options
        chosen = o.screen_share_encoding if self.is_screen_share else o.video_encoding
        if self.is_screen_share and chosen is None:
            d = simulcast.SCREEN_SHARE_DEFAULT
            return simulcast.Encoding(d.max_bitrate, d.max_framerate, d.priority)
        if chosen is not None:
            return simulcast.Encoding(chosen.max_bitrate, chosen.max_framerate, chosen.priority)
        return None

    def layers(self) -> list[Layer]:
        o = self.options
        presets = o.screen_share_simulcast_layers if self.is_screen_share else o.video_simulcast_layers
        lower = None if presets is None else [simulcast.Preset(p.width, p.height, p.max_bitrate, p.max_framerate,
                                                                p.priority) for p in presets]
        return simulcast.compute_layers(*self.dims, simulcast=o.simulcast, encoding=self.encoding(),
                                        codec=self.codec, scalability_mode=self.scalability_mode(),
                                        is_screen_share=self.is_screen_share, lower_presets=lower,
                                        max_bitrate=o.video_max_bitrate)

    def backup_codec(self) -> str | None:
        """livekit-client: a backup codec (vp8 for ``True``) when it differs from the primary."""
        backup = self.options.backup_codec
        if backup is False:
            return None
        name = "vp8" if backup is True else video_codec_of(backup).name.lower()
        return None if name == self.codec else name

    def degradation_preference(self) -> str:
        pref = self.options.degradation_preference
        if pref is None:  # livekit-client getDefaultDegradationPreference
            if self.source == TrackSource.SOURCE_CAMERA:
                return "maintain-framerate"
            if self.is_screen_share:
                return "maintain-resolution"
            return "balanced"
        return degradation_preference_spelling(degradation_preference_of(pref))
