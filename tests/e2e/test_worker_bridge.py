"""The worker bridge in a real browser: livekit_pyweb runs in a plain module Worker (web/worker.html + worker.mjs,
no RTCPeerConnection there) and the page serves the browser objects (lkpw-host.mjs, serveDiscovery()).

* the ports themselves, with no server: two peer connections looped, a data channel, capture, attach, typed errors;
* the walking skeleton through the bridge against the real server and the official Python SDK peer;
* no host: UnsupportedError within start_timeout;
* the page host going away mid-call: BridgeError within two heartbeat intervals; the worker going away: the host
  releases everything;
* the page going away: its host sends the worker's leave on the signalling socket it holds (the worker is killed
  before it runs anything), so the peer sees us go at once;
* two worker pages in two tabs: each worker binds its own page's host (discovery is scoped by a page id).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, server_saw_leave


def open_worker_page(driver: Any, dist_url: str, host: str = "page") -> None:
    driver.get(f"{dist_url}/worker.html?host={host}")
    driver.set_script_timeout(180)


def run_worker(driver: Any, code: str) -> Any:
    """Run async Python in the page's worker; its last expression must be a JSON string, returned decoded."""
    out = driver.execute_async_script(
        """
        const code = arguments[0], done = arguments[arguments.length - 1];
        const go = () => window.runInWorker
          ? runInWorker(code).then((v) => done({ok: true, value: v}), (e) => done({ok: false, error: String(e)}))
          : setTimeout(go, 50);
        go();
        """,
        code,
    )
    if not out["ok"]:
        raise AssertionError(f"worker Python failed: {out['error']}")
    return json.loads(out["value"])


def start_in_worker(driver: Any, code: str) -> None:
    """Start async Python in the worker without waiting for it (its result is dropped)."""
    driver.execute_script("window.runInWorker(arguments[0]).catch(() => {});", code)


PORTS = """
import asyncio, json
from livekit_pyweb._browser import live_proxy_count
from livekit_pyweb._browser.bridge import BridgePlatform, BridgeElement
from livekit_pyweb.errors import DeviceError, NegotiationError
import js, logging
logged = []
class _C(logging.Handler):
    def emit(self, r): logged.append(f"{r.levelname} {r.name}: {r.getMessage()}")
logging.getLogger("livekit_pyweb").addHandler(_C(logging.WARNING))

no_rtc = not hasattr(js, "RTCPeerConnection")
base = live_proxy_count()
p = BridgePlatform()
await p.start()
a = await p.create_peer_connection({})
b = await p.create_peer_connection({})
a.on_ice_candidate = lambda c: asyncio.ensure_future(b.add_ice_candidate(c))
b.on_ice_candidate = lambda c: asyncio.ensure_future(a.add_ice_candidate(c))
states = []
a.on_connection_state = states.append
received, echoed, arriving = [], [], []
def on_dc(ch):
    def on_message(data):
        received.append(data)
        ch.send(data[::-1])
    ch.on_message = on_message
b.on_data_channel = on_dc
b.on_track = arriving.append
opened = asyncio.get_running_loop().create_future()
dc = await a.create_data_channel("chat", ordered=True)
dc.on_message = echoed.append
dc.on_open = lambda: opened.set_result(True)
media = await p.get_user_media({"video": {"width": 320, "height": 240}, "audio": True})
video = [t for t in media if t.kind == "video"][0]
sender = await a.add_send_transceiver(video, None)
offer = await a.create_offer()
await a.set_local_description("offer", offer)
await b.set_remote_description("offer", offer)
answer = await b.create_answer()
await b.set_local_description("answer", answer)
await a.set_remote_description("answer", answer)
await asyncio.wait_for(opened, 10)
dc.send(b"\\x00hello\\xff")
for _ in range(100):
    if echoed:
        break
    await asyncio.sleep(0.05)
remote = arriving[0]
shown = remote.track.attach().mount("body")
local = video.attach()
frames = 0
for _ in range(100):
    stats = await remote.receiver.get_stats()
    frames = max([int(s.get("framesDecoded", 0)) for s in stats if s.get("type") == "inbound-rtp"] + [0])
    if frames >= 10:
        break
    await asyncio.sleep(0.1)
mid = await p.counts()
json.dumps({"channel": p.channel, "handle": shown.handle, "mid": mid, "frames": frames})
"""

