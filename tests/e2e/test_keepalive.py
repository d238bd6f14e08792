"""Signal keepalive against livekit-server 1.13.5, whose ping interval (5 s) and timeout (15 s) are fixed
(pkg/rtc/participant.go PingIntervalSeconds/PingTimeoutSeconds): a session outlives several intervals on our pings,
and a server that stops answering is given up after the timeout."""

from __future__ import annotations

import urllib.request

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import JOIN, logged_warnings, open_page

LONG_SESSION = """
video = await remote_track("py-peer", "VIDEO")
video_element = video.attach()
js.document.body.append(video_element)
session = room._engine.session
await wait_until(lambda: session.pongs_received >= 3, 25, "three pongs")
since_join_s = (js.performance.now() - t0) / 1000
first = int((await video.get_stats()).get("framesDecoded", 0))
await asyncio.sleep(1.0)
last = int((await video.get_stats()).get("framesDecoded", 0))
json.dumps({"pongs": session.pongs_received, "rtt_ms": session.rtt_ms, "interval": session.ping_interval,
            "timeout": session.ping_timeout, "since_join_s": since_join_s, "frames": [first, last],
            "state": state_name(room), "log": log})
"""


@pytest.mark.driver_timeout(120)
def test_ping_loop_keeps_a_long_session_alive(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    open_page(selenium)
    run_py(selenium, JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), single=True))
    since = peer.mark()
    result = run_py(selenium, LONG_SESSION)
    print("keepalive:", {k: result[k] for k in ("pongs", "rtt_ms", "since_join_s", "frames")})
    assert (result["interval"], result["timeout"]) == (5.0, 15.0), result  # what the server asked for
    # Pings every 5 s, each answered: the third pong arrives about 15 s after the join.
    assert result["pongs"] >= 3 and 14.0 <= result["since_join_s"] <= 20.0, result
    # Measured from our own ping timestamps: set by the pongs (21-65 ms measured here, Pyodide's event loop
    # included), and sane.
    assert 0 < result["rtt_ms"] < 1000, result
    # Still in the room and still decoding at the end, and the peer never saw us leave.
    assert result["state"] == "connected" and "disconnected" not in [e[0] for e in result["log"]], result
    assert result["frames"][1] > result["frames"][0] > 0, result
    assert not [e for e in peer.events[since:] if e["event"] == "participant_disconnected"]
    assert logged_warnings(selenium) == []


JOIN_PRIVATE = """
room = Room(RoomOptions())
record(room)
await room.connect({url!r}, {token!r})
json.dumps(state_name(room))
"""

WAIT_DISCONNECTED = """
t_stop = js.performance.now()
await wait_until(lambda: any(e[0] == "disconnected" for e in log), 25, "disconnected")
json.dumps({"after_s": (js.performance.now() - t_stop) / 1000, "log": log, "logged": logged,
            "state": state_name(room)})
"""


@pytest.mark.driver_timeout(120)
def test_a_silent_server_is_given_up_after_the_ping_timeout(selenium_standalone, private_server, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    state = run_py(selenium, JOIN_PRIVATE.format(url=private_server.url, token=make_token("pyweb", room_name)))
    assert state == "connected"
    private_server.pause()  # SIGSTOP: sockets stay open, nothing is answered
    try:
        result = run_py(selenium, WAIT_DISCONNECTED)
    finally:
        private_server.resume()
    print("ping timeout: disconnected", result["after_s"], "s after the server stopped")
    # The last message before the pause was at most one ping interval (5 s) old, so the 15 s timeout fires
    # 10 to 15 s after the pause (plus the time to notice).
    assert 9.0 <= result["after_s"] <= 17.0, result
    reason = [e for e in result["log"] if e[0] == "disconnected"][0][1]
    assert reason == "SIGNAL_CLOSE", result
    assert any("no signal traffic for" in r for r in result["logged"]), result["logged"]  # the ping timeout, not a socket close
    assert result["state"] == "disconnected"
    assert [r for r in result["logged"] if "no signal traffic" not in r] == [], result["logged"]
    # The shared server was not touched.
    with urllib.request.urlopen(LIVEKIT_URL.replace("ws://", "http://"), timeout=2) as response:
        assert response.status == 200
