"""Publishing on the CPython fakes of the port: screen share, tracks made before a Room, publish options and
unpublish, concurrent publish calls, a server-requested mute, and track subscription permissions (both sides)."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import (
    InvalidStateError,
    ParticipantTrackPermission,
    TrackInvalidError,
    PermissionStatus,
    Room,
    RoomOptions,
    ScreenShareCaptureOptions,
    TrackPublishOptions,
    TrackSource,
    create_local_tracks,
    create_local_video_track,
)
from livekit_pyweb._core import proto

from .fakes import FakePlatform, TrackEvent, FakeTrack, connected_room, participant, until


class _Server:
    """Plays the server for publishing: confirms every AddTrackRequest (sid ``TR_<cid>``) and answers every offer."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self._done = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        rtc, m = proto.rtc(), proto.models()
        confirmed = answered = 0
        while not self._done.is_set():
            adds = self.socket.requests("add_track")
            for request in adds[confirmed:]:
                add = request.add_track
                self.socket.push(track_published=rtc.TrackPublishedResponse(cid=add.cid, track=m.TrackInfo(
                    sid=f"TR_{add.cid}", type=add.type, source=add.source, name=add.name, muted=add.muted)))
            confirmed = len(adds)
            offers = self.socket.requests("offer")
            for request in offers[answered:]:
                self.socket.push(answer=rtc.SessionDescription(type="answer", sdp="a", id=request.offer.id))
            answered = len(offers)
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._done.set()
        await self._task


def _sources(room) -> dict[TrackSource, str]:
    return {p.source: p.sid for p in room.local_participant.track_publications.values()}


async def test_screen_share_with_audio_publishes_both_and_disabling_unpublishes_both():
    m = proto.models()
    platform = FakePlatform()
    room, socket, _ = await connected_room(platform)
    server = _Server(socket)
    events = []
    room.on("local_track_unpublished", lambda pub: events.append(("unpublished", pub.source)))
    pub = await room.local_participant.set_screen_share_enabled(True, ScreenShareCaptureOptions(audio=True))
    assert pub is not None and pub.source == TrackSource.SOURCE_SCREENSHARE
    assert platform.display_captures == [{"audio": True, "video": {"width": {"ideal": 1920},
                                                                   "height": {"ideal": 1080}, "frameRate": 30.0}}]
    assert platform.captures == []  # no getUserMedia
    adds = [r.add_track for r in socket.requests("add_track")]
    assert [(a.source, a.type, a.name) for a in adds] == [
        (m.TrackSource.SCREEN_SHARE, m.TrackType.VIDEO, "screen_share"),
        (m.TrackSource.SCREEN_SHARE_AUDIO, m.TrackType.AUDIO, "screen_share_audio")]
    assert room.local_participant.is_screen_share_enabled
    video, audio = pub.track, room.local_participant.get_track_publication(TrackSource.SOURCE_SCREENSHARE_AUDIO).track
    assert await room.local_participant.set_screen_share_enabled(True) is pub  # already shared: nothing new
    assert len(platform.display_captures) == 1
    assert await room.local_participant.set_screen_share_enabled(False) is pub
    assert _sources(room) == {} and video._port.stopped and audio._port.stopped
    assert events == [("unpublished", TrackSource.SOURCE_SCREENSHARE),
                      ("unpublished", TrackSource.SOURCE_SCREENSHARE_AUDIO)]
    assert await room.local_participant.set_screen_share_enabled(False) is None
    await server.stop()
    await room.disconnect()


async def test_screen_share_ended_by_the_user_is_unpublished():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    server = _Server(socket)
    unpublished = []
    room.on("local_track_unpublished", lambda pub: unpublished.append(pub.sid))
    pub = await room.local_participant.set_screen_share_enabled(True)
    assert pub is not None and platform.display_captures[0]["audio"] is False
    cam = await room.local_participant.set_camera_enabled(True)
    cam.track._port.end()  # a camera that ends stays published (logged), as livekit-client for a lost device
    pub.track._port.end()  # the user pressed the browser's "Stop sharing"
    await until(lambda: unpublished == [pub.sid])
    assert _sources(room) == {TrackSource.SOURCE_CAMERA: cam.sid}
    assert ("remove_sender", pub.track.mst_id) in pc.calls
    await server.stop()
    await room.disconnect()


