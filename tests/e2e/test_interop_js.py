"""Interop with livekit-client: the demo page (our loader + livekit_pyweb) in one tab and the JS SDK in another tab
of the same Chromium join one room; each decodes the other's camera."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from .conftest import LIVEKIT_URL, make_token


def _state(driver, handle: str, name: str) -> dict:
    driver.switch_to.window(handle)
    raw = driver.execute_script(f"return JSON.stringify(window.{name} || null)")
    return json.loads(raw) or {}


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
    ours = base + "/index.html?" + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": make_token("pyweb-demo", room_name)})
    theirs = base + "/js-peer.html?" + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": make_token("js-peer", room_name)})
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
    # Audio flows both ways too.
    assert any(t["kind"] == "audio" for t in py_state["remote"].values())
    assert any(t["kind"] == "audio" and t["bytesReceived"] > 0 for t in js_state["remote"].values())
