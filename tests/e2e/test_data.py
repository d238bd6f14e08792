"""Data packets (publish_data / data_received) against the real server, both ways, with the official Python SDK
(livekit.rtc on CPython) and with livekit-client in another tab; a third participant that is not a destination
must receive nothing. Integrity: 1,000 reliable packets of mixed sizes up to the limit, sent without waiting for
delivery, arrive once each and in order while our channel's bufferedAmount rises above the low-water mark; an
oversized packet is refused (PublishDataError, code 14) and the channel goes on. And the same through the worker
bridge (the page host owns the channel and its bufferedAmount)."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_js_peer_tab, open_page

# -- in the page -------------------------------------------------------------------------------------------------
SETUP = """
from livekit_pyweb import DataPacketKind, PublishDataError
from livekit_pyweb._core import proto
room = Room()
got = []  # data_received, as [sender, kind, topic, text]

def on_data(packet):
    got.append([packet.participant.identity if packet.participant else None, packet.kind.name, packet.topic,
                packet.data.decode("utf-8", "replace")[:64]])

room.on("data_received", on_data)
await room.connect({url!r}, {token!r})
await wait_until(lambda: all(p in room.remote_participants for p in {peers!r}), 15, "the peers")
json.dumps(sorted(room.remote_participants))
"""

SEND = """
lp = room.local_participant
await lp.publish_data("hello-all", topic="greet")
for i in range(3):
    await lp.publish_data(f"lossy-{{i}}".encode(), reliable=False, topic="fast")
await lp.publish_data("to-{peer}", destination_identities=[{peer!r}], topic="private")
await lp.publish_data("end-of-pyweb")
json.dumps(0)
"""

RECEIVED = """
await wait_until(lambda: {{tuple(g) for g in got}} >= {{tuple(e) for e in {expected!r}}}, 20, "the packets")
json.dumps(got)
"""

# 1,000 reliable packets, mixed sizes up to the largest payload a 64,000-byte packet holds, to one destination;
# then an oversized one (refused: PublishDataError, the channel stays open) and one more that must arrive.
BULK = """
import hashlib
m = proto.models()
me = room.local_participant
channel = room._engine._data_out[0]

def packet_size(n):  # what publish_data sends, with a sequence of the same width as ours
    user = m.UserPacket(participant_identity=me.identity, payload=b"x" * n, destination_identities=[{dest!r}],
                        topic="bulk")
    return len(m.DataPacket(kind=0, participant_identity=me.identity, participant_sid=me.sid, sequence=9999,
                            destination_identities=[{dest!r}], user=user).SerializeToString())

biggest = max(n for n in range(63_800, 64_001) if packet_size(n) <= 64_000)
sizes = [biggest if i % 7 == 0 else (1, 40, 900, 15_000, 30_000, 63_000)[i % 6] for i in range({count})]
digests = []
peak = 0
start = js.performance.now()
for i, size in enumerate(sizes):
    head = f"bulk#{{i}}|".encode()
    payload = head + bytes([i % 251]) * max(0, size - len(head))
    sizes[i] = len(payload)  # at least the head
    digests.append(hashlib.sha256(payload).hexdigest())
    await me.publish_data(payload, topic="bulk", destination_identities=[{dest!r}])
    peak = max(peak, channel.buffered_amount)
send_ms = js.performance.now() - start
try:
    await me.publish_data(b"x" * 64_000, destination_identities=[{dest!r}])
    refused = None
except PublishDataError as exc:
    refused = [type(exc).__name__, exc.code, str(exc)]
await me.publish_data("after-oversize", topic="bulk", destination_identities=[{dest!r}])
json.dumps({{"biggest": biggest, "sizes": sizes, "digests": digests, "peak": peak, "send_ms": send_ms,
            "refused": refused, "ready_state": channel.ready_state, "low_water": channel.buffered_amount_low_threshold}})