PORTS_END = """
errors = {}
try:
    await a.set_remote_description("answer", "not sdp")
except NegotiationError as exc:
    errors["sdp"] = type(exc).__name__
try:
    await p.get_user_media({"video": {"deviceId": {"exact": "no-such-camera"}}})
except DeviceError as exc:
    errors["device"] = [exc.reason.name, exc.name]
await a.add_ice_candidate({"candidate": "candidate:garbage", "sdpMid": "0", "sdpMLineIndex": 0})
await a.remove_sender(sender)
a.close(); b.close()
for t in media:
    t.detach(local)
    t.stop()
    t.release()
remote.track.release()
await asyncio.sleep(0.2)
end = await p.counts()
proxies_open = live_proxy_count() - base
p.close()
json.dumps({"no_rtc": no_rtc, "ua": p.user_agent(), "states": states, "received": [d.hex() for d in received],
            "echoed": [d.hex() for d in echoed], "kinds": sorted(t.kind for t in media),
            "settings": video.settings.get("width"), "remote": [remote.track.kind, remote.mid, remote.stream_ids],
            "end": end, "errors": errors, "logged": logged,
            "proxies_open": proxies_open, "proxies": live_proxy_count() - base})
"""


@pytest.mark.driver_timeout(120)
def test_bridge_ports_in_a_worker(selenium_standalone, dist_url):
    """Every port op through the bridge, with no server: two looped peer connections, a data channel (bytes both
    ways), capture, a remote video decoded and rendered in a page element, typed errors, and nothing left after."""
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    m = run_worker(driver, PORTS)
    assert m["frames"] >= 10
    assert m["mid"]["pcs"] == 2 and m["mid"]["elements"] == 2, m["mid"]
    width = driver.execute_script("return livekitPyweb.hosts.get(arguments[0]).element(arguments[1]).videoWidth",
                                  m["channel"], m["handle"])
    assert width == 320
    r = run_worker(driver, PORTS_END)
    assert r["no_rtc"] is True  # a real worker: the bridge is the only way
    assert "Chrome" in r["ua"]
    assert "connected" in r["states"]
    assert r["received"] == ["0068656c6c6fff"] and r["echoed"] == ["ff6f6c6c656800"]
    assert r["kinds"] == ["audio", "video"] and r["settings"] == 320
    assert r["remote"][0] == "video" and r["remote"][1] != "" and len(r["remote"][2]) == 1
    assert r["errors"] == {"sdp": "NegotiationError", "device": ["NotFound", "OverconstrainedError"]}
    assert len(r["logged"]) == 1 and "addIceCandidate failed" in r["logged"][0], r["logged"]
    assert r["end"] == {"handles": 0, "pcs": 0, "elements": 0}
    assert r["proxies_open"] == 1  # the channel's listener, until close()
    assert r["proxies"] == 0
    assert driver.execute_script("return livekitPyweb.hosts.size") == 0  # the host closed on bye


@pytest.mark.driver_timeout(150)
def test_walking_skeleton_in_a_worker_with_python_sdk(selenium_standalone, dist_url, py_peer, room_name):
    driver = selenium_standalone.driver
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")
    open_worker_page(driver, dist_url)
    token = make_token("pyweb-worker", room_name)
    joined = run_worker(driver, f"import worker_app, json\n"
                                f"json.dumps(await worker_app.join({LIVEKIT_URL!r}, {token!r}))")
    assert joined["state"] == "CONN_CONNECTED" and joined["platform"] == "bridge"
    assert joined["remotes"] == ["py-peer"] and joined["published"] == ["SOURCE_CAMERA", "SOURCE_MICROPHONE"]
    assert joined["native"] == [True, True]  # no JS track in the worker: handles only

    # We decode the peer's video: framesDecoded grows, read through the bridge (track.get_stats()).
    decoded = run_worker(driver, "import worker_app, json\njson.dumps(await worker_app.decode('py-peer'))")
    frames = [f for f in decoded["frames"] if f > 0]
    assert len(frames) >= 3 and frames[-1] > frames[0] and frames[-1] >= 30, decoded["frames"]
    channel, handle = decoded["element"]["channel"], decoded["element"]["handle"]
    shown = driver.execute_script(
        "const el = livekitPyweb.hosts.get(arguments[0]).element(arguments[1]);"
        "return el && [el.tagName, el.videoWidth, el.parentElement.id];", channel, handle)
    assert shown[0] == "VIDEO" and shown[1] > 0 and shown[2] == "remote", shown

    # The peer decodes our camera, captured on the page for the worker.
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == "pyweb-worker" and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of our camera at the peer")

    left = run_worker(driver, "import worker_app, json\njson.dumps(await worker_app.leave())")
    peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == "pyweb-worker", 20,
                  "the peer to see us leave")
    assert left["state"] == "CONN_DISCONNECTED"
    assert left["counts"] == {"handles": 0, "pcs": 0, "elements": 0}, left
    assert left["proxies_while_open"] == 1 and left["proxies"] == 0, left
    assert left["logged"] == [], left["logged"]
    assert driver.execute_script("return livekitPyweb.hosts.size") == 0


