"""adaptiveStream and the subscriber's track settings: the sans-IO policy (``_core/adaptive.py``, times passed in),
the composition of one UpdateTrackSettings (livekit-client's ``emitTrackUpdate``), and the wiring from the port's
element views through RemoteVideoTrack and RemoteTrackPublication to the signalling socket (fakes, fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import AdaptiveStreamSettings, RoomOptions, VideoQuality
from livekit_pyweb._core import proto
from livekit_pyweb._core.adaptive import (
    BACKGROUND_DELAY,
    HIGH,
    LOW,
    MEDIUM,
    REACTION_DELAY,
    AdaptiveStream,
    Change,
    TrackSettings,
    compose,
    pixel_density,
)
from livekit_pyweb._core.ports import ElementView

from .fakes import FakeTrackPort, TrackEvent, connected_room, participant, until


def view(w: float, h: float, visible: bool = True, hidden: bool = False, dpr: float = 1.0) -> ElementView:
    return ElementView(w, h, visible, hidden, dpr)


# -- the policy ------------------------------------------------------------------------------------------------
def test_size_is_debounced_and_told_once_per_change():
    a = AdaptiveStream()
    a.observe(1, view(1280, 720), now=0.0)
    assert a.poll(0.0) == Change(visible=True)  # showing is told at once; the size waits for the debounce
    assert a.deadline() == pytest.approx(REACTION_DELAY)
    assert a.poll(0.05) is None
    assert a.poll(0.1) == Change(dimensions=(1280, 720))
    assert a.deadline() is None
    # a burst of resizes: told once, REACTION_DELAY after the last one
    for i, t in enumerate((1.0, 1.05, 1.09)):
        a.observe(1, view(600 - i * 100, 300), now=t)
        assert a.poll(t) is None
    assert a.deadline() == pytest.approx(1.19)
    assert a.poll(a.deadline()) == Change(dimensions=(400, 300))
    a.observe(1, view(400, 300), now=2.0)  # same size again: nothing to tell
    assert a.poll(2.2) is None


def test_the_largest_element_wins_by_width_plus_height():
    a = AdaptiveStream()
    a.observe("small", view(320, 180), now=0.0)
    a.observe("wide", view(640, 100), now=0.0)
    a.observe("big", view(500, 500), now=0.0)
    assert a.poll(0.1) == Change(visible=True, dimensions=(500, 500))
    a.forget("big", now=1.0)
    assert a.poll(1.1) == Change(dimensions=(640, 100))


def test_pixel_density_default_screen_and_number():
    assert pixel_density(None, 1.0) == 1 and pixel_density(None, 2.0) == 1 and pixel_density(None, 3.0) == 2
    assert pixel_density("screen", 1.5) == 1.5 and pixel_density(2, 1.0) == 2.0
    a = AdaptiveStream(pixel_density="screen")
    a.observe(1, view(200, 100, dpr=1.5), now=0.0)
    assert a.poll(0.1) == Change(visible=True, dimensions=(300, 150))
    b = AdaptiveStream()
    b.observe(1, view(200, 100, dpr=3), now=0.0)
    assert b.poll(0.1) == Change(visible=True, dimensions=(400, 200))
    with pytest.raises(ValueError):
        AdaptiveStream(pixel_density="retina")


def test_hiding_counts_once_it_lasted_the_reaction_delay_showing_at_once():
    a = AdaptiveStream()
    a.observe(1, view(640, 360), now=0.0)
    assert a.poll(0.0) == Change(visible=True)
    assert a.poll(0.1) == Change(dimensions=(640, 360))
    a.observe(1, view(640, 360, visible=False), now=1.0)
    assert a.poll(1.0) is None and a.deadline() == pytest.approx(1.0 + REACTION_DELAY)
    a.observe(1, view(640, 360, visible=True), now=1.05)  # back before it counted: nothing told
    assert a.poll(1.05) is None
    assert a.poll(1.2) is None
    a.observe(1, view(640, 360, visible=False), now=2.0)
    assert a.poll(2.0) is None
    assert a.poll(2.1) == Change(visible=False)
    a.observe(1, view(640, 360, visible=True), now=3.0)
    assert a.poll(3.0) == Change(visible=True)


def test_nothing_attached_means_hidden_at_once_and_detach_hides():
    a = AdaptiveStream()
    a.refresh()  # the server says the stream is active: a track attached nowhere is paused
    assert a.poll(0.0) == Change(visible=False)
    a.observe(1, view(640, 360), now=1.0)
    assert a.poll(1.0) == Change(visible=True)
    a.forget(1, now=5.0)
    assert a.poll(5.0) == Change(visible=False)
    assert a.poll(5.1) == Change(dimensions=(0, 0))


def test_display_none_reports_zero_size_and_not_intersecting():
    a = AdaptiveStream()
    a.observe(1, view(640, 360), now=0.0)
    assert a.poll(0.1) == Change(visible=True, dimensions=(640, 360))
    a.observe(1, view(0, 0, visible=False), now=1.0)
    assert a.poll(1.1) == Change(visible=False, dimensions=(0, 0))


def test_page_hidden_pauses_after_five_seconds_and_resumes_at_once():
    a = AdaptiveStream()
    a.observe(1, view(640, 360), now=0.0)
    a.poll(0.1)
    a.observe(1, view(640, 360, hidden=True), now=10.0)
    assert a.poll(10.0) is None and a.deadline() == pytest.approx(10.0 + BACKGROUND_DELAY)
    assert a.poll(14.9) is None
    assert a.poll(15.0) == Change(visible=False)
    a.observe(1, view(640, 360, hidden=False), now=20.0)
    assert a.poll(20.0) == Change(visible=True)
    # a short trip to another tab pauses nothing
    a.observe(1, view(640, 360, hidden=True), now=30.0)
    a.observe(1, view(640, 360, hidden=False), now=32.0)
    assert a.poll(32.0) is None and a.deadline() is None
    off = AdaptiveStream(pause_video_in_background=False)
    off.observe(1, view(640, 360, hidden=True), now=0.0)
    assert off.poll(0.0) == Change(visible=True)
    assert off.poll(6.0) == Change(dimensions=(640, 360))


# -- composing the settings ------------------------------------------------------------------------------------
def test_compose_follows_livekit_client():
    assert compose(video=True) == TrackSettings(disabled=False, quality=HIGH)
    assert compose(video=False, adaptive=True, visible=False) == TrackSettings(disabled=True)
    assert compose(video=True, requested_quality=LOW) == TrackSettings(disabled=False, quality=LOW)
    assert compose(video=True, requested_dimensions=(320, 180)) == TrackSettings(False, 320, 180)
    # adaptive: hidden -> disabled; set_enabled wins over it both ways
    assert compose(video=True, adaptive=True, visible=False).disabled
    assert not compose(video=True, adaptive=True, visible=False, requested_enabled=True).disabled
    assert compose(video=True, adaptive=True, visible=True, requested_enabled=False).disabled
    # adaptive size alone, rounded up
    assert compose(video=True, adaptive=True, adaptive_dimensions=(300.2, 168.5)) == TrackSettings(False, 301, 169)
    # requested dimensions vs adaptive: the smaller by area
    assert compose(video=True, adaptive=True, adaptive_dimensions=(200, 112),
                   requested_dimensions=(1280, 720)) == TrackSettings(False, 200, 112)
    assert compose(video=True, adaptive=True, adaptive_dimensions=(1920, 1080),
                   requested_dimensions=(640, 360)) == TrackSettings(False, 640, 360)
    # requested quality vs adaptive: the adaptive size when smaller than that layer, else the quality
    layers = {LOW: (320, 180), MEDIUM: (640, 360), HIGH: (1280, 720)}
    assert compose(video=True, adaptive=True, adaptive_dimensions=(200, 112), requested_quality=MEDIUM,
                   layers=layers) == TrackSettings(False, 200, 112)
    assert compose(video=True, adaptive=True, adaptive_dimensions=(1280, 720), requested_quality=MEDIUM,
                   layers=layers) == TrackSettings(False, quality=MEDIUM)
    assert compose(video=True, adaptive=True, adaptive_dimensions=(200, 112), requested_quality=MEDIUM,
                   layers={}) == TrackSettings(False, quality=MEDIUM)


def test_adaptive_stream_settings_validate():
    assert RoomOptions().adaptive_stream_settings is None
    assert RoomOptions(adaptive_stream=True).adaptive_stream_settings == AdaptiveStreamSettings()
    custom = AdaptiveStreamSettings(pixel_density="screen", pause_video_in_background=False)
    assert RoomOptions(adaptive_stream=custom).adaptive_stream_settings is custom
    for bad in ("retina", 0, -1, True):
        with pytest.raises(ValueError):
            AdaptiveStreamSettings(pixel_density=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RoomOptions(adaptive_stream="yes")  # type: ignore[arg-type]


# -- through the room ------------------------------------------------------------------------------------------
def _settings(socket) -> list[tuple]:
    out = []
    for r in socket.requests("track_setting"):
        s = r.track_setting
        size = (s.width, s.height) if s.width or s.height else s.quality
        out.append((list(s.track_sids), s.disabled, size))
    return out


async def _subscribed_video(options: RoomOptions | None, simulcast: bool = True):
    m = proto.models()
    alice = participant("PA_a", "alice", [("TR_v", 1)])
    alice.tracks[0].simulcast = simulcast
    for q, w, h in ((m.VideoQuality.LOW, 320, 180), (m.VideoQuality.MEDIUM, 640, 360), (m.VideoQuality.HIGH, 1280, 720)):
        alice.tracks[0].layers.add(quality=q, width=w, height=h)
    room, socket, pc = await connected_room(options=options, others=[alice])
    port = FakeTrackPort("TR_v", "video")
    subscribed = asyncio.Event()
    room.on("track_subscribed", lambda *_: subscribed.set())
    pc.on_track(TrackEvent(port, ["PA_a|TR_v"], mid="1"))
    await asyncio.wait_for(subscribed.wait(), 5)
    pub = room.remote_participants["alice"].track_publications["TR_v"]
    return room, socket, pub, port


async def test_adaptive_stream_follows_the_element():
    room, socket, pub, port = await _subscribed_video(RoomOptions(adaptive_stream=True))
    track = pub.track
    assert track is not None and track.is_adaptive_stream
    element = track.attach()
    assert port.open_watches == 1
    track.attach(element)  # attached twice: watched once
    assert port.open_watches == 1
    port.view(element, 1280, 720)  # the page's first report
    await until(lambda: len(_settings(socket)) == 2)
    assert _settings(socket) == [(["TR_v"], False, 2), (["TR_v"], False, (1280, 720))]  # shown, then its size
    t0 = asyncio.get_running_loop().time()
    port.view(element, 200, 112)  # shrunk
    await until(lambda: len(_settings(socket)) == 3)
    assert asyncio.get_running_loop().time() - t0 == pytest.approx(REACTION_DELAY, abs=0.01)
    assert _settings(socket)[-1] == (["TR_v"], False, (200, 112))
    port.view(element, 0, 0, visible=False)  # display: none: hidden and 0x0, both counted after 100 ms
    await until(lambda: len(_settings(socket)) == 4)
    # 0x0 is indistinguishable on the wire from quality LOW (0), which the server then takes, as for livekit-client
    assert _settings(socket)[3:] == [(["TR_v"], True, LOW)]
    port.view(element, 200, 112)  # shown again: enabled at once, then the size
    await until(lambda: len(_settings(socket)) == 6)
    assert _settings(socket)[4:] == [(["TR_v"], False, LOW), (["TR_v"], False, (200, 112))]
    # a manual quality above the rendered size: the rendered size still wins; a smaller one is sent as asked
    pub.set_video_quality(VideoQuality.VIDEO_QUALITY_HIGH)
    assert _settings(socket)[-1] == (["TR_v"], False, (200, 112))
    pub.set_video_dimensions(160, 90)
    assert _settings(socket)[-1] == (["TR_v"], False, (160, 90))
    # set_enabled overrides adaptive visibility
    pub.set_enabled(False)
    assert _settings(socket)[-1][1] is True and not pub.is_enabled
    port.view(element, 400, 224)
    await until(lambda: _settings(socket)[-1][2] == (160, 90) and len(_settings(socket)) == 10)
    assert _settings(socket)[-1][1] is True
    track.detach(element)
    assert port.open_watches == 0
    await room.disconnect()


async def test_a_track_attached_nowhere_is_paused_when_the_stream_goes_active():
    room, socket, pub, port = await _subscribed_video(RoomOptions(adaptive_stream=True))
    rtc, m = proto.rtc(), proto.models()
    socket.push(stream_state_update=rtc.StreamStateUpdate(stream_states=[
        rtc.StreamStateInfo(participant_sid="PA_a", track_sid="TR_v", state=rtc.StreamState.ACTIVE)]))
    await until(lambda: len(_settings(socket)) == 1)
    assert _settings(socket) == [(["TR_v"], True, 2)]
    assert not pub.is_enabled
    await room.disconnect()


async def test_unsubscribe_and_disconnect_stop_watching():
    room, socket, pub, port = await _subscribed_video(RoomOptions(adaptive_stream=True))
    track = pub.track
    a, b = track.attach(), track.attach()
    assert port.open_watches == 2
    await room.disconnect()
    assert port.open_watches == 0
    sent = len(_settings(socket))
    port.view(a, 100, 100)  # a late report after the room closed: ignored
    await asyncio.sleep(1)
    assert len(_settings(socket)) == sent
    # unpublished while attached
    room, socket, pub, port = await _subscribed_video(RoomOptions(adaptive_stream=True))
    pub.track.attach()
    socket.push(track_unpublished=proto.rtc().TrackUnpublishedResponse(track_sid="TR_v"))
    await until(lambda: port.open_watches == 0)
    await room.disconnect()


async def test_without_adaptive_stream_nothing_is_watched_and_manual_settings_compose():
    room, socket, pub, port = await _subscribed_video(None)
    track = pub.track
    track.attach()
    assert not track.is_adaptive_stream and port.open_watches == 0
    pub.set_video_dimensions(320, 180)
    pub.set_video_dimensions(320, 180)  # unchanged: not sent again
    pub.set_enabled(False)
    pub.set_enabled(True)
    pub.set_video_quality(VideoQuality.VIDEO_QUALITY_MEDIUM)
    assert _settings(socket) == [(["TR_v"], False, (320, 180)), (["TR_v"], True, (320, 180)),
                                 (["TR_v"], False, (320, 180)), (["TR_v"], False, 1)]
    assert pub.video_quality == VideoQuality.VIDEO_QUALITY_MEDIUM and pub.is_enabled
    for bad in ((0, 10), (10.5, 10), (True, 10)):
        with pytest.raises(ValueError):
            pub.set_video_dimensions(*bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pub.set_enabled(1)  # type: ignore[arg-type]
    assert len(_settings(socket)) == 4
    await room.disconnect()


async def test_set_enabled_on_audio_and_dimensions_refused_on_audio():
    alice = participant("PA_a", "alice", [("TR_m", 0)])
    room, socket, pc = await connected_room(others=[alice])
    pub = room.remote_participants["alice"].track_publications["TR_m"]
    pub.set_enabled(False)
    assert [(list(r.track_setting.track_sids), r.track_setting.disabled) for r in socket.requests("track_setting")] \
        == [(["TR_m"], True)]
    with pytest.raises(ValueError):
        pub.set_video_dimensions(320, 180)
    await room.disconnect()
