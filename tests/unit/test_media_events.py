"""Media events on the CPython fakes of the port: local_audio_silence_detected (livekit-client's
LocalAudioSilenceDetected after publishing a silent microphone)."""

from __future__ import annotations

import asyncio

from livekit_pyweb.events import EVENT_NAMES, TRACK_EVENT_NAMES, LocalAudioSilenceDetected

from .fakes import FakePlatform, connected_room, until
from .test_publishing import _Server


async def test_a_silent_microphone_is_reported_once_published_and_a_sounding_one_is_not():
    assert "local_audio_silence_detected" in EVENT_NAMES and "audio_silence_detected" in TRACK_EVENT_NAMES
    platform = FakePlatform()
    platform.silent_microphone = True
    room, socket, pc = await connected_room(platform)
    server = _Server(socket)
    order: list[str] = []
    room.on("local_track_published", lambda pub, track: order.append("published"))
    room.on("local_audio_silence_detected", lambda pub: order.append(f"silent {pub.sid}"))
    stream = room.events()
    mic = await room.local_participant.set_microphone_enabled(True)
    assert mic is not None and mic.track is not None
    heard: list[str] = []
    mic.track.on("audio_silence_detected", lambda: heard.append("track"))
    await until(lambda: len(order) == 2)
    assert order == ["published", f"silent {mic.sid}"] and heard == ["track"]
    assert mic.track._port.silence_checks == [200]  # livekit-client's window: 200 ms
    events = [await anext(stream) for _ in range(3)]
    assert [e.name for e in events] == ["local_track_published", "active_device_changed",
                                        "local_audio_silence_detected"] and events[2] == LocalAudioSilenceDetected(mic)

    # A camera is never checked; a microphone with sound gives no event.
    cam = await room.local_participant.set_camera_enabled(True)
    assert cam is not None and cam.track is not None and cam.track._port.silence_checks == []
    await room.local_participant.set_microphone_enabled(False)
    await room.local_participant.unpublish_track(mic.sid)
    platform.silent_microphone = False
    again = await room.local_participant.set_microphone_enabled(True)
    assert again is not None and again.track is not None
    await until(lambda: again.track._port.silence_checks == [200])
    await asyncio.sleep(0.5)
    assert order == ["published", f"silent {mic.sid}", "published", "published"]
    await server.stop()
    await room.disconnect()