NO_HOST = """
import asyncio, json, time
from livekit_pyweb import Room, UnsupportedError
from livekit_pyweb._browser import live_proxy_count
from livekit_pyweb._browser.bridge import BridgePlatform
base = live_proxy_count()
t0 = time.monotonic()
try:
    await BridgePlatform(start_timeout=2.0).start()
    outcome = "started"
except UnsupportedError as exc:
    outcome = str(exc)
elapsed = time.monotonic() - t0
room = Room()  # platform "auto": no RTCPeerConnection here, so the bridge
try:
    await room.connect("ws://127.0.0.1:9", "x")
    via_room = "connected"
except UnsupportedError as exc:
    via_room = type(exc).__name__
json.dumps({"outcome": outcome, "elapsed": elapsed, "via_room": via_room, "proxies": live_proxy_count() - base})
"""


@pytest.mark.driver_timeout(60)
def test_a_worker_with_no_page_host_gets_unsupported_error(selenium_standalone, dist_url):
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url, host="none")
    r = run_worker(driver, NO_HOST)
    assert "no livekit_pyweb page host answered" in r["outcome"] and "serveDiscovery()" in r["outcome"], r
    assert 2.0 <= r["elapsed"] < 2.5, r
    assert r["via_room"] == "UnsupportedError"
    assert r["proxies"] == 0


KILL_SETUP = """
import asyncio, json, time, js
from livekit_pyweb import BridgeError
from livekit_pyweb._browser.bridge import BridgePlatform
INTERVAL = 0.5
platform = BridgePlatform(interval=INTERVAL)
await platform.start()
lost_at = []
platform.on_lost(lambda why: lost_at.append((time.monotonic(), why)))
pc = await platform.create_peer_connection({})
tracks = await platform.get_user_media({"video": True})
last_ok = None
failure = None
calls = 0
async def ping_forever():
    global last_ok, failure, calls
    while True:
        try:
            await pc.get_stats()
            last_ok = time.monotonic()
            calls += 1
        except Exception as exc:
            failure = (time.monotonic(), type(exc).__name__, str(exc))
            return
pinger = asyncio.ensure_future(ping_forever())
await asyncio.sleep(0.5)
json.dumps({"calls": calls, "channel": platform.channel})
"""

KILL_RESULT = """
for _ in range(100):
    if failure is not None:
        break
    await asyncio.sleep(0.05)
json.dumps({"failure": failure, "gap": failure[0] - last_ok if failure else None, "lost": lost_at,
            "lost_gap": lost_at[0][0] - last_ok if lost_at else None, "interval": INTERVAL})
"""


@pytest.mark.driver_timeout(60)
def test_the_page_host_going_away_mid_call_gives_bridge_error_within_two_intervals(selenium_standalone, dist_url):
    """The host lives in an iframe; removing the iframe kills it with no goodbye while calls are in flight."""
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url, host="iframe")
    setup = run_worker(driver, KILL_SETUP)
    assert setup["calls"] > 5
    driver.execute_script("document.getElementById('host-frame').remove()")
    r = run_worker(driver, KILL_RESULT)
    assert r["failure"] is not None and r["failure"][1] == "BridgeError", r
    assert "stopped answering" in r["failure"][2], r
    # Two intervals of silence after the last reply, plus timer slack.
    assert r["gap"] <= 2 * r["interval"] + 0.25, r
    assert len(r["lost"]) == 1 and r["lost_gap"] <= 2 * r["interval"] + 0.25, r