"""


def _data(peer, since: int = 0) -> list[dict]:
    peer.mark()
    return [e for e in peer.events[since:] if e["event"] == "data"]


def _check_bulk(bulk: dict, received: list[dict], sender: str) -> None:
    """The peer got every bulk packet once, in order, intact, then the one after the refused oversized packet."""
    bulk_in = [e for e in received if e["topic"] == "bulk"]
    count = len(bulk["sizes"])
    assert [e["head"].split("|")[0] for e in bulk_in] == [f"bulk#{i}" for i in range(count)] + ["after-oversize"], (
        [e["head"][:12] for e in bulk_in][:20], len(bulk_in))
    assert [e["sha256"] for e in bulk_in[:count]] == bulk["digests"]
    assert [e["size"] for e in bulk_in[:count]] == bulk["sizes"]
    assert all(e["participant"] == sender and e["kind"] == "reliable" for e in bulk_in)
    assert max(bulk["sizes"]) == bulk["biggest"] > 63_900
    assert bulk["refused"][:2] == ["PublishDataError", 14] and "64000" in bulk["refused"][2], bulk["refused"]
    assert bulk["ready_state"] == "open"
    # sent faster than delivered: our channel's buffer rose above its low-water mark (and the flow control held)
    assert bulk["peak"] > bulk["low_water"] == 64 * 1024, (bulk["peak"], bulk["low_water"])


def _wait_data(peer, test, what: str, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        received = _data(peer)
        if test(received):
            return received
        assert time.monotonic() < deadline, f"{peer.identity}: {what}; got {[(e['participant'], e['head'][:20]) for e in received][-30:]}"
        time.sleep(0.1)


def _knows_pyweb(*peers) -> None:
    """A peer names the sender of a packet only once the server told it about that participant, which can come
    seconds after our join (measured: about 2.5 s between two Python SDK peers): wait for it before sending."""
    for peer in peers:
        peer.wait_for(lambda e: e["event"] == "participant_connected" and e["identity"] == "pyweb", 20,
                      "the server to announce pyweb")


def _heads(received: list[dict]) -> list[str]:
    return [e["head"] for e in received]


@pytest.mark.driver_timeout(240)
def test_data_with_the_python_sdk_both_ways_and_1000_packets_in_order(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    agent = py_peer("agent", room_name, video=False, audio=False)
    carol = py_peer("carol", room_name, video=False, audio=False)
    open_page(selenium)
    run_py(selenium, SETUP.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), peers=["agent", "carol"]))
    _knows_pyweb(agent, carol)

    # pyweb -> the Python SDK: reliable + topic, lossy, a destination, and a last one to everyone
    run_py(selenium, SEND.format(peer="agent"))
    got_agent = _wait_data(agent, lambda r: "end-of-pyweb" in _heads(r) and "to-agent" in _heads(r)
                           and len([h for h in _heads(r) if h.startswith("lossy-")]) == 3, "pyweb's packets")
    by_head = {e["head"]: e for e in got_agent}
    assert (by_head["hello-all"]["participant"], by_head["hello-all"]["kind"], by_head["hello-all"]["topic"]) == (
        "pyweb", "reliable", "greet")
    assert all(by_head[f"lossy-{i}"]["kind"] == "lossy" and by_head[f"lossy-{i}"]["topic"] == "fast"
               for i in range(3))
    assert by_head["to-agent"]["topic"] == "private"
    # reliable packets keep their order (the lossy ones may pass them)
    reliable_heads = [e["head"] for e in got_agent if e["kind"] == "reliable"]
    assert reliable_heads == ["hello-all", "to-agent", "end-of-pyweb"]
    got_carol = _wait_data(carol, lambda r: "end-of-pyweb" in _heads(r), "pyweb's last packet")
    assert "to-agent" not in _heads(got_carol) and "hello-all" in _heads(got_carol)

    # the Python SDK -> pyweb: the same, and carol's packet to the agent only must not reach us
    agent.send("publish_data", payload="from-agent", topic="t2")
    agent.send("publish_data", payload="agent-lossy", reliable=False)
    agent.send("publish_data", payload="agent-to-pyweb", destinations=["pyweb"], topic="private")
    carol.send("publish_data", payload="carol-to-agent", destinations=["agent"])
    carol.send("publish_data", payload="carol-end")
    got = run_py(selenium, RECEIVED.format(expected=[
        ["agent", "KIND_RELIABLE", "t2", "from-agent"], ["agent", "KIND_LOSSY", "", "agent-lossy"],
        ["agent", "KIND_RELIABLE", "private", "agent-to-pyweb"], ["carol", "KIND_RELIABLE", "", "carol-end"]]))
    assert "carol-to-agent" not in [g[3] for g in got], got
    assert "carol-to-agent" in _heads(_wait_data(agent, lambda r: "carol-to-agent" in _heads(r), "carol's packet"))

    # integrity: 1,000 reliable packets to the agent, sent as fast as the channel takes them
    since = len(_data(carol))
    bulk = run_py(selenium, BULK.format(dest="agent", count=1000))
    received = _wait_data(agent, lambda r: "after-oversize" in _heads(r), "the bulk packets", timeout=120)
    _check_bulk(bulk, received, "pyweb")
    assert not [e for e in _data(carol)[since:] if e["topic"] == "bulk"]  # not a destination: nothing
    megabytes = sum(bulk["sizes"]) / 1e6
    print(f"1000 packets, {megabytes:.1f} MB handed to the channel in {bulk['send_ms']:.0f} ms; "
          f"peak bufferedAmount {bulk['peak']}")
    # every data channel listener (bufferedamountlow, close, message, open) released with its connection
    assert run_py(selenium, "await room.disconnect()\njson.dumps(live_proxy_count() - base_proxies)") == 0
    assert logged_warnings(selenium) == []


# -- livekit-client in another tab ----------------------------------------------------------------------------------
JS_SEND = """
const done = arguments[arguments.length - 1];
(async () => {
  const lp = window.jsRoom.localParticipant, enc = new TextEncoder();
  await lp.publishData(enc.encode("from-js"), { reliable: true, topic: "t-js" });
  await lp.publishData(enc.encode("js-lossy"), { reliable: false });
  await lp.publishData(enc.encode("js-to-pyweb"), { reliable: true, destinationIdentities: ["pyweb"], topic: "private" });
  await lp.publishData(enc.encode("js-to-carol"), { reliable: true, destinationIdentities: ["carol"] });
  await lp.publishData(enc.encode("js-end"), { reliable: true });
})().then(() => done("ok"), (e) => done(String(e)));
"""


@pytest.mark.driver_timeout(180)
def test_data_with_livekit_client_both_ways(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    driver = selenium.driver
    carol = py_peer("carol", room_name, video=False, audio=False)
    py_tab = driver.current_window_handle
    js_tab = open_js_peer_tab(driver, selenium.base_url, make_token("js-peer", room_name))
    driver.switch_to.window(py_tab)
    open_page(selenium)
    run_py(selenium, SETUP.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name), peers=["js-peer", "carol"]))
    _knows_pyweb(carol)
    driver.switch_to.window(js_tab)
    deadline = time.monotonic() + 15
    while not driver.execute_script("return window.jsRoom.remoteParticipants.has('pyweb')"):
        assert time.monotonic() < deadline, "livekit-client never saw pyweb join"
        time.sleep(0.1)
    driver.switch_to.window(py_tab)

    # pyweb -> livekit-client
    run_py(selenium, SEND.format(peer="js-peer"))
    driver.switch_to.window(js_tab)
    deadline = time.monotonic() + 20
    while True:
        js_got = json.loads(driver.execute_script("return JSON.stringify(window.jsPeer.data)"))
        texts = [d["text"] for d in js_got]
        if "end-of-pyweb" in texts and "to-js-peer" in texts and len([t for t in texts if t.startswith("lossy-")]) == 3:
            break
        assert time.monotonic() < deadline, js_got
        time.sleep(0.2)
    by_text = {d["text"]: d for d in js_got}
    assert (by_text["hello-all"]["identity"], by_text["hello-all"]["kind"], by_text["hello-all"]["topic"]) == (
        "pyweb", "reliable", "greet")
    assert all(by_text[f"lossy-{i}"]["kind"] == "lossy" for i in range(3))
    assert by_text["to-js-peer"]["topic"] == "private"
    assert [d["text"] for d in js_got if d["kind"] == "reliable"] == ["hello-all", "to-js-peer", "end-of-pyweb"]
    assert "to-js-peer" not in _heads(_wait_data(carol, lambda r: "end-of-pyweb" in _heads(r), "pyweb's last"))

    # livekit-client -> pyweb (and its packet to carol only must not reach us)
    assert driver.execute_async_script(JS_SEND) == "ok"
    driver.switch_to.window(py_tab)
    got = run_py(selenium, RECEIVED.format(expected=[
        ["js-peer", "KIND_RELIABLE", "t-js", "from-js"], ["js-peer", "KIND_LOSSY", "", "js-lossy"],
        ["js-peer", "KIND_RELIABLE", "private", "js-to-pyweb"], ["js-peer", "KIND_RELIABLE", "", "js-end"]]))
    assert "js-to-carol" not in [g[3] for g in got], got
    assert [g[3] for g in got if g[1] == "KIND_RELIABLE"] == ["from-js", "js-to-pyweb", "js-end"]
    assert "js-to-carol" in _heads(_wait_data(carol, lambda r: "js-to-carol" in _heads(r), "js-peer's packet"))
    # every data channel listener (bufferedamountlow, close, message, open) released with its connection
    assert run_py(selenium, "await room.disconnect()\njson.dumps(live_proxy_count() - base_proxies)") == 0
    assert logged_warnings(selenium) == []


# -- through the worker bridge ---------------------------------------------------------------------------------------
# After WORKER_PRELUDE (logged, wait_until).
WORKER_SETUP = """
from livekit_pyweb import Room, PublishDataError
from livekit_pyweb._core import proto
room = Room()
got = []