async def test_screen_share_refused_by_permissions_captures_nothing():
    from livekit_pyweb import PublishTrackError

    m = proto.models()
    platform = FakePlatform()
    room, socket, _ = await connected_room(platform)
    # the server narrows our permissions (a participant update naming us): camera only
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[m.ParticipantInfo(
        sid="PA_me", identity="me", version=2, permission=m.ParticipantPermission(
            can_publish=True, can_subscribe=True, can_publish_sources=[m.TrackSource.CAMERA]))]))
    await until(lambda: list(room.local_participant.permissions.can_publish_sources) == [m.TrackSource.CAMERA])
    with pytest.raises(PublishTrackError) as err:
        await room.local_participant.set_screen_share_enabled(True)
    assert err.value.status == 403 and platform.display_captures == []
    await room.disconnect()


async def test_concurrent_enables_give_one_publication_and_one_capture_per_source():
    platform = FakePlatform()
    room, socket, _ = await connected_room(platform)
    server = _Server(socket)
    lp = room.local_participant
    cam1, cam2, mic = await asyncio.wait_for(asyncio.gather(
        lp.set_camera_enabled(True), lp.set_camera_enabled(True), lp.set_microphone_enabled(True)), 2)
    assert cam1 is cam2 and cam1 is not None and mic is not None
    assert sorted(len(c) for c in platform.captures) == [1, 1]  # one camera capture, one microphone capture
    assert [list(c) for c in platform.captures].count(["video"]) == 1
    assert len(socket.requests("add_track")) == 2 and len(lp.track_publications) == 2
    # enable/disable interleavings settle to the last request, in call order
    await asyncio.gather(lp.set_camera_enabled(False), lp.set_camera_enabled(True), lp.set_camera_enabled(False))
    assert cam1.muted and not lp.is_camera_enabled
    await asyncio.gather(lp.set_camera_enabled(True), lp.set_camera_enabled(False), lp.set_camera_enabled(True))
    assert not cam1.muted and cam1.track._port.enabled
    # enable_camera_and_microphone racing set_camera_enabled: still one of each
    await asyncio.gather(lp.enable_camera_and_microphone(), lp.set_microphone_enabled(True))
    assert len(platform.captures) == 2 and len(lp.track_publications) == 2
    await server.stop()
    await room.disconnect()


async def test_a_disable_queued_behind_a_first_enable_wins():
    platform = FakePlatform()
    room, socket, _ = await connected_room(platform)
    server = _Server(socket)
    lp = room.local_participant
    pub, none = await asyncio.gather(lp.set_camera_enabled(True), lp.set_camera_enabled(False))
    assert none is pub and pub.muted and not pub.track._port.enabled and len(platform.captures) == 1
    await server.stop()
    await room.disconnect()


async def test_publishing_one_track_twice_at_once_is_refused():
    platform = FakePlatform()
    track = await create_local_video_track(platform=platform)
    room, socket, _ = await connected_room(platform)
    server = _Server(socket)
    first = asyncio.ensure_future(room.local_participant.publish_track(track))
    await asyncio.sleep(0)
    with pytest.raises(TrackInvalidError):
        await room.local_participant.publish_track(track)
    await asyncio.wait_for(first, 1)
    assert len(socket.requests("add_track")) == 1
    await server.stop()
    await room.disconnect()


