"""Cross-browser: the demo page (livekit_pyweb on Pyodide) in Firefox ESR exchanges camera and microphone with the
official Python SDK through the real server. Firefox is where our ClientInfo choice matters most: we report
``browser=Firefox`` so the server applies its Firefox rules (no audio RED, no ICE-lite, no encoding toggling), and
we join without the offer in the JoinRequest, as livekit-client does there."""

from __future__ import annotations

import time
import urllib.parse

import livekit_pyweb

from .conftest import LIVEKIT_URL, FirefoxPage, make_token, server_client_info
from .page import AUDIO_ENERGY_PER_S_LOUD


def _frames_from(state: dict, identity: str, kind: str, key: str = "framesDecoded") -> float:
    return max((t.get(key, 0) for t in state.get("remote", {}).values()
                if t.get("identity") == identity and t.get("kind") == kind), default=0)


def test_firefox_page_and_python_sdk_exchange_media(py_peer, room_name, dist_url):
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    url = f"{dist_url}/index.html?" + urllib.parse.urlencode(
        {"url": LIVEKIT_URL, "token": make_token("firefox", room_name), "audio_processing": "0"})
    page = FirefoxPage(url, "lkpw")
    try:
        state = page.wait_for(lambda s: s.get("published") and _frames_from(s, "py-peer", "video") >= 30, 120,
                              "30 decoded frames of the peer's video")
        assert state["state"] == "connected"
        # The page plays the peer's tone: received audio energy grows (measured at playout) ...
        start = page.wait_for(lambda s: _frames_from(s, "py-peer", "audio", "totalSamplesDuration") > 0, 20,
                              "the peer's audio playing")
        energy0 = (_frames_from(start, "py-peer", "audio", "totalAudioEnergy"),
                   _frames_from(start, "py-peer", "audio", "totalSamplesDuration"))
        time.sleep(1.5)
        now = page.wait_for(lambda s: _frames_from(s, "py-peer", "audio", "totalSamplesDuration") >= energy0[1] + 1.0,
                            10, "a second of the peer's audio played")
        seconds = _frames_from(now, "py-peer", "audio", "totalSamplesDuration") - energy0[1]
        rate = (_frames_from(now, "py-peer", "audio", "totalAudioEnergy") - energy0[0]) / seconds
        print("firefox: received audio energy per second:", rate)
        assert rate >= AUDIO_ENERGY_PER_S_LOUD, (rate, now["remote"])
        # ... and the peer decodes Firefox's camera and hears its (fake, raw) microphone.
        peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "firefox" and e["kind"] == "video"
                      and e["count"] >= 30, 40, "frames of Firefox's camera at the peer")
        peer.wait_audio("firefox", loud=True, windows=3, timeout=20, what="Firefox's microphone at the peer")
        # What the server keyed its Firefox rules on.
        client = server_client_info(room_name, "firefox")
        assert client["sdk"] == "PYTHON" and client["version"] == livekit_pyweb.__version__, client
        assert client["browser"] == "Firefox" and client["protocol"] == 17, client
        print("firefox demo page timings (ms):", {k: round(v) for k, v in state.get("timings", {}).items()})
    finally:
        page.close()
