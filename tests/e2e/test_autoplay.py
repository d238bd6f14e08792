"""Autoplay (issue 9 item 7), in a Chromium that applies the real autoplay policy (no
``--autoplay-policy=no-user-gesture-required``), on a page that captures nothing: the remote audio's refused
``play()`` turns ``room.can_playback_audio`` False with ``audio_playback_changed(False)``; a real WebDriver click
on a button whose handler calls ``room.start_audio()`` turns it True, with the event, and the element plays (not
paused, the received audio energy grows at playout)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token
from .page import AUDIO_ENERGY_PER_S_LOUD, PRELUDE, open_main_thread_page, own_chromium, run_on_page

# Run after PRELUDE (remote_track, audio_energy, wait_until, logged, base_proxies), on the page or in the worker.
HELPERS = """
from pyodide.ffi import create_proxy

def on_button(button_id, start):
    # A plain click handler: start() (room.start_audio / start_video) plays synchronously, inside the gesture.
    pending = []
    click = create_proxy(lambda event: pending.append(start()))
    button = js.document.getElementById(button_id)
    button.addEventListener("click", click)
    def release():
        button.removeEventListener("click", click)
        click.destroy()
    return pending, release

async def audio_played(track, seconds=1.5):
    # The received audio's (seconds, energy) at playout from now, until `seconds` of it (6 s at most).
    e0 = await audio_energy(track)
    await asyncio.sleep(0.1)
    e0 = await audio_energy(track)
    for _ in range(60):
        await asyncio.sleep(0.1)
        e1 = await audio_energy(track)
        if e1[1] - e0[1] >= seconds:
            break
    return e1[1] - e0[1], e1[0] - e0[0]

json.dumps(True)
"""

# The end of each test's Python: leave, and what leaked or logged.
LEAVE = """
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
state["logged"] = logged
json.dumps(state)
"""

# A button on the page; clicked, it calls the bridge host's startAudio/startVideo when `host_call` names one.
ADD_BUTTON = """
const [id, text, hostCall] = arguments;
const button = document.createElement("button");
button.id = id;
button.textContent = text;
if (hostCall) button.onclick = () => { window[hostCall + "Result"] = livekitPyweb[hostCall](); };
document.body.prepend(button);
"""

# Join and find the peer's audio (format strings: url, token, peer); then each test's own steps.
JOIN_AUDIO = """
room = Room()
changes = []
room.on("audio_playback_changed", changes.append)
await room.connect({url!r}, {token!r})
audio = await remote_track({peer!r}, "AUDIO")
"""

JOIN_AND_ATTACH = JOIN_AUDIO + """
before = room.can_playback_audio
element = audio.attach()
js.document.getElementById("tiles").append(element)
await wait_until(lambda: changes, 10, "audio_playback_changed")
pending, release_click = on_button("start-audio", room.start_audio)
json.dumps({{"before": before, "changes": changes, "can": room.can_playback_audio, "paused": bool(element.paused),
            "activation": bool(js.navigator.userActivation.hasBeenActive)}})
"""

AFTER_CLICK = """
await wait_until(lambda: pending, 10, "the click handler")
result = await pending[0]
await wait_until(lambda: not element.paused, 10, "the element to play")
seconds, energy = await audio_played(audio)
state = {"result": result, "changes": changes, "can": room.can_playback_audio, "paused": bool(element.paused),
         "seconds": seconds, "energy": energy}
release_click()
""" + LEAVE


@pytest.fixture
def policy_driver() -> Any:
    """A Chromium of our own: the shared flags with the real autoplay policy instead of the override."""
    with own_chromium({"--autoplay-policy": "--autoplay-policy=document-user-activation-required"},
                      script_timeout=90) as driver:
        yield driver


def _open_page(driver: Any, dist_url: str, button: str, text: str) -> None:
    """The main-thread page (captures nothing: a page that captured may play audio anyway), with a button."""
    open_main_thread_page(driver, dist_url)
    driver.execute_script(ADD_BUTTON, button, text, None)
    run_on_page(driver, PRELUDE)
    run_on_page(driver, HELPERS)


def test_refused_autoplay_then_start_audio_from_a_click(policy_driver, py_peer, room_name, dist_url):
    from selenium.webdriver.common.by import By

    driver = policy_driver
    peer = py_peer("py-peer", room_name, video=False, audio=True)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "audio", 30, "its audio to publish")
    _open_page(driver, dist_url, "start-audio", "Start audio")
    token = make_token("autoplay-page", room_name)
    joined = run_on_page(driver, JOIN_AND_ATTACH.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    # No gesture yet: the browser refused the remote audio, the room says so once.
    assert joined == {"before": True, "changes": [False], "can": False, "paused": True, "activation": False}, joined

    driver.find_element(By.ID, "start-audio").click()  # a real click: the page gets user activation
    after = run_on_page(driver, AFTER_CLICK)
    assert after["result"] is True and after["can"] is True and after["changes"] == [False, True], after
    assert after["paused"] is False, after
    assert after["seconds"] >= 1.0 and after["energy"] / after["seconds"] >= AUDIO_ENERGY_PER_S_LOUD, after
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after


WORKER_JOIN = JOIN_AUDIO + """
assert room._platform.name == "bridge"
element = audio.attach().mount("#remote")
await wait_until(lambda: changes, 10, "audio_playback_changed")
json.dumps({{"changes": changes, "can": room.can_playback_audio, "channel": element.channel,
            "handle": element.handle}})