async def test_tracks_made_before_the_room_are_published_with_options_and_unpublished():
    m = proto.models()
    platform = FakePlatform()
    tracks = await create_local_tracks(audio=True, video=True, platform=platform)
    assert len(platform.captures) == 1 and set(platform.captures[0]) == {"audio", "video"}
    video = next(t for t in tracks if t.kind.name == "KIND_VIDEO")
    audio = next(t for t in tracks if t.kind.name == "KIND_AUDIO")
    assert (video.source, audio.source) == (TrackSource.SOURCE_CAMERA, TrackSource.SOURCE_MICROPHONE)
    room, socket, pc = await connected_room(platform)
    server = _Server(socket)
    pub = await room.local_participant.publish_track(
        video, TrackPublishOptions(name="slides", source=TrackSource.SOURCE_SCREENSHARE, simulcast=False))
    add = socket.requests("add_track")[-1].add_track
    assert (add.name, add.source, len(add.layers)) == ("slides", m.TrackSource.SCREEN_SHARE, 1)
    assert pc.send_encodings[-1] is not None and len(pc.send_encodings[-1]) == 1
    assert (pub.name, pub.source, video.source) == ("slides", TrackSource.SOURCE_SCREENSHARE,
                                                    TrackSource.SOURCE_SCREENSHARE)
    mic = await room.local_participant.publish_track(audio, TrackPublishOptions(name="voice"))
    assert mic.name == "voice" and mic.source == TrackSource.SOURCE_MICROPHONE
    await room.local_participant.unpublish_track(pub.sid)  # stop_local_track_on_unpublish: True by default
    assert video.stopped and video._port.stopped and pc.senders[0].removed
    await room.local_participant.unpublish_track(mic.sid, stop=False)
    assert not audio.stopped and not audio._port.stopped
    again = await room.local_participant.publish_track(audio)  # not stopped: may be published again
    assert again.sid in room.local_participant.track_publications
    with pytest.raises(Exception, match="ended"):
        await room.local_participant.publish_track(video)
    await server.stop()
    await room.disconnect()


async def test_stop_local_track_on_unpublish_false_keeps_capturing():
    platform = FakePlatform()
    room, socket, _ = await connected_room(platform, RoomOptions(stop_local_track_on_unpublish=False))
    server = _Server(socket)
    pub = await room.local_participant.set_microphone_enabled(True)
    track = pub.track
    await room.local_participant.unpublish_track(pub.sid)
    assert not track._port.stopped and not track.stopped
    await room.local_participant.unpublish_track((await room.local_participant.publish_track(track)).sid, stop=True)
    assert track._port.stopped
    await server.stop()
    await room.disconnect()


