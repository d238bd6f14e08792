"""Participants: the local one (publishes) and remote ones (publish to us)."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._core import convert, proto
from ._core.simulcast import Layer, compute_layers
from .errors import (InvalidStateError, PublishTrackError, RequestErrorReason, SignalRequestError, TrackError,
                     TrackInvalidError)
from .events import (
    PARTICIPANT_EVENT_NAMES,
    EventEmitter,
    LocalTrackPublished,
    LocalTrackUnpublished,
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
)
from .options import AudioCaptureOptions, TrackPublishOptions, VideoCaptureOptions
from .track import LocalAudioTrack, LocalTrack, LocalVideoTrack
from .track_publication import LocalTrackPublication, RemoteTrackPublication, TrackPublication

if TYPE_CHECKING:
    from .room import Room

logger = logging.getLogger("livekit_pyweb.participant")

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
        return self._info.permission

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

    # -- devices -----------------------------------------------------------------------------------------
    async def set_camera_enabled(
        self, enabled: bool = True, capture: VideoCaptureOptions | None = None, publish: TrackPublishOptions | None = None
    ) -> LocalTrackPublication | None:
        """Capture and publish the camera (or unmute it); with ``False``, mute it. Returns the publication.

        Raises:
            DeviceError: capturing failed (permission, no device, device busy).
            PublishTrackError: the server did not accept the track.
        """
        capture = capture or VideoCaptureOptions()
        return await self._set_source_enabled(TrackSource.SOURCE_CAMERA, enabled, {"video": capture.constraints()}, publish)

    async def set_microphone_enabled(
        self, enabled: bool = True, capture: AudioCaptureOptions | None = None, publish: TrackPublishOptions | None = None
    ) -> LocalTrackPublication | None:
        """Capture and publish the microphone (or unmute it); with ``False``, mute it."""
        capture = capture or AudioCaptureOptions()
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
        self._room._require_connected()
        sources = (TrackSource.SOURCE_CAMERA, TrackSource.SOURCE_MICROPHONE)
        for source in sources:
            self._check_publish_permission(source)
        constraints: dict[str, Any] = {}
        if self.get_track_publication(TrackSource.SOURCE_CAMERA) is None:
            constraints["video"] = (video or VideoCaptureOptions()).constraints()
        if self.get_track_publication(TrackSource.SOURCE_MICROPHONE) is None:
            constraints["audio"] = (audio or AudioCaptureOptions()).constraints()
        tracks: list[LocalTrack] = []
        if constraints:
            for port in await self._room._platform_required().get_user_media(constraints):
                kind = "video" if port.kind == "video" else "audio"
                if kind in constraints and not any(t._port.kind == port.kind for t in tracks):
                    tracks.append(LocalVideoTrack(port) if kind == "video" else LocalAudioTrack(port))
                else:  # more than was asked for
                    port.stop()
                    port.release()
        try:
            for track in tracks:
                await self.publish_track(track, TrackPublishOptions(source=track.source))
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
        pub = self.get_track_publication(source)
        if pub is not None:
            assert isinstance(pub, LocalTrackPublication)
            await self.set_track_muted(pub, not enabled)
            return pub
        if not enabled:
            return None
        self._room._require_connected()
        self._check_publish_permission(source)  # before the capture: no device prompt for a refused publish
        ports = await self._room._platform_required().get_user_media(constraints)
        port = ports[0]
        for extra in ports[1:]:
            extra.stop()
            extra.release()
        track: LocalTrack = LocalVideoTrack(port, source) if source == TrackSource.SOURCE_CAMERA else LocalAudioTrack(port, source)
        try:
            return await self.publish_track(track, publish or TrackPublishOptions(source=source))
        except BaseException:
            track.stop()
            raise

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
        info.CopyFrom(publication._info)
        info.muted = muted
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

    async def publish_track(self, track: LocalTrack, options: TrackPublishOptions | None = None) -> LocalTrackPublication:
        """Publish ``track``; returns its publication once the server confirmed it and media is negotiated.

        Raises:
            InvalidStateError: the room is not connected, or the track is already published.
            PublishTrackError: the server refused the track or did not answer in time.
        """
        engine = self._room._require_connected()
        options = options or TrackPublishOptions(source=track.source)
        self._check_publish_permission(options.source if options.source != TrackSource.SOURCE_UNKNOWN else track.source)
        if any(p.track is track for p in self.track_publications.values()):
            raise InvalidStateError(f"{track!r} is already published")
        if track._port.ready_state == "ended":
            raise TrackInvalidError(f"{track!r} has ended (stopped): it has nothing to send")
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
        )
        encodings: list[dict[str, Any]] | None = None
        layers: list[Layer] = []
        if track.kind == TrackKind.KIND_VIDEO:
            dims = track.dimensions
            if dims is None:  # livekit-client waits for the size, then raises the same (code 20)
                raise TrackInvalidError("unable to get track dimensions: the video track reports no size")
            request.width, request.height = dims
            layers = compute_layers(*dims, simulcast=options.simulcast, max_bitrate=options.video_max_bitrate)
            request.layers.extend(
                m.VideoLayer(quality=l.quality, width=l.width, height=l.height, bitrate=l.max_bitrate) for l in layers
            )
            encodings = [l.encoding() for l in layers]
        else:
            request.disable_dtx = not options.dtx
            request.disable_red = not options.red
            request.stereo = options.stereo
        info = await engine.add_track(request)
        sender = await engine.add_sender(track._port, encodings)
        track.sid = info.sid
        pub = LocalTrackPublication(info, track, sender, layers)
        self._publications[info.sid] = pub
        self._room._dynacast_published(pub)
        track._mute_hook = self._mute
        track._sender = sender
        await engine.negotiate()
        self._emit_args("local_track_published", pub)
        self._room._emit(LocalTrackPublished(pub, track))
        return pub

    async def unpublish_track(self, track_sid: str, *, stop: bool = True) -> None:
        """Stop sending a published track (and stop capturing, unless ``stop=False``)."""
        pub = self._publications.pop(track_sid, None)
        if pub is None:
            raise TrackError(f"no local publication {track_sid!r}")
        if pub.track is not None:
            pub.track._mute_hook = None
            pub.track._sender = None
        engine = self._room._engine
        if engine is not None:
            await engine.remove_sender(pub._sender)
        if stop and pub.track is not None:
            pub.track.stop()
        self._emit_args("local_track_unpublished", pub)
        self._room._emit(LocalTrackUnpublished(pub))

    def _stop_all(self) -> None:
        for pub in self._publications.values():
            if pub.track is not None:
                pub.track.stop()
        self._publications.clear()
