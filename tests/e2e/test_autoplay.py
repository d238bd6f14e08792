"""Autoplay (issue 9 item 7), in a Chromium that applies the real autoplay policy (no
``--autoplay-policy=no-user-gesture-required``), on a page that captures nothing: the remote audio's refused
``play()`` turns ``room.can_playback_audio`` False with ``audio_playback_changed(False)``; a real WebDriver click
on a button whose handler calls ``room.start_audio()`` turns it True, with the event, and the element plays (not
paused, the received audio energy grows at playout)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.parse
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token
from .page import AUDIO_ENERGY_PER_S_LOUD, WORKER_PRELUDE

RUN = """
const done = arguments[arguments.length - 1];
window.lkpwPyodide.runPythonAsync(arguments[0]).then((v) => done(String(v)), (e) => done("ERROR " + e));
"""

JOIN_AND_ATTACH = """
from pyodide.ffi import create_proxy
from livekit_pyweb import Room

room = Room()
changes = []
room.on("audio_playback_changed", changes.append)
await room.connect({url!r}, {token!r})

def remote_audio():
    p = room.remote_participants.get({peer!r})
    for pub in (p.track_publications.values() if p else []):
        if pub.track is not None and pub.kind.name == "KIND_AUDIO":
            return pub.track
await wait_until(lambda: remote_audio() is not None, 30, "the peer's audio")
audio = remote_audio()
before = room.can_playback_audio
element = audio.attach()
js.document.getElementById("tiles").append(element)
await wait_until(lambda: changes, 10, "audio_playback_changed")

pending = []
def on_click(event):
    pending.append(room.start_audio())  # plain handler: start_audio() plays synchronously, inside the gesture
click = create_proxy(on_click)
js.document.getElementById("start-audio").addEventListener("click", click)
json.dumps({{"before": before, "changes": changes, "can": room.can_playback_audio, "paused": bool(element.paused),
            "activation": bool(js.navigator.userActivation.hasBeenActive)}})
"""

AFTER_CLICK = """
await wait_until(lambda: pending, 10, "the click handler")
result = await pending[0]
await wait_until(lambda: not element.paused, 10, "the element to play")

async def energy():
    stats = await audio.get_stats()
    return float(stats.get("totalAudioEnergy", 0.0)), float(stats.get("totalSamplesDuration", 0.0))
e0 = await energy()
await asyncio.sleep(0.1)
e0 = await energy()
for _ in range(60):
    await asyncio.sleep(0.1)
    e1 = await energy()
    if e1[1] - e0[1] >= 1.5:
        break
state = {"result": result, "changes": changes, "can": room.can_playback_audio, "paused": bool(element.paused),
         "seconds": e1[1] - e0[1], "energy": e1[0] - e0[0]}
js.document.getElementById("start-audio").removeEventListener("click", click)
click.destroy()
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
state["logged"] = logged
json.dumps(state)
"""


def _run(driver: Any, code: str) -> Any:
    out = driver.execute_async_script(RUN, code)
    assert not out.startswith("ERROR"), out
    return json.loads(out)


@pytest.fixture
def policy_driver() -> Any:
    """A Chromium of our own: the shared flags with the real autoplay policy instead of the override."""
    from chromium_flags import CHROMEDRIVER, CHROMIUM_BINARY, CHROMIUM_FLAGS, chromium_flags
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    base = [f for f in CHROMIUM_FLAGS if not f.startswith("--autoplay-policy")]
    assert len(base) == len(CHROMIUM_FLAGS) - 1
    profile = tempfile.mkdtemp(prefix="livekit-pyweb-autoplay-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    for flag in chromium_flags(profile, base=[*base, "--autoplay-policy=document-user-activation-required"]):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(90)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_refused_autoplay_then_start_audio_from_a_click(policy_driver, py_peer, room_name, dist_url):
    from selenium.webdriver.common.by import By

    driver = policy_driver
    peer = py_peer("py-peer", room_name, video=False, audio=True)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "audio", 30, "its audio to publish")
    driver.get(f"{dist_url}/autoplay.html")
    deadline = time.monotonic() + 60
    while driver.execute_script("return window.lkpw.state") == "booting":
        assert time.monotonic() < deadline, "Pyodide did not boot"
        time.sleep(0.2)
    assert driver.execute_script("return window.lkpw.state") == "loaded", driver.execute_script("return window.lkpw")

    token = make_token("autoplay-page", room_name)
    _run(driver, WORKER_PRELUDE)  # the page has no PRELUDE: the light one
    joined = _run(driver, JOIN_AND_ATTACH.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    # No gesture yet: the browser refused the remote audio, the room says so once.
    assert joined == {"before": True, "changes": [False], "can": False, "paused": True, "activation": False}, joined

    driver.find_element(By.ID, "start-audio").click()  # a real click: the page gets user activation
    after = _run(driver, AFTER_CLICK)
    assert after["result"] is True and after["can"] is True and after["changes"] == [False, True], after
    assert after["paused"] is False, after
    assert after["seconds"] >= 1.0 and after["energy"] / after["seconds"] >= AUDIO_ENERGY_PER_S_LOUD, after
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after


WORKER_JOIN = """
from livekit_pyweb import Room