"""

WORKER_AFTER_CLICK = """
await wait_until(lambda: len(changes) >= 2, 10, "the page's startAudio() results")
seconds, energy = await audio_played(audio)
# The page has had a gesture now (sticky activation in Chromium): the worker's own start_audio() plays too.
again = await room.start_audio()
state = {"changes": changes, "can": room.can_playback_audio, "again": again, "seconds": seconds, "energy": energy}
""" + LEAVE


def test_in_a_worker_the_pages_button_calls_the_hosts_start_audio(policy_driver, py_peer, room_name, dist_url):
    """The worker bridge: the host reports the refused play() as an element event; the page's own button calls
    globalThis.livekitPyweb.startAudio() (the worker is not in the click's task); the room hears the result."""
    from selenium.webdriver.common.by import By

    from .test_worker_bridge import open_worker_page, run_worker

    driver = policy_driver
    peer = py_peer("py-peer", room_name, video=False, audio=True)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "audio", 30, "its audio to publish")
    open_worker_page(driver, dist_url)
    token = make_token("autoplay-worker", room_name)
    run_worker(driver, PRELUDE)
    run_worker(driver, HELPERS)
    joined = run_worker(driver, WORKER_JOIN.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    assert joined["changes"] == [False] and joined["can"] is False, joined
    paused = "return livekitPyweb.hosts.get(arguments[0]).element(arguments[1]).paused"
    assert driver.execute_script(paused, joined["channel"], joined["handle"]) is True

    driver.execute_script(ADD_BUTTON, "start-audio", "Start audio", "startAudio")
    driver.find_element(By.ID, "start-audio").click()
    after = run_worker(driver, WORKER_AFTER_CLICK)
    assert after["changes"] == [False, True] and after["can"] is True and after["again"] is True, after
    assert driver.execute_script("return window.startAudioResult.then((r) => r)") == []
    assert after["seconds"] >= 1.0 and after["energy"] / after["seconds"] >= AUDIO_ENERGY_PER_S_LOUD, after
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after


# Video (livekit-client's VideoPlaybackStatusChanged / startVideo). Chromium lets a muted video autoplay, and attach()
# mutes a video element holding no audio, so the attached video plays at once (video_playback_started, no change).
# Measured: an element the page unmutes without a user gesture is paused by Chromium, and its play() is refused
# (NotAllowedError) until a gesture: that is the refusal these tests drive, through the real autoplay policy.
# Join and find the peer's video, hearing its playback events (format strings: url, token, peer).
JOIN_VIDEO = """
room = Room()
changes, track_events = [], []
room.on("video_playback_changed", changes.append)
await room.connect({url!r}, {token!r})
video = await remote_track({peer!r}, "VIDEO")
video.on("video_playback_started", lambda: track_events.append("started"))
video.on("video_playback_failed", track_events.append)
"""

VIDEO_JOIN = JOIN_VIDEO + """
element = video.attach()
js.document.getElementById("tiles").append(element)
await wait_until(lambda: track_events, 10, "video_playback_started")

def frames():
    return int(element.getVideoPlaybackQuality().totalVideoFrames)
async def frames_in(seconds):
    f0 = frames()
    await asyncio.sleep(seconds)
    return frames() - f0
autoplayed = {{"changes": list(changes), "can": room.can_playback_video, "events": list(track_events),
              "paused": bool(element.paused), "frames": await frames_in(1.0)}}

element.muted = False   # the page unmutes it without a gesture: Chromium pauses it
await wait_until(lambda: element.paused, 5, "Chromium to pause the unmuted video")
refused = await room.start_video()   # no user activation: refused
state_refused = {{"result": refused, "changes": list(changes), "can": room.can_playback_video,
                 "paused": bool(element.paused), "frames": await frames_in(1.0)}}
pending, release_click = on_button("start-video", room.start_video)
json.dumps({{"autoplayed": autoplayed, "refused": state_refused,
            "activation": bool(js.navigator.userActivation.hasBeenActive)}})
"""

VIDEO_AFTER_CLICK = """
await wait_until(lambda: pending, 10, "the click handler")
result = await pending[0]
state = {"result": result, "changes": changes, "can": room.can_playback_video, "paused": bool(element.paused),
         "frames": await frames_in(1.0), "audio_can": room.can_playback_audio}
# A received track whose MediaStreamTrack ends (dispatched here: what the page fires when its transceiver stops):
# the direct port hears it too (it listens on every track it hands over, as the bridge's host): the track's ended.
ended = []
video.on("ended", lambda t: ended.append(t.sid))
js.eval("(t) => t.dispatchEvent(new Event('ended'))")(video.media_stream_track)
await wait_until(lambda: ended, 5, "the remote track's ended event")
state["ended"] = ended == [video.sid]
release_click()
""" + LEAVE


def test_refused_video_play_then_start_video_from_a_click(policy_driver, py_peer, room_name, dist_url):
    """Item 7: the attached (muted) video autoplays under the real policy (video_playback_started, frames, no
    change); unmuted by the page, Chromium pauses it and room.start_video() without a gesture is refused:
    can_playback_video False with video_playback_changed(False), no frames; a real WebDriver click whose handler
    calls room.start_video() plays it: True, the event, frames again."""
    from selenium.webdriver.common.by import By

    driver = policy_driver
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")
    _open_page(driver, dist_url, "start-video", "Start video")
    token = make_token("video-autoplay-page", room_name)
    joined = run_on_page(driver, VIDEO_JOIN.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    auto, refused = joined["autoplayed"], joined["refused"]
    assert auto["changes"] == [] and auto["can"] is True and auto["events"] == ["started"], joined
    assert auto["paused"] is False and auto["frames"] >= 10, joined
    assert refused["result"] is False and refused["changes"] == [False] and refused["can"] is False, joined
    assert refused["paused"] is True and refused["frames"] == 0 and joined["activation"] is False, joined

    driver.find_element(By.ID, "start-video").click()
    after = run_on_page(driver, VIDEO_AFTER_CLICK)
    assert after["result"] is True and after["can"] is True and after["changes"] == [False, True], after
    assert after["paused"] is False and after["frames"] >= 10 and after["audio_can"] is True, after
    assert after["ended"] is True, after
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after


WORKER_VIDEO_JOIN = JOIN_VIDEO + """
assert room._platform.name == "bridge"
element = video.attach().mount("#remote")
await wait_until(lambda: track_events, 10, "video_playback_started")
json.dumps({{"changes": changes, "can": room.can_playback_video, "events": track_events,
            "channel": element.channel, "handle": element.handle}})
"""

WORKER_VIDEO_REFUSED = """
refused = await room.start_video()
json.dumps({"result": refused, "changes": changes, "can": room.can_playback_video, "events": track_events})
"""

WORKER_VIDEO_AFTER_CLICK = """
await wait_until(lambda: len(changes) >= 2, 10, "the page's startVideo() results")
again = await room.start_video()  # the page has had a gesture now (sticky activation): plays
state = {"changes": changes, "can": room.can_playback_video, "again": again, "events": track_events}
""" + LEAVE

FRAMES_OF = """
const el = livekitPyweb.hosts.get(arguments[0]).element(arguments[1]);
const done = arguments[arguments.length - 1];
const f0 = el.getVideoPlaybackQuality().totalVideoFrames;
setTimeout(() => done([el.paused, el.getVideoPlaybackQuality().totalVideoFrames - f0]), 1000);
"""

def test_video_playback_through_the_worker_bridge(policy_driver, py_peer, room_name, dist_url):
    """The same through the worker bridge: the host reports the video element's play() (kind video) to the
    worker; refused after the page unmuted it; the page's button calls globalThis.livekitPyweb.startVideo()."""
    from selenium.webdriver.common.by import By

    from .test_worker_bridge import open_worker_page, run_worker

    driver = policy_driver
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")
    open_worker_page(driver, dist_url)
    token = make_token("video-autoplay-worker", room_name)
    run_worker(driver, PRELUDE)
    joined = run_worker(driver, WORKER_VIDEO_JOIN.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    assert joined["changes"] == [] and joined["can"] is True and joined["events"] == ["started"], joined
    where = (joined["channel"], joined["handle"])
    paused, frames = driver.execute_async_script(FRAMES_OF, *where)
    assert paused is False and frames >= 10, (paused, frames)

    driver.execute_script("livekitPyweb.hosts.get(arguments[0]).element(arguments[1]).muted = false", *where)
    refused = run_worker(driver, WORKER_VIDEO_REFUSED)
    assert refused["result"] is False and refused["changes"] == [False] and refused["can"] is False, refused
    assert refused["events"] == ["started", "NotAllowedError"], refused
    paused, frames = driver.execute_async_script(FRAMES_OF, *where)
    assert paused is True and frames == 0, (paused, frames)

    driver.execute_script(ADD_BUTTON, "start-video", "Start video", "startVideo")
    driver.find_element(By.ID, "start-video").click()
    after = run_worker(driver, WORKER_VIDEO_AFTER_CLICK)
    assert after["changes"] == [False, True] and after["can"] is True and after["again"] is True, after
    assert driver.execute_script("return window.startVideoResult.then((r) => r)") == []
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after