async def test_create_local_tracks_validates_and_uses_a_rooms_platform_by_default(monkeypatch):
    with pytest.raises(ValueError):
        await create_local_tracks(audio=False, video=False, platform=FakePlatform())
    from livekit_pyweb import room as room_module
    from livekit_pyweb._core import platforms

    made: list[FakePlatform] = []

    def fake_default(choice: str) -> FakePlatform:
        made.append(FakePlatform())
        return made[-1]

    monkeypatch.setattr(room_module, "default_platform", fake_default)
    monkeypatch.setattr(platforms, "_shared", {})
    monkeypatch.setattr(platforms, "_rooms", {})
    tracks = await create_local_tracks(audio=True, video=False)  # no Room yet: one shared platform
    assert len(made) == 1 and list(made[0].captures[0]) == ["audio"] and made[0].started == 1
    room = Room()
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(made[0].socket_ready.wait(), 1)  # the Room connects on the same platform
    assert room._platform is made[0] and not room._owns_platform and len(made) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not made[0].closed  # shared: the tracks live on it
    tracks[0].stop()
    monkeypatch.setattr(platforms, "_shared", {})  # no shared platform: a Room makes and closes its own
    own = Room()
    task = asyncio.ensure_future(own.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(made[-1].socket_ready.wait(), 1)
    assert len(made) == 2 and own._owns_platform
    mine = await create_local_tracks(audio=False, video=True)  # a Room made one: tracks use it
    assert len(made) == 2 and len(made[1].captures) == 1 and mine[0].source == TrackSource.SOURCE_CAMERA
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert made[1].closed and platforms._rooms["auto"] == []


async def test_server_requested_mute_is_obeyed():
    platform = FakePlatform()
    room, socket, _ = await connected_room(platform)
    server = _Server(socket)
    events = []
    room.on("track_muted", lambda p, pub: events.append(("muted", p.identity, pub.sid)))
    room.on("track_unmuted", lambda p, pub: events.append(("unmuted", p.identity, pub.sid)))
    pub = await room.local_participant.set_microphone_enabled(True)
    socket.push(mute=proto.rtc().MuteTrackRequest(sid=pub.sid, muted=True))
    await until(lambda: pub.muted)
    assert pub.track.muted and not pub.track._port.enabled
    assert events == [("muted", "me", pub.sid)]
    sent = [r.mute for r in socket.requests("mute")]
    assert [(s.sid, s.muted) for s in sent] == [(pub.sid, True)]
    socket.push(mute=proto.rtc().MuteTrackRequest(sid=pub.sid, muted=False))
    await until(lambda: not pub.muted)
    assert pub.track._port.enabled and events[-1] == ("unmuted", "me", pub.sid)
    await server.stop()
    await room.disconnect()


async def test_set_track_subscription_permissions_sends_the_request():
    room, socket, _ = await connected_room(FakePlatform())
    lp = room.local_participant
    lp.set_track_subscription_permissions(allow_all_participants=False, participant_permissions=[
        ParticipantTrackPermission("alice", allow_all=True),
        ParticipantTrackPermission(participant_identity="bob", allowed_track_sids=["TR_a", "TR_b"])])
    lp.set_track_subscription_permissions(allow_all_participants=True)
    sent = [r.subscription_permission for r in socket.requests("subscription_permission")]
    assert [(s.all_participants, [(p.participant_identity, p.all_tracks, list(p.track_sids))
                                  for p in s.track_permissions]) for s in sent] == [
        (False, [("alice", True, []), ("bob", False, ["TR_a", "TR_b"])]), (True, [])]
    with pytest.raises(TypeError):
        lp.set_track_subscription_permissions(allow_all_participants=False, participant_permissions=["alice"])
    with pytest.raises(ValueError):
        ParticipantTrackPermission("")
    await room.disconnect()
    with pytest.raises(InvalidStateError):
        lp.set_track_subscription_permissions(allow_all_participants=True)


async def test_subscription_permission_update_emits_and_unsubscribes():
    m = proto.models()
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform, others=[participant("PA_bob", "bob", [("TR_v", m.TrackType.VIDEO)])])
    events = []
    room.on("track_subscription_permission_changed",
            lambda pub, status, p: events.append(("permission", pub.sid, status, p.identity)))
    room.on("track_subscribed", lambda t, pub, p: events.append(("subscribed", pub.sid)))
    room.on("track_unsubscribed", lambda t, pub, p: events.append(("unsubscribed", pub.sid)))
    pc.on_track(TrackEvent(FakeTrack("v1", "video"), ["PA_bob|TR_v"]))
    await until(lambda: ("subscribed", "TR_v") in events)
    pub = room.remote_participants["bob"].track_publications["TR_v"]
    assert pub.permission_status is PermissionStatus.ALLOWED
    bob_events = []
    room.remote_participants["bob"].on("track_subscription_permission_changed",
                                       lambda p, status: bob_events.append((p.sid, status)))
    update = proto.rtc().SubscriptionPermissionUpdate
    socket.push(subscription_permission_update=update(participant_sid="PA_bob", track_sid="TR_v", allowed=False))
    await until(lambda: len(events) == 3)
    assert events[1:] == [("permission", "TR_v", PermissionStatus.NOT_ALLOWED, "bob"), ("unsubscribed", "TR_v")]
    assert pub.track is None and pub.permission_status is PermissionStatus.NOT_ALLOWED
    socket.push(subscription_permission_update=update(participant_sid="PA_bob", track_sid="TR_v", allowed=False))
    socket.push(subscription_permission_update=update(participant_sid="PA_nobody", track_sid="TR_x", allowed=False))
    socket.push(subscription_permission_update=update(participant_sid="PA_bob", track_sid="TR_v", allowed=True))
    await until(lambda: len(events) == 4)
    assert events[3] == ("permission", "TR_v", PermissionStatus.ALLOWED, "bob")
    assert bob_events == [("TR_v", PermissionStatus.NOT_ALLOWED), ("TR_v", PermissionStatus.ALLOWED)]
    pc.on_track(TrackEvent(FakeTrack("v2", "video"), ["PA_bob|TR_v"]))  # the server subscribes us again
    await until(lambda: len(events) == 5)
    assert events[4] == ("subscribed", "TR_v") and pub.track is not None
    await room.disconnect()