room = Room()
changes = []
room.on("audio_playback_changed", changes.append)
await room.connect({url!r}, {token!r})
assert room._platform.name == "bridge"

def remote_audio():
    p = room.remote_participants.get({peer!r})
    for pub in (p.track_publications.values() if p else []):
        if pub.track is not None and pub.kind.name == "KIND_AUDIO":
            return pub.track
await wait_until(lambda: remote_audio() is not None, 30, "the peer's audio")
audio = remote_audio()
element = audio.attach().mount("#remote")
await wait_until(lambda: changes, 10, "audio_playback_changed")
json.dumps({{"changes": changes, "can": room.can_playback_audio, "channel": element.channel,
            "handle": element.handle}})
"""

WORKER_AFTER_CLICK = """
await wait_until(lambda: len(changes) >= 2, 10, "the page's startAudio() results")
async def energy():
    stats = await audio.get_stats()
    return float(stats.get("totalAudioEnergy", 0.0)), float(stats.get("totalSamplesDuration", 0.0))
e0 = await energy()
for _ in range(60):
    await asyncio.sleep(0.1)
    e1 = await energy()
    if e1[1] - e0[1] >= 1.5:
        break
# The page has had a gesture now (sticky activation in Chromium): the worker's own start_audio() plays too.
again = await room.start_audio()
state = {"changes": changes, "can": room.can_playback_audio, "again": again,
         "seconds": e1[1] - e0[1], "energy": e1[0] - e0[0]}
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
state["logged"] = logged
json.dumps(state)
"""

ADD_PAGE_BUTTON = """
const button = document.createElement("button");
button.id = "start-audio";
button.textContent = "Start audio";
button.onclick = () => { window.startAudioResult = livekitPyweb.startAudio(); };
document.body.prepend(button);
"""


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
    run_worker(driver, WORKER_PRELUDE)
    joined = run_worker(driver, WORKER_JOIN.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    assert joined["changes"] == [False] and joined["can"] is False, joined
    paused = "return livekitPyweb.hosts.get(arguments[0]).element(arguments[1]).paused"
    assert driver.execute_script(paused, joined["channel"], joined["handle"]) is True

    driver.execute_script(ADD_PAGE_BUTTON)
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
ADD_VIDEO_BUTTON = """
const button = document.createElement("button");
button.id = "start-video";
button.textContent = "Start video";
document.body.prepend(button);
"""

VIDEO_JOIN = """
from pyodide.ffi import create_proxy
from livekit_pyweb import Room

room = Room()
changes, track_events = [], []
room.on("video_playback_changed", changes.append)
await room.connect({url!r}, {token!r})

def remote_video():
    p = room.remote_participants.get({peer!r})
    for pub in (p.track_publications.values() if p else []):
        if pub.track is not None and pub.kind.name == "KIND_VIDEO":
            return pub.track
await wait_until(lambda: remote_video() is not None, 30, "the peer's video")
video = remote_video()
video.on("video_playback_started", lambda: track_events.append("started"))
video.on("video_playback_failed", track_events.append)
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