@pytest.mark.driver_timeout(60)
def test_the_worker_going_away_makes_the_host_release_everything(selenium_standalone, dist_url):
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    setup = run_worker(driver, KILL_SETUP + "\nel = tracks[0].attach().mount('body')\nawait platform.ping()\n"
                                            "json.dumps({'channel': platform.channel})")
    channel = setup["channel"]
    before = driver.execute_script(
        "const h = livekitPyweb.hosts.get(arguments[0]); window.theHost = h; return h.counts();", channel)
    assert before["pcs"] == 1 and before["elements"] == 1 and before["handles"] == 2, before
    driver.execute_script("window.killedAt = performance.now(); lkpwWorker.terminate();")
    deadline = time.monotonic() + 5
    while driver.execute_script("return livekitPyweb.hosts.size") != 0:
        assert time.monotonic() < deadline, "the host did not close after the worker went away"
        time.sleep(0.05)
    after = driver.execute_script(
        "return {ms: performance.now() - killedAt, counts: theHost.counts(), closed: theHost.closed,"
        " inPage: document.querySelectorAll('video').length}")
    assert after["closed"] is True and after["counts"] == {"handles": 0, "pcs": 0, "elements": 0}, after
    assert after["inPage"] == 0, after
    assert after["ms"] <= 2 * 500 + 300, after  # two of the worker's 0.5 s intervals, plus the host's tick


@pytest.mark.driver_timeout(120)
def test_closing_the_worker_page_leaves_the_room_at_once(selenium_standalone, dist_url, py_peer, room_name):
    """The signalling socket lives in the page's host, which holds the engine's LeaveRequest (ws.setGoodbye) and
    sends it in its own pagehide handler: the peer sees us leave within 10 s (not the server's ~20 s timeout)."""
    driver = selenium_standalone.driver
    peer = py_peer("py-peer", room_name, video=False, audio=False)
    open_worker_page(driver, dist_url)
    identity = "pyweb-worker-leaver"
    joined = run_worker(driver, f"import worker_app, json\njson.dumps(await worker_app.join({LIVEKIT_URL!r}, "
                                f"{make_token(identity, room_name)!r}, camera=True, microphone=False))")
    assert joined["state"] == "CONN_CONNECTED" and joined["platform"] == "bridge", joined
    peer.wait_for(lambda e: e["event"] == "participant_connected" and e["identity"] == identity, 20,
                  "the peer to see us join")
    sockets = driver.execute_script(
        "const h = livekitPyweb.hosts.get(arguments[0]);"
        "return [...h._handles.values()].filter(e => e.type === 'ws').map(e => [e.obj.readyState, !!e.goodbye]);",
        joined["channel"])
    assert sockets == [[1, True]], sockets  # the signalling socket, open, holding its goodbye
    since = peer.mark()
    t0 = time.monotonic()
    driver.get("about:blank")
    peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == identity, 10,
                  "the peer to see us leave", since=since)
    print(f"worker page: the peer saw us leave {time.monotonic() - t0:.2f} s after the page went away")
    assert server_saw_leave(room_name, identity), f"no client-initiated leave from {identity} in the server log"


TAB_STATE = """
const d = window.lkpwDiscovery, hosts = livekitPyweb.hosts;
return {pageId: document.documentElement.dataset.lkpwHost, scoped: d.scoped, unscoped: d.unscoped,
        channels: [...hosts.keys()], counts: [...hosts.values()].map(h => h.counts())};
"""


