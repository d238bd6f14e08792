"""Page visibility and audio (issue 9 item 7), as livekit-client 2.x does it: only on iOS (``Room.startAudio``),
a silent ``<audio>`` the first ``start_audio()`` puts on the page and plays with the remote audio, unplugged
(``srcObject = null``) while the page is hidden, plugged back with ``start_audio()`` run again (which resumes the
remote audio) when it is visible again, removed on disconnect. We cannot run iOS here: the room's platform is
told an iPhone's user agent (the only thing faked; the gate itself is unit-tested, tests/unit/test_audio_session.py)
and the page's visibility is flipped the way a page sees it (``document.visibilityState`` and a
``visibilitychange`` event). Real browser objects, the real server, the official Python SDK publishing audio; on
the main thread (direct port) and in a Web Worker (the page host serves the port across the bridge)."""

from __future__ import annotations

import time

import pytest

from .conftest import LIVEKIT_URL, make_token
from .page import open_python

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/18.5 Mobile/15E148 Safari/604.1")

JOIN = """
from livekit_pyweb import Room
room = Room()
changes = []
room.on("audio_playback_changed", changes.append)
await room.connect({url!r}, {token!r})

def remote_audio():
    p = room.remote_participants.get("py-peer")
    for pub in (p.track_publications.values() if p else []):
        if pub.track is not None and pub.kind.name == "KIND_AUDIO":
            return pub.track
await wait_until(lambda: remote_audio() is not None, 30, "the peer's audio")
audio = remote_audio()
element = audio.attach()
if room._platform.name == "bridge":
    element.mount("body")
else:
    js.document.body.append(element)
room._platform.user_agent = lambda: {ua!r}  # this page plays an iPhone's (see the module docstring)
started = await room.start_audio()
json.dumps({{"started": started, "platform": room._platform.name}})
"""

LEAVE = """
await room.disconnect()
json.dumps({"changes": changes, "leaked_proxies": live_proxy_count() - base_proxies, "logged": logged})
"""

# The page's side, read and driven from the test (the same for both ports).
PAGE_STATE = """
const silent = document.getElementById("livekit-dummy-audio-el");
const remote = [...document.querySelectorAll("audio")].filter((el) => el !== silent);
return {silent: !!silent, plugged: !!(silent && silent.srcObject),
        silentTrack: silent && silent.srcObject ? silent.srcObject.getAudioTracks().map((t) => t.readyState) : [],
        silentPaused: silent ? silent.paused : null, remote: remote.length,
        remotePaused: remote.map((el) => el.paused)};
"""
SET_HIDDEN = """
if (arguments[0]) Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
else delete document.visibilityState;  // the prototype's getter again: "visible"
document.dispatchEvent(new Event("visibilitychange"));
"""


def _wait(driver, predicate, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script(PAGE_STATE)
        if predicate(state):
            return state
        assert time.monotonic() < deadline, f"{what}: {state}"
        time.sleep(0.1)


@pytest.mark.driver_timeout(180)
@pytest.mark.parametrize("where", ["main", "worker"])
def test_on_ios_the_silent_audio_element_follows_page_visibility(selenium_standalone, py_peer, room_name, dist_url,
                                                                 where):
    peer = py_peer("py-peer", room_name, video=False, audio=True)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "audio", 30, "its audio to publish")
    driver = selenium_standalone.driver
    run = open_python(selenium_standalone, dist_url, where)
    joined = run(JOIN.format(url=LIVEKIT_URL, token=make_token("ios-page", room_name), ua=IPHONE))
    assert joined == {"started": True, "platform": "direct" if where == "main" else "bridge"}, joined
    # start_audio() put the silent element on the page, playing a live silent track, beside the remote audio
    _wait(driver, lambda s: s["silent"] and s["plugged"] and s["silentTrack"] == ["live"]
          and s["silentPaused"] is False and s["remote"] == 1 and s["remotePaused"] == [False], "playing")
    # hidden: unplugged (no lock-screen controls for it); iOS pauses the page's audio meanwhile (done by hand here)
    driver.execute_script(SET_HIDDEN, True)
    _wait(driver, lambda s: s["silent"] and not s["plugged"], "unplugged while hidden")
    driver.execute_script("document.querySelectorAll('audio').forEach((el) => el.pause());")
    # visible again: plugged back and start_audio() again, which plays the remote audio again
    driver.execute_script(SET_HIDDEN, False)
    _wait(driver, lambda s: s["plugged"] and s["silentPaused"] is False and s["remotePaused"] == [False],
          "plugged back and the remote audio resumed")
    left = run(LEAVE)
    assert left == {"changes": [], "leaked_proxies": 0, "logged": []}, left
    _wait(driver, lambda s: not s["silent"], "the silent element removed on disconnect")