pending = []
def on_click(event):
    pending.append(room.start_video())  # a plain handler: the play() happens inside the gesture
click = create_proxy(on_click)
js.document.getElementById("start-video").addEventListener("click", click)
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
js.document.getElementById("start-video").removeEventListener("click", click)
click.destroy()
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
state["logged"] = logged
json.dumps(state)
"""


def test_refused_video_play_then_start_video_from_a_click(policy_driver, py_peer, room_name, dist_url):
    """Item 7: the attached (muted) video autoplays under the real policy (video_playback_started, frames, no
    change); unmuted by the page, Chromium pauses it and room.start_video() without a gesture is refused:
    can_playback_video False with video_playback_changed(False), no frames; a real WebDriver click whose handler
    calls room.start_video() plays it: True, the event, frames again."""
    from selenium.webdriver.common.by import By

    driver = policy_driver
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")
    driver.get(f"{dist_url}/autoplay.html")
    deadline = time.monotonic() + 60
    while driver.execute_script("return window.lkpw.state") == "booting":
        assert time.monotonic() < deadline, "Pyodide did not boot"
        time.sleep(0.2)
    driver.execute_script(ADD_VIDEO_BUTTON)

    token = make_token("video-autoplay-page", room_name)
    _run(driver, WORKER_PRELUDE)
    joined = _run(driver, VIDEO_JOIN.format(url=LIVEKIT_URL, token=token, peer="py-peer"))
    auto, refused = joined["autoplayed"], joined["refused"]
    assert auto["changes"] == [] and auto["can"] is True and auto["events"] == ["started"], joined
    assert auto["paused"] is False and auto["frames"] >= 10, joined
    assert refused["result"] is False and refused["changes"] == [False] and refused["can"] is False, joined
    assert refused["paused"] is True and refused["frames"] == 0 and joined["activation"] is False, joined

    driver.find_element(By.ID, "start-video").click()
    after = _run(driver, VIDEO_AFTER_CLICK)
    assert after["result"] is True and after["can"] is True and after["changes"] == [False, True], after
    assert after["paused"] is False and after["frames"] >= 10 and after["audio_can"] is True, after
    assert after["ended"] is True, after
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after


WORKER_VIDEO_JOIN = """
from livekit_pyweb import Room

room = Room()
changes, track_events = [], []
room.on("video_playback_changed", changes.append)
await room.connect({url!r}, {token!r})
assert room._platform.name == "bridge"

def remote_video():
    p = room.remote_participants.get({peer!r})
    for pub in (p.track_publications.values() if p else []):
        if pub.track is not None and pub.kind.name == "KIND_VIDEO":
            return pub.track
await wait_until(lambda: remote_video() is not None, 30, "the peer's video")
video = remote_video()
video.on("video_playback_started", lambda: track_events.append("started"))
video.on("video_playback_failed", track_events.append)
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
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
state["logged"] = logged
json.dumps(state)
"""

FRAMES_OF = """
const el = livekitPyweb.hosts.get(arguments[0]).element(arguments[1]);
const done = arguments[arguments.length - 1];
const f0 = el.getVideoPlaybackQuality().totalVideoFrames;
setTimeout(() => done([el.paused, el.getVideoPlaybackQuality().totalVideoFrames - f0]), 1000);
"""

ADD_PAGE_VIDEO_BUTTON = """
const button = document.createElement("button");
button.id = "start-video";
button.textContent = "Start video";
button.onclick = () => { window.startVideoResult = livekitPyweb.startVideo(); };
document.body.prepend(button);
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
    run_worker(driver, WORKER_PRELUDE)
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

    driver.execute_script(ADD_PAGE_VIDEO_BUTTON)
    driver.find_element(By.ID, "start-video").click()
    after = run_worker(driver, WORKER_VIDEO_AFTER_CLICK)
    assert after["changes"] == [False, True] and after["can"] is True and after["again"] is True, after
    assert driver.execute_script("return window.startVideoResult.then((r) => r)") == []
    assert after["leaked_proxies"] == 0 and after["logged"] == [], after
