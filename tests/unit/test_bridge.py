"""The worker bridge's sans-IO half (``livekit_pyweb/_core/bridge.py``): the codec, ids and replies, typed errors,
call deadlines, heartbeats and a host that goes away. The host here is a fake on the same loop; async tests run on
the fake loop clock (looptime), so "within two intervals" is checked to the exact second."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest

from livekit_pyweb._core import bridge as B
from livekit_pyweb.errors import (
    BridgeError,
    DeviceError,
    DeviceErrorReason,
    LiveKitError,
    NegotiationError,
    UnsupportedError,
)

from .fakes import browser_stand_ins


def _direct_device_reasons() -> dict[str, DeviceErrorReason]:
    """The direct path's table (``_browser/_errors.py``), imported with stand-ins for Pyodide's modules."""
    with browser_stand_ins():
        return dict(importlib.import_module("livekit_pyweb._browser._errors")._DEVICE_REASONS)


DEVICE_REASONS = _direct_device_reasons()


# --------------------------------------------------------------------------- codec


def test_builders_make_the_spec_messages():
    assert B.hello("n1", 1.0) == {"t": "hello", "v": 1, "interval": 1.0, "nonce": "n1"}
    assert B.bind("host-a") == {"t": "bind", "hostId": "host-a"}
    assert B.call(3, "pc.createOffer", [5, {"iceRestart": False}]) == {
        "t": "call", "id": 3, "op": "pc.createOffer", "args": [5, {"iceRestart": False}]}
    assert B.heartbeat() == {"t": "hb"} and B.bye() == {"t": "bye"}
    assert B.discover("lkpw-0123456789abcdef") == {"t": "discover", "channel": "lkpw-0123456789abcdef"}
    assert B.discover("lkpw-0123456789abcdef", "p1") == {"t": "discover", "channel": "lkpw-0123456789abcdef",
                                                         "page": "p1"}
    assert B.discover("lkpw-0123456789abcdef", "") == {"t": "discover", "channel": "lkpw-0123456789abcdef"}
    assert B.call(2, "ws.open", [7, "wss://x/rtc"])["op"] == "ws.open"


def test_page_ids_come_from_worker_names():
    assert B.page_id_from_worker_name("lkpw-host:0a1b2c") == "0a1b2c"
    for name in ("", "lkpw-host:", "worker", None, 3, "xlkpw-host:0a"):
        assert B.page_id_from_worker_name(name) is None


def test_the_signal_socket_ops():
    assert "ws.open" in B.OPS and "ws.open" not in B.POSTED_OPS  # awaited: the caller's open deadline
    assert {"ws.send", "ws.close", "ws.setGoodbye"} <= B.POSTED_OPS
    assert "ws.open" not in B.UNBOUNDED_OPS and "ws.open" not in B.NEGOTIATION_OPS


async def test_the_dynacast_op_is_awaited_and_carries_the_flags():
    assert {"element.observe", "element.unobserve"} <= B.POSTED_OPS  # adaptive stream: posted, events come back
    assert B.parse({"t": "event", "h": 5, "type": "view", "data": {"w": 1, "h": 2, "v": True, "hidden": False,
                                                                 "dpr": 1}}) == B.Event(5, "view", {
        "w": 1, "h": 2, "v": True, "hidden": False, "dpr": 1})
    assert "sender.setActive" in B.OPS and "sender.setActive" not in B.POSTED_OPS  # awaited: ordered transactions
    assert "sender.setActive" not in B.NEGOTIATION_OPS | B.UNBOUNDED_OPS  # a failure is a BridgeError, in time
    assert B.call(7, "sender.setActive", [3, [True, False, False]]) == {
        "t": "call", "id": 7, "op": "sender.setActive", "args": [3, [True, False, False]]}
    session, host, _ = await _session(host=FakeHost(auto=False))
    done = asyncio.ensure_future(session.call("sender.setActive", 3, [True, False, False]))
    await asyncio.sleep(0)
    (sent,) = host.calls()
    assert sent["op"] == "sender.setActive" and sent["args"] == [3, [True, False, False]]
    host.send({"t": "reply", "id": sent["id"], "ok": False,
               "error": {"name": "InvalidStateError", "message": "the sender has 1 encodings, 3 active flags given"}})
    with pytest.raises(BridgeError, match="1 encodings"):
        await done
    session.close()


def test_a_socket_that_closed_before_opening_is_transport_closed():
    from livekit_pyweb._core.ports import TransportClosed

    reply = B.parse({"t": "reply", "id": 9, "ok": False,
                     "error": {"name": "WebSocketClosed", "message": "closed", "code": 1006, "reason": "r"}})
    assert reply.error == B.ReplyError("WebSocketClosed", "closed", 1006, "r")
    error = B.error_from_reply("ws.open", reply.error, DEVICE_REASONS)
    assert isinstance(error, TransportClosed) and (error.code, error.reason) == (1006, "r")
    assert "code 1006" in str(error)
    # no code on the wire: an abnormal close; the same name from another op is not a socket's
    assert B.error_from_reply("ws.open", B.ReplyError("WebSocketClosed", ""), {}).code == 1006
    assert isinstance(B.error_from_reply("pc.getStats", B.ReplyError("WebSocketClosed", "x"), {}), BridgeError)
    bad = B.parse({"t": "reply", "id": 9, "ok": False, "error": {"name": "E", "code": "1006", "reason": 5}})
    assert bad.error == B.ReplyError("E", "", None, "")


def test_channel_names_are_random_and_prefixed():
    a, b = B.new_channel_name(), B.new_channel_name()
    assert a != b
    for name in (a, b):
        assert name.startswith("lkpw-") and len(name) == 5 + 16 and int(name[5:], 16) >= 0


@pytest.mark.parametrize("id_", [0, -1, True, 1.0, "1"])
def test_call_ids_are_positive_ints(id_):
    with pytest.raises(ValueError):
        B.call(id_, "host.ping", [])


def test_unknown_ops_are_refused_when_building():
    with pytest.raises(ValueError, match="unknown bridge op"):
        B.call(1, "pc.explode", [])


def test_every_posted_op_is_an_op_and_every_error_class_is_typed():
    assert B.POSTED_OPS <= B.OPS and B.DEVICE_OPS <= B.OPS and B.NEGOTIATION_OPS <= B.OPS
    assert not (B.POSTED_OPS & B.NEGOTIATION_OPS)


def test_parse_valid_messages():
    assert B.parse({"t": "welcome", "v": 1, "nonce": "n", "hostId": "h1", "userAgent": "UA"}) == B.Welcome(
        "n", "h1", "UA")
    assert B.parse({"t": "welcome", "v": 1, "nonce": "n", "hostId": "h1"}) == B.Welcome("n", "h1", "")
    assert B.parse({"t": "reply", "id": 4, "ok": True, "value": "v=0"}) == B.Reply(4, True, "v=0")
    assert B.parse({"t": "reply", "id": 4, "ok": True}) == B.Reply(4, True, None)
    assert B.parse({"t": "reply", "id": 5, "ok": False, "error": {"name": "NotAllowedError", "message": "no"}}) == (
        B.Reply(5, False, None, B.ReplyError("NotAllowedError", "no")))
    assert B.parse({"t": "reply", "id": 5, "ok": False, "error": {"name": "E"}}).error == B.ReplyError("E", "")
    assert B.parse({"t": "event", "h": -3, "type": "ended"}) == B.Event(-3, "ended", None)
    assert B.parse({"t": "event", "h": 0, "type": "pagehide", "data": None}) == B.Event(0, "pagehide")
    assert B.parse({"t": "event", "h": 2, "type": "message", "data": b"\x00\x01"}).data == b"\x00\x01"
    assert B.parse({"t": "event", "h": 3, "type": "close", "data": {"code": 1000, "reason": ""}}) == B.Event(
        3, "close", {"code": 1000, "reason": ""})
    assert B.parse({"t": "hb"}) == B.Heartbeat() and B.parse({"t": "bye"}) == B.Bye()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (None, "not an object"),
        ("hb", "not an object"),
        ([1, 2], "not an object"),
        ({}, "no message type"),
        ({"t": 7}, "no message type"),
        ({"t": "shout"}, "unknown message type 'shout'"),
        ({"t": "hello", "v": 1, "nonce": "n", "interval": 1}, "is for the host"),
        ({"t": "call", "id": 1, "op": "host.ping", "args": []}, "is for the host"),
        ({"t": "welcome", "v": 2, "nonce": "n", "hostId": "h"}, "protocol version 2"),
        ({"t": "welcome", "nonce": "n", "hostId": "h"}, "protocol version None"),
        ({"t": "welcome", "v": 1, "hostId": "h"}, "without a nonce"),
        ({"t": "welcome", "v": 1, "nonce": "n", "hostId": ""}, "hostId"),
        ({"t": "reply", "ok": True}, "bad id"),
        ({"t": "reply", "id": "3", "ok": True}, "bad id"),
        ({"t": "reply", "id": True, "ok": True}, "bad id"),
        ({"t": "reply", "id": 0, "ok": True}, "bad id"),
        ({"t": "reply", "id": 3, "ok": 1}, "bad 'ok'"),
        ({"t": "reply", "id": 3}, "bad 'ok'"),
        ({"t": "reply", "id": 3, "ok": False}, "without error.name"),
        ({"t": "reply", "id": 3, "ok": False, "error": {"message": "x"}}, "without error.name"),
        ({"t": "event", "type": "ended"}, "bad handle"),
        ({"t": "event", "h": 1.5, "type": "ended"}, "bad handle"),
        ({"t": "event", "h": 1, "type": "explode"}, "unknown event type"),
    ],
)
def test_malformed_messages_are_ignored_with_a_reason(message, reason):
    item = B.parse(message)
    assert isinstance(item, B.Ignored)
    assert reason in item.reason


# --------------------------------------------------------------------------- typed errors


@pytest.mark.parametrize(
    ("name", "reason"),
    [("NotAllowedError", DeviceErrorReason.PermissionDenied), ("SecurityError", DeviceErrorReason.PermissionDenied),
     ("NotFoundError", DeviceErrorReason.NotFound), ("OverconstrainedError", DeviceErrorReason.NotFound),
     ("NotReadableError", DeviceErrorReason.DeviceInUse), ("AbortError", DeviceErrorReason.DeviceInUse),
     ("TypeError", DeviceErrorReason.Other)],
)
def test_get_user_media_errors_map_as_on_the_direct_path(name, reason):
    assert DEVICE_REASONS.get(name, DeviceErrorReason.Other) is reason  # the table itself is the direct path's
    error = B.error_from_reply("media.getUserMedia", B.ReplyError(name, "denied"), DEVICE_REASONS)
    assert isinstance(error, DeviceError) and error.reason is reason and error.name == name
    assert "denied" in str(error)


def test_negotiation_and_other_errors_are_typed():
    for op in sorted(B.NEGOTIATION_OPS):
        error = B.error_from_reply(op, B.ReplyError("InvalidStateError", "closed"), DEVICE_REASONS)
        assert type(error) is NegotiationError and op in str(error)
    error = B.error_from_reply("pc.getStats", B.ReplyError("InvalidStateError", "unknown handle 7"), DEVICE_REASONS)
    assert type(error) is BridgeError and "unknown handle 7" in str(error)
    error = B.error_from_reply("media.getUserMedia", B.ReplyError("UnsupportedError", "no mediaDevices"), {})
    assert type(error) is UnsupportedError
    assert issubclass(BridgeError, LiveKitError)


def test_bridge_error_is_exported_lazily():
    import livekit_pyweb

    assert livekit_pyweb.BridgeError is BridgeError and "BridgeError" in livekit_pyweb.__all__


# --------------------------------------------------------------------------- bookkeeping (no loop)


def test_call_table_ids_settle_expire_drain():
    table = B.CallTable()
    a = table.open("host.ping", now=10.0, timeout=5.0)
    b = table.open("pc.getStats", now=11.0, timeout=None)
    c = table.open("dc.send", now=12.0, timeout=1.0, posted=True)
    assert (a.id, b.id, c.id) == (1, 2, 3) and len(table) == 3
    assert table.next_deadline() == 13.0
    assert table.settle(1) is a and table.settle(1) is None and table.settle(99) is None
    assert table.expired(12.9) == [] and table.expired(13.0) == [c]
    assert table.next_deadline() is None
    assert table.drain() == [b] and len(table) == 0
    assert table.open("host.ping", 0, None).id == 4  # ids are never reused


def test_handles_are_positive_and_increasing():
    handles = B.HandleAllocator()
    assert [handles.new() for _ in range(3)] == [1, 2, 3]
    assert B.host_allocated(-1) and not B.host_allocated(1) and not B.host_allocated(0)


def test_liveness_deadlines():
    live = B.Liveness(1.0, now=100.0)
    assert live.next_wakeup() == 101.0 and not live.heartbeat_due(100.9) and live.heartbeat_due(101.0)
    live.sent(101.0)
    assert not live.gone(101.9) and live.gone(102.0) and live.next_wakeup() == 102.0
    live.heard(101.5)
    live.heard(101.0)  # an older time never moves the deadline back
    assert live.gone_at == 103.5 and not live.gone(103.4)
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            B.Liveness(bad, now=0)


# --------------------------------------------------------------------------- the session


class FakeHost:
    """The page host, as the session sees it: messages posted to it arrive one loop turn later, as on a channel."""

    def __init__(self, *, host_id: str = "host-1", answer: bool = True, auto: bool = True) -> None:
        self.host_id = host_id
        self.answer = answer  # welcome hellos
        self.auto = auto  # reply to host.ping / host.counts by itself
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self.session: B.BridgeSession | None = None
        self.alive = True

    def post(self, message: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self.seen.append((loop.time(), message))
        if not self.alive:
            return
        if message["t"] == "hello" and self.answer:
            self.send({"t": "welcome", "v": 1, "nonce": message["nonce"], "hostId": self.host_id,
                       "userAgent": "FakeUA"})
        elif message["t"] == "call" and self.auto and message["op"] == "host.ping":
            self.send({"t": "reply", "id": message["id"], "ok": True, "value": None})

    def send(self, message: Any) -> None:
        assert self.session is not None
        asyncio.get_running_loop().call_soon(self.session.receive, message)

    def kinds(self, since: float = float("-inf")) -> list[str]:
        return [m["t"] for t, m in self.seen if t >= since]

    def calls(self) -> list[dict[str, Any]]:
        return [m for _, m in self.seen if m["t"] == "call"]


async def _session(host: FakeHost | None = None, **kw: Any) -> tuple[B.BridgeSession, FakeHost, list[str]]:
    host = host or FakeHost()
    lost: list[str] = []
    session = B.BridgeSession(host.post, on_lost=lost.append, device_reasons=DEVICE_REASONS, **kw)
    host.session = session
    welcome = await session.handshake(5.0)
    assert welcome == B.Welcome(welcome.nonce, host.host_id, "FakeUA")
    return session, host, lost


async def test_handshake_says_hello_until_welcomed_then_binds():
    host = FakeHost(answer=False)
    session = B.BridgeSession(host.post)
    host.session = session
    task = asyncio.ensure_future(session.handshake(5.0))
    await asyncio.sleep(1.0)
    hellos = [(t, m) for t, m in host.seen if m["t"] == "hello"]
    assert [t for t, _ in hellos] == pytest.approx([0.0, 0.02, 0.07, 0.17, 0.42, 0.67, 0.92])
    nonce = hellos[0][1]["nonce"]
    assert all(m == B.hello(nonce, 1.0) for _, m in hellos)
    # A welcome for someone else's hello and a welcome of another protocol version change nothing.
    session.receive({"t": "welcome", "v": 1, "nonce": "other", "hostId": "h-x"})
    assert isinstance(session.receive({"t": "welcome", "v": 2, "nonce": nonce, "hostId": "h-y"}), B.Ignored)
    await asyncio.sleep(0)
    assert not task.done()
    session.receive({"t": "welcome", "v": 1, "nonce": nonce, "hostId": "h-1", "userAgent": "UA"})
    assert (await task).host_id == "h-1"
    assert host.seen[-1][1] == {"t": "bind", "hostId": "h-1"}
    n = len(host.seen)
    await asyncio.sleep(0.6)
    assert host.kinds()[n:] == []  # no more hellos; no heartbeat before an interval of silence
    # A second host answering the same discovery is ignored.
    assert isinstance(session.receive({"t": "welcome", "v": 1, "nonce": nonce, "hostId": "h-2"}), B.Ignored)
    assert session.welcome is not None and session.welcome.host_id == "h-1"
    session.close()


async def test_no_host_times_out_at_start_timeout():
    host = FakeHost(answer=False)
    session = B.BridgeSession(host.post)
    host.session = session
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    with pytest.raises(TimeoutError):
        await session.handshake(5.0)
    assert loop.time() - t0 == pytest.approx(5.0)
    n = len(host.seen)
    await asyncio.sleep(1)
    assert len(host.seen) == n  # hellos stopped
    with pytest.raises(BridgeError, match="start"):
        await session.call("host.ping")
    session.close()


async def test_replies_are_matched_by_id_in_any_order():
    session, host, _ = await _session(host=FakeHost(auto=False))
    first = asyncio.ensure_future(session.call("pc.createOffer", 1, {"iceRestart": False}))
    second = asyncio.ensure_future(session.call("pc.getStats", 1))
    await asyncio.sleep(0)
    ids = [m["id"] for m in host.calls()]
    assert ids == [1, 2] and host.calls()[0]["args"] == [1, {"iceRestart": False}]
    host.send({"t": "reply", "id": 2, "ok": True, "value": [{"type": "transport"}]})
    host.send({"t": "reply", "id": 1, "ok": True, "value": "v=0 offer"})
    assert await first == "v=0 offer"
    assert await second == [{"type": "transport"}]
    assert len(session.calls) == 0
    # A reply to no pending call (a duplicate, a stranger's) is dropped.
    assert isinstance(session.receive({"t": "reply", "id": 1, "ok": True, "value": "again"}), B.Ignored)
    assert "answers no pending call" in session.ignored[-1].reason
    session.close()


async def test_error_replies_are_typed():
    session, host, _ = await _session(host=FakeHost(auto=False))
    media = asyncio.ensure_future(session.call("media.getUserMedia", {"video": True}))
    offer = asyncio.ensure_future(session.call("pc.setRemoteDescription", 1, "answer", "bad"))
    stats = asyncio.ensure_future(session.call("receiver.getStats", -4))
    await asyncio.sleep(0)
    ids = {m["op"]: m["id"] for m in host.calls()}
    host.send({"t": "reply", "id": ids["media.getUserMedia"], "ok": False,
               "error": {"name": "NotAllowedError", "message": "Permission denied"}})
    host.send({"t": "reply", "id": ids["pc.setRemoteDescription"], "ok": False,
               "error": {"name": "InvalidAccessError", "message": "bad sdp"}})
    host.send({"t": "reply", "id": ids["receiver.getStats"], "ok": False,
               "error": {"name": "InvalidStateError", "message": "unknown handle -4"}})
    with pytest.raises(DeviceError) as device:
        await media
    assert device.value.reason is DeviceErrorReason.PermissionDenied and device.value.name == "NotAllowedError"
    with pytest.raises(NegotiationError, match="bad sdp"):
        await offer
    with pytest.raises(BridgeError, match="unknown handle -4"):
        await stats
    session.close()


async def test_a_call_the_live_host_never_answers_times_out():
    session, host, lost = await _session(host=FakeHost(auto=False), call_timeout=3.0)
    loop = asyncio.get_running_loop()

    async def heartbeats() -> None:  # the host is alive: it keeps talking, it just never replies
        while True:
            await asyncio.sleep(0.5)
            host.send({"t": "hb"})

    beating = asyncio.ensure_future(heartbeats())
    t0 = loop.time()
    with pytest.raises(BridgeError, match="did not answer within 3 s"):
        await session.call("pc.createOffer", 1, {})
    assert loop.time() - t0 == pytest.approx(3.0)
    assert lost == [] and session.lost is None and len(session.calls) == 0
    # getUserMedia waits for the user (a permission prompt): no deadline, so it is still pending after the others'.
    media = asyncio.ensure_future(session.call("media.getUserMedia", {"audio": True}))
    short = asyncio.ensure_future(session.call("host.counts", timeout=1.0))
    with pytest.raises(BridgeError, match="within 1 s"):
        await short
    await asyncio.sleep(10)
    assert not media.done()
    beating.cancel()
    session.close()
    with pytest.raises(BridgeError, match="closed"):
        await media


async def test_a_host_that_goes_away_mid_call_fails_every_call_within_two_intervals():
    session, host, lost = await _session(host=FakeHost(auto=False), interval=1.0)
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.4)
    host.send({"t": "hb"})
    await asyncio.sleep(0)
    last_heard = loop.time()
    host.alive = False  # the page was closed: no reply, no heartbeat, not even a bye
    started = loop.time()
    calls = [asyncio.ensure_future(session.call(op, 1)) for op in ("pc.createAnswer", "pc.getStats", "host.counts")]
    session.post("track.stop", -2)
    results = await asyncio.gather(*calls, return_exceptions=True)
    failed_at = loop.time()
    assert all(isinstance(r, BridgeError) for r in results), results
    assert "stopped answering" in str(results[0])
    assert failed_at - last_heard == pytest.approx(2.0)  # two intervals of silence, exactly
    assert failed_at - started <= 2.0
    assert lost == [session.lost] and len(lost) == 1
    assert len(session.calls) == 0  # no hung records
    # Afterwards: calls fail at once, posts are dropped quietly, nothing is sent any more.
    n = len(host.seen)
    with pytest.raises(BridgeError, match="stopped answering"):
        await session.call("host.ping")
    session.post("dc.send", 3, b"x")
    await asyncio.sleep(5)
    assert host.seen[n:] == []
    session.close()
    assert lost == [session.lost]


async def test_heartbeats_keep_both_sides_alive():
    session, host, lost = await _session(interval=1.0)
    loop = asyncio.get_running_loop()
    bound_at = loop.time()

    async def host_beats() -> None:
        while True:
            await asyncio.sleep(1.0)
            host.send({"t": "hb"})

    beating = asyncio.ensure_future(host_beats())
    await asyncio.sleep(10)
    beats = [t - bound_at for t, m in host.seen if m["t"] == "hb"]
    assert beats == pytest.approx([float(i) for i in range(1, 11)])
    # Sending anything postpones our heartbeat: it is a sign of life too.
    await session.call("host.ping")
    assert lost == []
    beating.cancel()
    session.close()


async def test_any_message_is_a_sign_of_life_and_malformed_ones_are_not():
    session, host, lost = await _session(host=FakeHost(auto=False), interval=1.0)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    # Events every 0.5 s keep the host alive; garbage does not.
    events: list[B.Event] = []
    session.on_event = events.append
    for _ in range(6):
        await asyncio.sleep(0.5)
        host.send({"t": "event", "h": -1, "type": "ended"})
        host.send({"t": "nonsense"})
    await asyncio.sleep(0)
    assert lost == [] and len(events) == 6 and events[0] == B.Event(-1, "ended")
    lost_at: list[float] = []
    session.on_lost = lambda why: lost_at.append(loop.time())
    for _ in range(6):
        assert isinstance(session.receive({"t": "event", "h": "x", "type": "ended"}), B.Ignored)
        assert isinstance(session.receive(42), B.Ignored)
        await asyncio.sleep(0.5)
    assert lost_at == [pytest.approx(t0 + 3.0 + 2.0)]  # the last event came at 3.0 s
    assert isinstance(session.receive({"t": "event", "h": -1, "type": "ended"}), B.Ignored)  # too late
    assert session.ignored[-1].reason == "the session is over" and len(events) == 6
    session.close()


async def test_bye_from_the_host_means_gone_at_once():
    session, host, lost = await _session(host=FakeHost(auto=False))
    loop = asyncio.get_running_loop()
    pending = asyncio.ensure_future(session.call("pc.createOffer", 1, {}))
    await asyncio.sleep(0.1)
    host.send({"t": "bye"})
    t0 = loop.time()
    with pytest.raises(BridgeError, match="closed the bridge"):
        await pending
    assert loop.time() == t0 and lost == ["the page host closed the bridge"]
    session.close()


async def test_a_failed_posted_call_is_logged_once(expect_log):
    session, host, lost = await _session(host=FakeHost(auto=False))
    session.post("track.attach", -1, 4, "video")
    session.post("track.stop", -1)
    await asyncio.sleep(0)
    attach, stop = host.calls()
    host.send({"t": "reply", "id": attach["id"], "ok": False, "error": {"name": "TypeError", "message": "boom"}})
    host.send({"t": "reply", "id": stop["id"], "ok": True, "value": None})
    host.send({"t": "reply", "id": attach["id"], "ok": False, "error": {"name": "TypeError", "message": "boom"}})
    await asyncio.sleep(0.1)
    messages = [r.getMessage() for r in expect_log]
    assert messages == ["bridge: track.attach failed on the page: TypeError: boom"]
    assert expect_log[0].name == "livekit_pyweb.bridge" and expect_log[0].levelname == "WARNING"
    assert len(session.calls) == 0 and lost == []
    session.close()


async def test_a_cancelled_call_leaves_nothing_pending():
    session, host, _ = await _session(host=FakeHost(auto=False))
    task = asyncio.ensure_future(session.call("pc.getStats", 1))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(session.calls) == 0
    host.send({"t": "reply", "id": host.calls()[0]["id"], "ok": True, "value": []})  # late reply: dropped
    await asyncio.sleep(0)
    assert "answers no pending call" in session.ignored[-1].reason
    session.close()


async def test_close_says_bye_fails_pending_calls_and_stops_the_timers():
    session, host, lost = await _session(host=FakeHost(auto=False))
    pending = asyncio.ensure_future(session.call("pc.createOffer", 1, {}))
    await asyncio.sleep(0)
    session.close()
    session.close()
    assert host.seen[-1][1] == {"t": "bye"} and host.kinds().count("bye") == 1
    with pytest.raises(BridgeError, match="closed"):
        await pending
    n = len(host.seen)
    await asyncio.sleep(10)
    assert host.seen[n:] == [] and lost == []  # closing is not losing
    with pytest.raises(BridgeError, match="closed"):
        await session.call("host.ping")


async def test_events_before_the_welcome_are_ignored():
    host = FakeHost(answer=False)
    session = B.BridgeSession(host.post)
    host.session = session
    assert isinstance(session.receive({"t": "event", "h": 1, "type": "open"}), B.Ignored)
    assert isinstance(session.receive({"t": "reply", "id": 1, "ok": True}), B.Ignored)
    session.close()


async def test_a_late_timer_lets_queued_messages_arrive_before_judging():
    """When the worker's loop was blocked past the silence deadline, the timer fires late: messages the page sent
    meanwhile are still queued behind it, so it waits a moment for them instead of declaring the host gone."""
    session, host, lost = await _session(host=FakeHost(auto=False), interval=1.0)
    loop = asyncio.get_running_loop()
    assert session._liveness is not None and session._timer is not None
    # As if the loop had been blocked for 5 s: the silence deadline lies far behind, the timer fires late.
    session._liveness.last_heard -= 5.0
    session._timer.cancel()
    session._timer_at = loop.time() - 3.0
    session._tick()
    assert lost == [] and session._timer is not None  # not judged yet: a grace check is scheduled
    host.send({"t": "hb"})  # what was queued arrives
    await asyncio.sleep(B.LATE_TICK_GRACE * 2)
    assert lost == [] and session.lost is None
    # Real silence after that still ends the session at two intervals.
    t0 = loop.time()
    while not lost:
        await asyncio.sleep(0.05)
    assert loop.time() - t0 <= 2.0 + 0.05
    session.close()


# --------------------------------------------------------------------------- autoplay (issue 9 item 7)


def test_play_events_and_the_start_audio_op():
    assert B.parse({"t": "event", "h": 7, "type": "play", "data": {"ok": False, "error": "NotAllowedError"}}) == (
        B.Event(7, "play", {"ok": False, "error": "NotAllowedError"}))
    assert "media.startAudio" in B.OPS and "media.startAudio" not in B.POSTED_OPS


async def test_call_now_sends_before_returning_and_settles_like_call():
    session, host, _ = await _session(host=FakeHost(auto=False))
    n = len(host.calls())
    asked = session.call_now("media.startAudio", [3, 4])  # no await between the call and the message
    (sent,) = host.calls()[n:]
    assert sent["op"] == "media.startAudio" and sent["args"] == [[3, 4]]
    host.send({"t": "reply", "id": sent["id"], "ok": True, "value": ["NotAllowedError"]})
    assert await asyncio.wait_for(asyncio.shield(asked), 1) == ["NotAllowedError"]
    dropped = session.call_now("media.startAudio", None)
    dropped.cancel()
    await asyncio.sleep(0)
    assert len(session.calls) == 0  # a cancelled one leaves nothing pending
    session.close()
    with pytest.raises(BridgeError):
        session.call_now("media.startAudio", None)


@pytest.mark.parametrize(("name", "reason"), [("NotAllowedError", DeviceErrorReason.PermissionDenied),
                                              ("InvalidStateError", DeviceErrorReason.Other)])
def test_get_display_media_is_a_device_op_without_deadline(name, reason):
    # A refused/cancelled picker (NotAllowedError) or no user activation (InvalidStateError): DeviceError as on the
    # direct path; the picker waits on the user, so the call has no deadline.
    assert "media.getDisplayMedia" in B.OPS and "media.getDisplayMedia" in B.UNBOUNDED_OPS
    assert "media.getDisplayMedia" not in B.POSTED_OPS
    error = B.error_from_reply("media.getDisplayMedia", B.ReplyError(name, "no"), DEVICE_REASONS)
    assert isinstance(error, DeviceError) and error.reason is reason and error.name == name
    unsupported = B.error_from_reply("media.getDisplayMedia", B.ReplyError("UnsupportedError", "none"), {})
    assert type(unsupported) is UnsupportedError


async def test_a_deadline_already_past_when_scheduled_still_fires_on_a_loop_that_refuses_the_past(monkeypatch):
    """Pyodide's WebLoop raises ``ValueError: Can't schedule in the past`` for call_at/call_later with a past time
    (CPython's loop runs it soon). The session computes a deadline and schedules it a moment later, when it may have
    passed by microseconds; the timer must still run, or a host gone quiet is never judged gone (seen in Chromium:
    one run in ten of test_the_page_host_going_away_mid_call…)."""
    session, host, lost = await _session(host=FakeHost(auto=False), interval=1.0)
    loop = asyncio.get_running_loop()
    real_call_at, real_call_later = loop.call_at, loop.call_later

    def call_later(delay: float, *args: Any, **kw: Any) -> asyncio.TimerHandle:
        if delay < 0:
            raise ValueError("Can't schedule in the past")
        return real_call_later(delay, *args, **kw)

    def call_at(when: float, *args: Any, **kw: Any) -> asyncio.TimerHandle:
        if when < loop.time():
            raise ValueError("Can't schedule in the past")
        return real_call_at(when, *args, **kw)

    monkeypatch.setattr(loop, "call_later", call_later)
    monkeypatch.setattr(loop, "call_at", call_at)
    host.alive = False
    pending = asyncio.ensure_future(session.call("pc.getStats", 1))
    await asyncio.sleep(0)
    # The host's last word was heard just over two intervals ago: the deadline is already past.
    assert session._timer is not None and session._liveness is not None
    session._timer.cancel()
    session._timer = None
    session._liveness.last_heard = loop.time() - 2.0 - 1e-6
    session._schedule()
    with pytest.raises(BridgeError, match="stopped answering"):
        await asyncio.wait_for(pending, 0.5)
    assert len(lost) == 1


def test_page_files_for_send_file_are_awaited_ops_and_a_missing_one_is_file_not_found():
    assert {"file.info", "file.read"} <= B.OPS and not ({"file.info", "file.read"} & B.POSTED_OPS)
    error = B.error_from_reply("file.info", B.ReplyError("NotFoundError", "no file 0 in #x"), {})
    assert isinstance(error, FileNotFoundError) and "no file 0" in str(error)
    assert isinstance(B.error_from_reply("file.read", B.ReplyError("NotReadableError", "x"), {}), BridgeError)
