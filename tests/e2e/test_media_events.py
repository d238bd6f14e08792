"""Media events against the real server (issue 9 item 8).

* ``local_audio_silence_detected`` (livekit-client's LocalAudioSilenceDetected): a Chromium whose fake microphone
  plays a silent WAV file made here (``--use-file-for-fake-audio-capture``): publishing it gives the room event
  (after ``local_track_published``) and the track's ``audio_silence_detected``, on the main thread and through the
  worker bridge; Chromium's default fake microphone (its beeps, with the default audio processing) gives none.
* a refused or unsupported screen share raises at once (never a hang), main thread and worker bridge.
* ``track_stream_state_changed`` from the real server: a private livekit-server whose congestion control may pause
  (``allow_pause: true``) pauses the video it forwards to a subscriber whose bandwidth is limited with the
  SimulateScenario ``subscriber_bandwidth`` signal request (livekit-client's ``simulateScenario('subscriber-bandwidth',
  n)``) and resumes it when the limit is lifted.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import PRELUDE, SETTLED_LOG, logged_warnings, open_main_thread_page, open_page, own_chromium, run_on_page


@pytest.fixture
def silent_mic_driver(tmp_path: Path) -> Any:
    """A Chromium of our own whose fake microphone plays two seconds of digital silence (a WAV made here)."""
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(b"\0\0" * 48000 * 2)
    with own_chromium(add=(f"--use-file-for-fake-audio-capture={silent}",)) as driver:
        yield driver


PUBLISH_MIC = """
room = Room()
silence, track_silence = [], []
order = []
room.on("local_track_published", lambda pub, track: order.append("local_track_published"))
room.on("local_audio_silence_detected", lambda pub: (silence.append(pub.sid), order.append("silence")))
await room.connect({url!r}, {token!r})
pub = await room.local_participant.set_microphone_enabled(True)   # default audio processing
pub.track.on("audio_silence_detected", lambda: track_silence.append(pub.sid))
{wait}
await wait_until(lambda: all(task.done() for task in room._tasks), 5, "the room's pending tasks")
result = {{"sid": pub.sid, "silence": silence, "track_silence": track_silence, "order": order,
          "platform": room._platform.name}}
await room.disconnect()
json.dumps(result)
"""
WAIT_SILENCE = 'await wait_until(lambda: silence, 5, "local_audio_silence_detected")'


def test_a_silent_microphone_is_reported_on_the_main_thread_and_in_a_worker(silent_mic_driver, room_name,
                                                                              dist_url):
    from .test_worker_bridge import open_worker_page, run_worker

    driver = silent_mic_driver
    open_main_thread_page(driver, dist_url)
    run_on_page(driver, PRELUDE)
    main = run_on_page(driver, PUBLISH_MIC.format(url=LIVEKIT_URL, token=make_token("silent-main", room_name),
                                           wait=WAIT_SILENCE))
    assert main["silence"] == [main["sid"]] and main["track_silence"] == [main["sid"]], main
    assert main["order"] == ["local_track_published", "silence"] and main["platform"] == "direct", main
    assert run_on_page(driver, SETTLED_LOG) == []

    open_worker_page(driver, dist_url)
    run_worker(driver, PRELUDE)
    worker = run_worker(driver, PUBLISH_MIC.format(url=LIVEKIT_URL, token=make_token("silent-worker", room_name),
                                                   wait=WAIT_SILENCE))
    assert worker["silence"] == [worker["sid"]] and worker["track_silence"] == [worker["sid"]], worker
    assert worker["order"] == ["local_track_published", "silence"] and worker["platform"] == "bridge", worker
    assert run_worker(driver, "json.dumps(logged)") == []


PUBLISH_WARM_MIC = """
from livekit_pyweb import create_local_audio_track
mic = await create_local_audio_track()   # default audio processing
await asyncio.sleep(1.0)                 # past the fake microphone's silent start (see the test)
room = Room()
silence, track_silence = [], []
order = []
room.on("local_track_published", lambda pub, track: order.append("local_track_published"))
room.on("local_audio_silence_detected", lambda pub: (silence.append(pub.sid), order.append("silence")))
mic.on("audio_silence_detected", lambda: track_silence.append(mic.sid))
await room.connect({url!r}, {token!r})
pub = await room.local_participant.publish_track(mic)
await wait_until(lambda: all(task.done() for task in room._tasks), 5, "the room's pending tasks")
result = {{"sid": pub.sid, "silence": silence, "track_silence": track_silence, "order": order}}
await room.disconnect()
json.dumps(result)
"""


def test_a_sounding_microphone_is_not_reported(selenium_standalone, room_name):
    """Chromium's default fake microphone (beeps, default audio processing): the check runs (the room's task
    ends) and finds sound: no event. Measured: that microphone gives digital silence for its first 300-400 ms, and
    livekit-client publishing it at once (its check 200 ms after local_track_published) reported
    LocalAudioSilenceDetected in 3 of 4 runs here, as we do; so the microphone is captured a second before it is
    published, as a microphone that has been on for a while."""
    selenium = selenium_standalone
    open_page(selenium)
    result = run_py(selenium, PUBLISH_WARM_MIC.format(url=LIVEKIT_URL, token=make_token("beeping", room_name)))
    assert result["silence"] == [] and result["track_silence"] == [], result
    assert result["order"] == ["local_track_published"], result
    assert logged_warnings(selenium) == []


@pytest.fixture
def denying_driver() -> Any:
    """A Chromium whose fake permission prompt says no (``--use-fake-ui-for-media-stream=deny``)."""
    with own_chromium({"--use-fake-ui-for-media-stream": "--use-fake-ui-for-media-stream=deny"}) as driver:
        yield driver


DENIED_SHARE = """
from livekit_pyweb import DeviceError, UnsupportedError
room = Room()
errors = []
room.on("media_devices_error", lambda error, kind: errors.append(
    [type(error).__name__, getattr(getattr(error, "reason", None), "name", None), kind]))
