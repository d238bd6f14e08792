"""Interop with livekit-client: the demo page (our loader + livekit_pyweb) in one tab and the JS SDK in another tab
of the same Chromium join one room; each decodes the other's camera."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from .conftest import LIVEKIT_URL, make_token
from .page import AUDIO_ENERGY_PER_S_LOUD


def _state(driver, handle: str, name: str) -> dict:
    driver.switch_to.window(handle)
    raw = driver.execute_script(f"return JSON.stringify(window.{name} || null)")
    return json.loads(raw) or {}


def _audio(state: dict, identity: str) -> tuple[float, float]:
    """(totalAudioEnergy, totalSamplesDuration) of the audio track the page receives from ``identity``."""
    tracks = [t for t in state.get("remote", {}).values() if t.get("identity") == identity and t.get("kind") == "audio"]
    assert len(tracks) == 1, f"expected one audio track from {identity}: {state.get('remote')}"
    return float(tracks[0].get("totalAudioEnergy", 0)), float(tracks[0].get("totalSamplesDuration", 0))


def _video_frames(state: dict, identity: str) -> int:
    return max(
        (int(t.get("framesDecoded", 0)) for t in state.get("remote", {}).values()
         if t.get("identity") == identity and t.get("kind") == "video"),
        default=0,
    )


@pytest.mark.driver_timeout(120)
def test_demo_page_and_livekit_client_decode_each_other(selenium_standalone, livekit_server, room_name):
    driver = selenium_standalone.driver
    base = selenium_standalone.base_url
    # audio_processing=0: both microphones raw (see page.RAW_MIC), so the levels measured are the beeps sent.
    ours = base + "/index.html?" + urllib.parse.urlencode(
        {"url": LIVEKIT_URL, "token": make_token("pyweb-demo", room_name), "audio_processing": "0"})
    theirs = base + "/js-peer.html?" + urllib.parse.urlencode(
        {"url": LIVEKIT_URL, "token": make_token("js-peer", room_name), "audio_processing": "0"})
    driver.get(ours)
    py_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(theirs)
    js_tab = driver.current_window_handle

    deadline = time.monotonic() + 90
    while True:
        py_state, js_state = _state(driver, py_tab, "lkpw"), _state(driver, js_tab, "jsPeer")
        for state, who in ((py_state, "livekit_pyweb page"), (js_state, "livekit-client page")):
            assert state.get("state") != "error", f"{who}: {state.get('error')}"
        ours_decoded = _video_frames(py_state, "js-peer")
        theirs_decoded = _video_frames(js_state, "pyweb-demo")
        if ours_decoded >= 30 and theirs_decoded >= 30:
            break
        assert time.monotonic() < deadline, (
            f"decoded frames: ours of js-peer={ours_decoded}, js-peer of ours={theirs_decoded}; "
            f"py={py_state}, js={js_state}"
        )
        time.sleep(0.5)
    assert py_state["state"] == "connected" and py_state.get("published")
    # The page recorded its timings (printed for the closing note; not asserted as numbers).
    timings = py_state["timings"]
    for key in ("pyodideBootMs", "wheelLoadImportMs", "connectMs", "firstRemoteFrameMs"):
        assert timings.get(key, 0) > 0, timings
    print("demo page timings (ms):", {k: round(v) for k, v in timings.items()})
    # Audio flows both ways, with sound in it: over at least 1.5 s of playout, each page hears the other's
    # microphone (Chromium's fake microphone beeps) with more than AUDIO_ENERGY_PER_S_LOUD of energy per second.
    start = {"ours": _audio(py_state, "js-peer"), "theirs": _audio(js_state, "pyweb-demo")}
    deadline = time.monotonic() + 15
    while True:
        time.sleep(0.5)
        now = {"ours": _audio(_state(driver, py_tab, "lkpw"), "js-peer"),
               "theirs": _audio(_state(driver, js_tab, "jsPeer"), "pyweb-demo")}
        seconds = {k: now[k][1] - start[k][1] for k in now}
        if min(seconds.values()) >= 1.5:
            break
        assert time.monotonic() < deadline, f"audio playout did not advance: start={start}, now={now}"
    rates = {k: (now[k][0] - start[k][0]) / seconds[k] for k in now}
    print("received audio energy per second (ours of js-peer, js-peer of ours):", rates)
    assert rates["ours"] >= AUDIO_ENERGY_PER_S_LOUD and rates["theirs"] >= AUDIO_ENERGY_PER_S_LOUD, (rates, now)
