"""PyScript: web/pyscript/room_app.py, unchanged, on the page's main thread (main.html, ``<script type="py">``) and
in a Web Worker (worker.html, ``<script type="py" worker>``, its Room served by the page's host through the bridge),
against the real server with the official Python SDK as the other participant. Each page decodes the peer's camera
(frames growing in the page's own <video>) and hears its tone; the peer decodes our camera and hears our
microphone. Served by conftest's ``dist_url`` (COOP/COEP under /pyscript/, as build/demo.py), everything offline:
PyScript's core from dist/pyscript/, Pyodide and the wheels from dist/.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, server_saw_leave
from .page import AUDIO_ENERGY_PER_S_LOUD

READ_PAGE = """
const state = document.getElementById("lkpw-state");
const videos = [...document.querySelectorAll(".tile[data-remote] video")].map(v => ({
  remote: v.closest(".tile").dataset.remote,
  frames: v.getVideoPlaybackQuality().totalVideoFrames,
  width: v.videoWidth,
}));
const hosts = globalThis.livekitPyweb && globalThis.livekitPyweb.hosts;
const discovery = window.lkpwDiscovery;
return JSON.stringify({
  discovery: discovery ? {scoped: discovery.scoped, unscoped: discovery.unscoped} : null,
  state: state ? state.textContent : null,
  status: (document.getElementById("status") || {}).textContent,
  isolated: globalThis.crossOriginIsolated,
  videos,
  hosts: hosts ? hosts.size : null,
  boot: globalThis.lkpwBoot ? globalThis.lkpwBoot.snapshot : null,
});
"""


def _read(driver: Any) -> dict[str, Any]:
    page = json.loads(driver.execute_script(READ_PAGE))
    try:
        page["app"] = json.loads(page["state"] or "{}")
    except ValueError:
        page["app"] = {}
    return page


def _console(driver: Any) -> list[str]:
    """The page's console, for failure messages (the WebSocket URL with the token is left out)."""
    try:
        entries = driver.get_log("browser")
    except Exception:  # the driver may not keep browser logs
        return []
    return [f"{e['level']} {e['message'][:300]}" for e in entries if "access_token=" not in e["message"]][-25:]


def _wait_page(driver: Any, predicate: Any, timeout: float, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        page = _read(driver)
        if page["app"].get("state") == "error":
            raise AssertionError(f"the page failed: {page['app'].get('error')}; status={page['status']!r}; "
                                 f"console: {_console(driver)}")
        if predicate(page):
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}: status={page['status']!r}, "
                                 f"state={page['app']}, videos={page['videos']}; console: {_console(driver)}")
        time.sleep(0.25)


def _remote(page: dict[str, Any], identity: str, kind: str) -> dict[str, Any]:
    entries = [e for e in page["app"].get("remote", {}).values() if e["identity"] == identity and e["kind"] == kind]
    return entries[0] if entries else {}


def _page_frames(page: dict[str, Any], identity: str) -> int:
    return max((v["frames"] for v in page["videos"] if v["remote"] == identity), default=0)


@pytest.mark.driver_timeout(150)
@pytest.mark.parametrize("mode", ["main", "worker"])
def test_pyscript_page_and_python_sdk_exchange_media(selenium_standalone, py_peer, room_name, dist_url, mode):
    driver = selenium_standalone.driver
    identity = f"pyscript-{mode}"
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")

    t0 = time.monotonic()
    driver.get(f"{dist_url}/pyscript/{mode}.html?"
               + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": make_token(identity, room_name)}))
    joined = _wait_page(driver, lambda p: p["app"].get("state") == "connected", 60, "the page to join")
    boot_s = time.monotonic() - t0
    assert joined["isolated"] is True  # COOP/COEP reached the page (worker mode needs them)
    app = joined["app"]
    assert app["mode"] == mode and app["identity"] == identity and app["room"] == room_name, app

    # We decode the peer's camera: framesDecoded (the receiver's stats, read by the page's Python) and the frames
    # shown by the page's own <video> (appended on the main thread, mounted by the host from the worker) grow.
    first = _wait_page(driver, lambda p: _remote(p, "py-peer", "video").get("framesDecoded", 0) >= 10
                       and _page_frames(p, "py-peer") >= 10, 40, "the peer's video decoded in the page")
    page = _wait_page(driver, lambda p: _remote(p, "py-peer", "video")["framesDecoded"]
                      >= _remote(first, "py-peer", "video")["framesDecoded"] + 20
                      and _page_frames(p, "py-peer") >= _page_frames(first, "py-peer") + 20, 20,
                      "the peer's video to keep decoding")
    assert [v["width"] for v in page["videos"] if v["remote"] == "py-peer"][0] > 0
    assert sorted(page["app"]["published"]) == ["CAMERA", "MICROPHONE"], page["app"]
    if mode == "worker":
        assert page["hosts"] == 1, page  # the page's host (lkpw-host.mjs) served the worker's room
        # ... found through this page's id, read from PyScript's proxy of the document: no other tab answers it.
        assert page["discovery"] == {"scoped": 1, "unscoped": 0}, page
    else:
        assert page["hosts"] is None, page  # no bridge on the main thread
        # PyScript booted Pyodide through /loader.mjs from the build's memory snapshot (in worker mode the loader
        # runs in the worker, whose globals the page cannot read).
        assert page["boot"] == {"used": True, "reason": None}, page

    # We hear the peer's tone: its audio plays in the page (energy measured at playout).
    audio0 = _remote(page, "py-peer", "audio")
    page = _wait_page(driver, lambda p: _remote(p, "py-peer", "audio").get("totalSamplesDuration", 0)
                      >= audio0.get("totalSamplesDuration", 0) + 1.5, 15, "1.5 s of the peer's audio played")
    audio1 = _remote(page, "py-peer", "audio")
    seconds = audio1["totalSamplesDuration"] - audio0.get("totalSamplesDuration", 0)
    energy = (audio1["totalAudioEnergy"] - audio0.get("totalAudioEnergy", 0)) / seconds
    assert audio1["bytesReceived"] > 0 and energy >= AUDIO_ENERGY_PER_S_LOUD, (audio0, audio1)

    # The peer decodes our camera and hears our microphone (Chromium's fake one beeps).
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == identity and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the peer")
    peer.wait_audio(identity, loud=True, windows=2, timeout=20, what="our microphone at the peer")
    print(f"PyScript {mode}: page load -> connected {boot_s:.1f} s; timings {page['app'].get('timings')}")

    # Leaving the page leaves the room at once. On the main thread the SDK sends a leave on pagehide. A worker is
    # killed by the navigation before it runs anything, so there the signalling socket lives in the page's host,
    # which sends the leave the engine handed it (ws.setGoodbye) in its own pagehide handler.
    since = peer.mark()
    t_leave = time.monotonic()
    driver.get("about:blank")
    peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == identity,
                  10, "the peer to see us leave", since=since)
    assert server_saw_leave(room_name, identity), f"no client-initiated leave from {identity} in the server log"
    print(f"PyScript {mode}: the peer saw us leave {time.monotonic() - t_leave:.1f} s after the page went away")