await room.connect({url!r}, {token!r})
async def share():
    t0 = js.performance.now()
    try:
        async with asyncio.timeout(10):   # a hang fails here, named
            await room.local_participant.set_screen_share_enabled(True)
        return ["shared", js.performance.now() - t0]
    except DeviceError as exc:
        return ["DeviceError", exc.reason.name, exc.name, js.performance.now() - t0]
    except UnsupportedError as exc:
        return ["UnsupportedError", exc.code, js.performance.now() - t0]
    except TimeoutError:
        return ["hang", js.performance.now() - t0]
denied = await share()
{unsupported}
state = {{"denied": denied, "unsupported": unsupported, "errors": errors,
         "published": len(room.local_participant.track_publications), "platform": room._platform.name}}
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
state["logged"] = logged
json.dumps(state)
"""
# A browser without getDisplayMedia (e.g. a mobile one): the page's own navigator.mediaDevices loses it.
UNSUPPORTED_MAIN = """
js.eval("navigator.mediaDevices.getDisplayMedia = undefined")
unsupported = await share()
"""
UNSUPPORTED_WORKER = """
unsupported = None   # set by the page between the two calls (see the test)
"""


def test_a_refused_or_unsupported_screen_share_raises_at_once(denying_driver, room_name, dist_url):
    """getDisplayMedia refused (the fake prompt denies) is DeviceError PermissionDenied (NotAllowedError) within a
    second, not a hang (a rejected media promise awaited in Pyodide can hang: measured for getUserMedia), also
    media_devices_error(error, None), nothing published; a browser without getDisplayMedia is UnsupportedError
    (code 21). On the main thread and through the worker bridge."""
    from .test_worker_bridge import open_worker_page, run_worker

    driver = denying_driver
    open_main_thread_page(driver, dist_url)
    run_on_page(driver, PRELUDE)
    main = run_on_page(driver, DENIED_SHARE.format(url=LIVEKIT_URL, token=make_token("deny-main", room_name),
                                            unsupported=UNSUPPORTED_MAIN))
    assert main["denied"][:3] == ["DeviceError", "PermissionDenied", "NotAllowedError"], main
    assert main["denied"][3] < 1000, main
    assert main["unsupported"][:2] == ["UnsupportedError", 21] and main["unsupported"][2] < 1000, main
    assert main["errors"] == [["DeviceError", "PermissionDenied", None], ["UnsupportedError", None, None]], main
    assert main["published"] == 0 and main["leaked_proxies"] == 0 and main["logged"] == [], main

    open_worker_page(driver, dist_url)
    run_worker(driver, PRELUDE)
    worker = run_worker(driver, DENIED_SHARE.format(url=LIVEKIT_URL, token=make_token("deny-worker", room_name),
                                                    unsupported=UNSUPPORTED_WORKER))
    assert worker["platform"] == "bridge", worker
    assert worker["denied"][:3] == ["DeviceError", "PermissionDenied", "NotAllowedError"], worker
    assert worker["denied"][3] < 1000, worker
    assert worker["errors"] == [["DeviceError", "PermissionDenied", None]], worker
    assert worker["published"] == 0 and worker["leaked_proxies"] == 0 and worker["logged"] == [], worker


@pytest.fixture
def pausing_server(livekit_server: str, tmp_path: Path) -> Any:
    """A private livekit-server whose stream allocator may pause a subscriber's tracks (the default config does not:
    ``congestion_control.allow_pause`` is false in livekit-server v1.13.5)."""
    from .conftest import PrivateServer

    server = PrivateServer(7980, tmp_path / "pausing-server",
                           rtc_extra=("congestion_control:", "  enabled: true", "  allow_pause: true"))
    yield server
    server.close()


STREAM_STATE = """
from livekit_pyweb._core import codec, proto
publisher = Room()
await publisher.connect({url!r}, {pub_token!r})
await publisher.local_participant.set_camera_enabled(True)
# /rtc (two peer connections): the server's allow_pause applies. On /rtc/v1 the join request's
# connection_settings.subscriber_allow_pause (unset: false) overrides it, for livekit-client 2.x too (rtcservice.go).
sub = Room(RoomOptions(single_peer_connection=False))
states = []
sub.on("track_stream_state_changed",
       lambda pub, state, participant: states.append(["room", pub.sid, state.name, participant.identity]))