def on_data(packet):
    got.append([packet.participant.identity if packet.participant else None, packet.kind.name, packet.topic,
                packet.data.decode("utf-8", "replace")[:64]])

room.on("data_received", on_data)
await room.connect({url!r}, {token!r})
await wait_until(lambda: "agent" in room.remote_participants, 15, "the agent")
json.dumps(room._platform.name)
"""


@pytest.mark.driver_timeout(240)
def test_data_through_the_worker_bridge(selenium_standalone, dist_url, py_peer, room_name):
    from .test_worker_bridge import open_worker_page, run_worker

    driver = selenium_standalone.driver
    agent = py_peer("agent", room_name, video=False, audio=False)
    open_worker_page(driver, dist_url)
    run_worker(driver, WORKER_PRELUDE)
    assert run_worker(driver, WORKER_SETUP.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name))) == "bridge"
    _knows_pyweb(agent)
    # publish through the bridge: the page host's channel, its bufferedAmount reported back (see BridgeDataChannel)
    bulk = run_worker(driver, BULK.format(dest="agent", count=300))
    received = _wait_data(agent, lambda r: "after-oversize" in _heads(r), "the bulk packets", timeout=120)
    _check_bulk(bulk, received, "pyweb")
    print(f"worker: 300 packets handed over in {bulk['send_ms']:.0f} ms; peak bufferedAmount {bulk['peak']}")
    # receive through the bridge
    agent.send("publish_data", payload="from-agent", topic="t2")
    agent.send("publish_data", payload="agent-lossy", reliable=False)
    agent.send("publish_data", payload="agent-to-pyweb", destinations=["pyweb"], topic="private")
    got = run_worker(driver, RECEIVED.format(expected=[
        ["agent", "KIND_RELIABLE", "t2", "from-agent"], ["agent", "KIND_LOSSY", "", "agent-lossy"],
        ["agent", "KIND_RELIABLE", "private", "agent-to-pyweb"]]))
    assert [g[3] for g in got if g[1] == "KIND_RELIABLE"] == ["from-agent", "agent-to-pyweb"]
    assert run_worker(driver, "await room.disconnect()\njson.dumps(logged)") == []