@pytest.mark.driver_timeout(240)
def test_two_worker_pages_each_bind_their_own_host(selenium_standalone, dist_url, py_peer, room_name):
    """Two tabs of one origin, each a worker page serving discovery: each worker announces itself with its page's
    id (the worker's name, lkpw-host.mjs workerName()), so only its own page's host answers; each page holds its
    own worker's objects and shows the peer's video in its own document."""
    driver = selenium_standalone.driver
    peer = py_peer("py-peer", room_name, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")
    open_worker_page(driver, dist_url)
    tabs = {"tab-a": driver.current_window_handle}
    driver.switch_to.new_window("tab")
    open_worker_page(driver, dist_url)
    tabs["tab-b"] = driver.current_window_handle
    seen: dict[str, Any] = {}
    for identity, handle in tabs.items():  # tab-b's page serves discovery too while tab-a's worker joins, and back
        driver.switch_to.window(handle)
        joined = run_worker(driver, f"import worker_app, json\njson.dumps(await worker_app.join({LIVEKIT_URL!r}, "
                                    f"{make_token(identity, room_name)!r}, camera=False, microphone=False))")
        assert joined["state"] == "CONN_CONNECTED", joined
        page = run_worker(driver, "import json\nfrom livekit_pyweb._browser.bridge import page_id\n"
                                  "json.dumps(page_id())")
        seen[identity] = {"channel": joined["channel"], "worker_page_id": page}
    for identity, handle in tabs.items():
        driver.switch_to.window(handle)
        decoded = run_worker(driver, "import worker_app, json\njson.dumps(await worker_app.decode('py-peer'))")
        assert decoded["element"]["channel"] == seen[identity]["channel"], decoded["element"]
        state = driver.execute_script(TAB_STATE)
        shown = driver.execute_script(
            "const h = livekitPyweb.hosts.get(arguments[0]); const el = h && h.element(arguments[1]);"
            "return el && [el.tagName, el.videoWidth, el.parentElement.id];",
            decoded["element"]["channel"], decoded["element"]["handle"])
        seen[identity].update(state=state, shown=shown)
    a, b = seen["tab-a"], seen["tab-b"]
    assert a["state"]["pageId"] != b["state"]["pageId"], seen
    for tab in (a, b):
        assert tab["worker_page_id"] == tab["state"]["pageId"], seen  # the worker read its page's id (its name)
        assert tab["state"]["channels"] == [tab["channel"]], seen  # this page hosts its own worker only
        assert tab["state"]["scoped"] == 1 and tab["state"]["unscoped"] == 0, seen  # never started a host for the other
        (counts,) = tab["state"]["counts"]
        assert counts["pcs"] == 1 and counts["elements"] == 1, seen
        assert tab["shown"][0] == "VIDEO" and tab["shown"][1] > 0 and tab["shown"][2] == "remote", seen
    for identity, handle in tabs.items():
        driver.switch_to.window(handle)
        left = run_worker(driver, "import worker_app, json\njson.dumps(await worker_app.leave())")
        assert left["counts"] == {"handles": 0, "pcs": 0, "elements": 0}, left


SIGNAL_ERRORS = """
import asyncio, json
from livekit_pyweb import ConnectionError, Room, RoomOptions
from livekit_pyweb._browser import live_proxy_count
from livekit_pyweb._browser.bridge import BridgePlatform
base = live_proxy_count()
platform = BridgePlatform()
out = {}
for name, url, token in (("bad_token", URL, "not-a-token"), ("unreachable", "ws://127.0.0.1:9", "x")):
    try:
        await Room(RoomOptions(), platform=platform).connect(url, token)
        out[name] = "connected"
    except ConnectionError as exc:
        out[name] = [exc.reason.name, "not-a-token" in str(exc)]
out["counts"] = await platform.counts()
platform.close()
out["proxies"] = live_proxy_count() - base
json.dumps(out)
"""


@pytest.mark.driver_timeout(60)
def test_signal_errors_through_the_page_hosts_socket_are_typed_as_on_the_direct_path(selenium_standalone, dist_url):
    """The page host's WebSocket fails to open: the worker asks /rtc/validate (fetch) and raises the same
    ConnectionError as the direct path; the host keeps nothing."""
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    r = run_worker(driver, SIGNAL_ERRORS.replace("URL", repr(LIVEKIT_URL), 1))
    assert r["bad_token"] == ["NotAllowed", False], r
    assert r["unreachable"] == ["ServerUnreachable", False], r
    assert r["counts"] == {"handles": 0, "pcs": 0, "elements": 0}, r
    assert r["proxies"] == 0, r