await sub.connect({url!r}, {sub_token!r})
who = sub.remote_participants["publisher"]
who.on("track_stream_state_changed", lambda pub, state: states.append(["participant", pub.sid, state.name]))

def video_pub():
    return next((p for p in who.track_publications.values() if p.track is not None), None)
await wait_until(lambda: video_pub() is not None, 20, "the camera to be subscribed")
pub = video_pub()

def simulate(bps):  # livekit-client's room.simulateScenario('subscriber-bandwidth', bps): a real signal request
    sub._engine.session._send(codec.request(simulate=proto.rtc().SimulateScenario(subscriber_bandwidth=bps)))
    sub._engine._flush()

async def received_in(seconds):
    first = int((await pub.track.get_stats()).get("bytesReceived", 0))
    await asyncio.sleep(seconds)
    return int((await pub.track.get_stats()).get("bytesReceived", 0)) - first

def last_state():
    return states[-1][2] if states else None

flowing = await received_in(1.0)
before = list(states)
# 10 kbps: less than the lowest layer needs. Each request re-allocates; the allocator pauses only once it knows the
# layers' bitrates (measured: a request within ~1 s of the subscription was once applied without a pause), so the
# request is repeated every 2 s until it pauses.
for _ in range(10):
    simulate(10_000)
    try:
        await wait_until(lambda: last_state() == "STATE_PAUSED", 2, "the server to pause the video")
        break
    except AssertionError:
        pass
await wait_until(lambda: last_state() == "STATE_PAUSED", 1, "the server to pause the video")
await asyncio.sleep(0.5)   # packets already in flight
paused = await received_in(1.5)
paused_state = pub.track.stream_state.name
simulate(100_000_000)   # lifted far above what the layers need: the allocator resumes at once
await wait_until(lambda: last_state() == "STATE_ACTIVE", 20, "the server to resume the video")
resumed = await received_in(1.0)
simulate(0)
result = {{"before": before, "states": states, "sid": pub.sid, "flowing": flowing, "paused": paused,
          "paused_state": paused_state, "resumed": resumed, "state": pub.track.stream_state.name}}
await sub.disconnect()
await publisher.disconnect()
room = sub   # for logged_warnings
json.dumps(result)
"""


@pytest.mark.driver_timeout(120)
def test_the_server_pauses_and_resumes_a_subscribed_video(selenium_standalone, pausing_server, room_name):
    """track_stream_state_changed against the real server: paused under a simulated 10 kbps subscriber bandwidth
    (no bytes received), active again when lifted (bytes again); each change on the participant, then the room."""
    selenium = selenium_standalone
    open_page(selenium)
    result = run_py(selenium, STREAM_STATE.format(url=pausing_server.url, pub_token=make_token("publisher", room_name),
                                                  sub_token=make_token("subscriber", room_name)))
    sid = result["sid"]
    changes = result["states"][len(result["before"]):]
    assert changes == [["participant", sid, "STATE_PAUSED"], ["room", sid, "STATE_PAUSED", "publisher"],
                       ["participant", sid, "STATE_ACTIVE"], ["room", sid, "STATE_ACTIVE", "publisher"]], result
    assert result["before"] in ([], [["participant", sid, "STATE_ACTIVE"], ["room", sid, "STATE_ACTIVE", "publisher"]]), result
    # bytes received per window (measured: ~9-10 kB/s of the fake camera's lowest layer, 0 while paused)
    rates = (result["flowing"], result["paused"], result["resumed"])
    assert rates[0] > 3_000 and rates[1] == 0 and rates[2] > 3_000, rates
    assert result["paused_state"] == "STATE_PAUSED" and result["state"] == "STATE_ACTIVE", result
    assert logged_warnings(selenium) == []
