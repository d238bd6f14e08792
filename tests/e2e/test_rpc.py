"""RPC against the real server with real peers, each direction: our page (livekit_pyweb in Pyodide) calling and
being called by the official Python SDK (livekit.rtc 1.2, tests/e2e/peers/py_peer.py) and by livekit-client 2.23
(its UMD bundle loaded into the same test page: a second participant with its own connection). The cases: success
(the callee sees every RpcInvocationData field), an RpcError with message and data, a plain exception (1500), an
unknown method (1400), a response timeout (1502), requests and responses far over RPC v1's 15 360-byte limit (both
peers and we announce client_protocol >= 1: RPC v2, text streams; the v1 limits are unit-tested), and a callee that
leaves mid-call (1503). Then the same round trip from a Web Worker
(the bridge)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_page
from .test_worker_bridge import open_worker_page, run_worker

# Our handlers: the same methods and behaviour as py_peer.py's RPC_METHODS (echo, fail, crash, slow, big), each
# invocation recorded with all its fields; and a call helper giving {"result"} or {"error"} and the round trip.
OURS = """
import time
from livekit_pyweb import RpcError, RpcInvocationData

invoked = []
cancelled = []

def register(local):
    def seen(data):
        invoked.append({{"method": data.method, "request_id": data.request_id, "caller_identity": data.caller_identity,
                        "payload": data.payload[:200], "response_timeout": data.response_timeout}})

    @local.register_rpc_method("echo")
    async def echo(data: RpcInvocationData) -> str:
        seen(data)
        return f"echo:{{data.caller_identity}}:{{data.payload}}"

    @local.register_rpc_method("fail")
    def fail(data):
        seen(data)
        raise RpcError(2001, "custom failure", '{{"why": "test"}}')

    @local.register_rpc_method("crash")
    async def crash(data):
        seen(data)
        raise ValueError("our crash handler")

    @local.register_rpc_method("slow")
    async def slow(data):
        seen(data)
        try:
            await asyncio.sleep(float(data.payload))
        except asyncio.CancelledError:
            cancelled.append(data.cancel_reason.name if data.cancel_reason else None)
            raise
        return "slept"

    local.register_rpc_method("big", lambda data: seen(data) or "y" * int(data.payload))

async def call(destination, method, payload="", response_timeout=None):
    t0 = js.performance.now()
    try:
        out = {{"result": await room.local_participant.perform_rpc(
            destination_identity=destination, method=method, payload=payload, response_timeout=response_timeout)}}
    except RpcError as exc:
        out = {{"error": [exc.code, exc.message, exc.data]}}
    out["ms"] = js.performance.now() - t0
    return out

room = Room()
await room.connect({url!r}, {token!r})
register(room.local_participant)
json.dumps(room.local_participant.identity)
"""

# What our page sends to a callee offering RPC_METHODS; the expected answers are checked by _check_calls.
CALLS = """
results = {{}}
results["slow"] = await call({peer!r}, "slow", "5", response_timeout=1.0)
results["echo"] = await call({peer!r}, "echo", "hi ✓")
results["fail"] = await call({peer!r}, "fail")
results["crash"] = await call({peer!r}, "crash")
results["unknown"] = await call({peer!r}, "nope")
large = await call({peer!r}, "echo", "x" * 40000)
results["large_request"] = {{"length": len(large.get("result", "")), "ok": large.get("result", "").endswith("x" * 40000),
                            "error": large.get("error")}}
large = await call({peer!r}, "big", "50000")
results["large_response"] = {{"ok": large.get("result") == "y" * 50000, "error": large.get("error")}}
json.dumps(results)
"""


def _check_calls(results: dict[str, Any], me: str) -> None:
    assert results["echo"]["result"] == f"echo:{me}:hi ✓", results["echo"]
    assert results["fail"]["error"] == [2001, "custom failure", '{"why": "test"}'], results["fail"]
    assert results["crash"]["error"][:2] == [1500, "Application error in method handler"], results["crash"]
    assert results["unknown"]["error"][:2] == [1400, "Method not supported at destination"], results["unknown"]
    assert results["slow"]["error"][:2] == [1502, "Response timeout"], results["slow"]
    assert 900 <= results["slow"]["ms"] < 3000, results["slow"]  # our 1 s timer, counted from the send
    # RPC v2 (text streams): far over the v1 limit of 15 360 bytes, both ways
    assert results["large_request"]["ok"] and results["large_request"]["error"] is None, results["large_request"]
    assert results["large_response"] == {"ok": True, "error": None}, results["large_response"]


# After WORKER_PRELUDE (base_proxies).
WORKER = """
from livekit_pyweb import Room, RpcError
room = Room()
await room.connect({url!r}, {token!r})
seen = []

@room.local_participant.register_rpc_method("echo")
async def echo(data):
    seen.append([data.caller_identity, data.payload, data.method, data.response_timeout])
    return f"worker:{{data.payload}}"

result = await room.local_participant.perform_rpc(destination_identity="py-peer", method="echo", payload="from worker")
try:
    await room.local_participant.perform_rpc(destination_identity="py-peer", method="fail", payload="")
    error = None
except RpcError as exc:
    error = [exc.code, exc.message, exc.data]
json.dumps({{"result": result, "error": error}})
"""


# First in the module: its own browser starts before the module-scoped page of the other tests is open.
@pytest.mark.driver_timeout(180)
def test_rpc_through_the_worker_bridge(selenium_standalone, dist_url, py_peer, room_name):
    driver = selenium_standalone.driver
    peer = py_peer("py-peer", room_name, video=False, audio=False)
    peer.send("rpc_register")
    open_worker_page(driver, dist_url)
    run_worker(driver, WORKER_PRELUDE)
    out = run_worker(driver, WORKER.format(url=LIVEKIT_URL, token=make_token("worker", room_name)))
    assert out == {"result": "echo:worker:from worker", "error": [2001, "custom failure", '{"why": "test"}']}, out
    answer = peer.send("rpc_call", destination="worker", method="echo", payload="to worker")
    assert answer["result"] == "worker:to worker", answer
    seen = run_worker(driver, "json.dumps(seen)")
    assert seen == [["py-peer", "to worker", "echo", 8.0]], seen
    left = run_worker(driver, "await room.disconnect()\njson.dumps(live_proxy_count() - base_proxies)")
    assert left == 0


@pytest.mark.driver_timeout(120)
def test_rpc_page_calls_official_python_sdk(selenium, py_peer, room_name):
    peer = py_peer("py-peer", room_name, video=False, audio=False)
    peer.send("rpc_register")
    open_page(selenium)
    me = run_py(selenium, OURS.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    since = peer.mark()
    results = run_py(selenium, CALLS.format(peer="py-peer"))
    _check_calls(results, me)
    peer.mark()  # collects what the peer printed
    invoked: dict[str, Any] = {}
    for e in peer.events[since:]:
        if e["event"] == "rpc_invoked":
            invoked.setdefault(e["method"], e)  # the first call of each method
    echo = invoked["echo"]
    assert echo["caller_identity"] == "pyweb" and echo["payload"] == "hi ✓" and len(echo["request_id"]) == 36
    assert echo["response_timeout"] == 15.0  # our default, on the wire
    assert invoked["slow"]["response_timeout"] == 8.0  # 1 s asked: the callee is given max(1, 7 + 1)
    # The callee leaves mid-call: RECIPIENT_DISCONNECTED, without waiting for any timeout.
    run_py(selenium, "pending = asyncio.ensure_future(call('py-peer', 'slow', '30', response_timeout=60))\n"
                     "json.dumps(True)")
    peer.wait_for(lambda e: e["event"] == "rpc_invoked" and e["payload"] == "30", 10, "the slow call to arrive")
    peer.close()
    left = run_py(selenium, "json.dumps(await asyncio.wait_for(pending, 15))")
    assert left["error"][:2] == [1503, "Recipient disconnected"] and left["ms"] < 10_000, left
    run_py(selenium, "await room.disconnect()\njson.dumps(True)")
    assert logged_warnings(selenium) == []


@pytest.mark.driver_timeout(120)
def test_rpc_official_python_sdk_calls_page(selenium, py_peer, room_name):
    peer = py_peer("py-peer", room_name, video=False, audio=False)
    open_page(selenium)
    run_py(selenium, OURS.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))

    def rpc(method: str, payload: str = "", **kw: Any) -> dict[str, Any]:
        return peer.send("rpc_call", timeout=30, destination="pyweb", method=method, payload=payload, **kw)

    slow = rpc("slow", "20", response_timeout=1)
    assert slow["error"]["code"] == 1502, slow
    echo = rpc("echo", "hi ✓")
    assert echo["result"] == "echo:py-peer:hi ✓", echo
    fail = rpc("fail")
    assert (fail["error"]["code"], fail["error"]["message"], fail["error"]["data"]) == (
        2001, "custom failure", '{"why": "test"}'), fail
    crash = rpc("crash")
    assert (crash["error"]["code"], crash["error"]["message"]) == (1500, "Application error in method handler")
    assert rpc("nope")["error"]["code"] == 1400
    # RPC v2 (text streams): far over the v1 limit of 15 360 bytes, both ways
    large = rpc("big", "50000")
    assert large.get("result") == "y" * 50000, str(large)[:300]
    # ... but as a caller livekit.rtc 1.2 keeps to the v1 limit (measured: refused at its end, 1402)
    large = rpc("echo", "x" * 40000)
    assert large.get("error", {}).get("code") == 1402, str(large)[:300]
    seen = run_py(selenium, "json.dumps(invoked)")
    by_method: dict[str, Any] = {}
    for e in seen:
        by_method.setdefault(e["method"], e)
    assert set(by_method) == {"slow", "echo", "fail", "crash", "big"}, seen
    echo_seen = by_method["echo"]
    assert echo_seen["caller_identity"] == "py-peer" and echo_seen["payload"] == "hi ✓", echo_seen
    # livekit.rtc's default on the wire is 8 s (measured: its default response timeout is under 7 + 1 s)
    assert len(echo_seen["request_id"]) == 36 and echo_seen["response_timeout"] == 8.0, echo_seen
    # our slow handler is cancelled at the wire deadline (8 s: 1 s asked, at least 7 + 1) with RESPONSE_TIMEOUT
    cancelled = run_py(selenium, "await wait_until(lambda: cancelled, 15, 'the slow handler cancelled')\n"
                                 "json.dumps(cancelled)")
    assert cancelled == ["RESPONSE_TIMEOUT"]
    warnings = logged_warnings(selenium)
    # only the plain exception (PRELUDE's log handler is added once per test on a reused page: duplicates)
    assert warnings and all("RPC handler for crash raised" in w for w in warnings), warnings  # the plain exception, logged once
    run_py(selenium, "await room.disconnect()\njson.dumps(True)")


# livekit-client in the test page: a second participant; its handlers mirror RPC_METHODS.
JS_PEER = """
const [url, token, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const load = () => new Promise((ok, ko) => {
  if (window.LivekitClient) return ok();
  const s = document.createElement("script");
  s.src = "./livekit-client.umd.js"; s.onload = ok; s.onerror = ko;
  document.head.append(s);
});
(async () => {
  await load();
  const { Room, RpcError } = LivekitClient;
  const room = new Room();
  await room.connect(url, token);
  const invoked = [];
  const seen = (data, method) => invoked.push({ method, request_id: data.requestId, caller_identity: data.callerIdentity,
                                                payload: data.payload.slice(0, 200), response_timeout: data.responseTimeout });
  room.registerRpcMethod("echo", async (d) => { seen(d, "echo"); return `echo:${d.callerIdentity}:${d.payload}`; });
  room.registerRpcMethod("fail", async (d) => { seen(d, "fail"); throw new RpcError(2001, "custom failure", '{"why": "test"}'); });
  room.registerRpcMethod("crash", async (d) => { seen(d, "crash"); throw new Error("js crash handler"); });
  room.registerRpcMethod("slow", async (d) => { seen(d, "slow"); await new Promise((r) => setTimeout(r, 1000 * Number(d.payload))); return "slept"; });
  room.registerRpcMethod("big", async (d) => { seen(d, "big"); return "y".repeat(Number(d.payload)); });
  const call = async (destination, method, payload, responseTimeout) => {
    const t0 = performance.now();
    try {
      const result = await room.localParticipant.performRpc({ destinationIdentity: destination, method, payload, responseTimeout });
      return { result, ms: performance.now() - t0 };
    } catch (e) {
      return { error: [e.code, e.message, e.data ?? null], ms: performance.now() - t0 };
    }
  };
  window.jsRpc = { room, invoked, call };
  done(room.localParticipant.identity);
})().catch((e) => done("error: " + e));
"""


def _js(selenium: Any, script: str, *args: Any) -> Any:
    return selenium.driver.execute_async_script(script, *args)


def _js_call(selenium: Any, destination: str, method: str, payload: str = "", timeout_ms: int | None = None) -> Any:
    return _js(selenium, "const d = arguments[arguments.length - 1];"
                         "jsRpc.call(arguments[0], arguments[1], arguments[2], arguments[3] ?? undefined).then(d);",
               destination, method, payload, timeout_ms)


def _wait_known(selenium: Any) -> None:
    """Until each side knows the other (and so its client_protocol: a callee answers a caller it does not know yet
    as a v1 one, livekit-client too). The server tells a participant about a newcomer a moment after it joined
    (measured: about 2.5 s)."""
    run_py(selenium, "await wait_until(lambda: 'js-peer' in room.remote_participants, 15, 'js-peer')\n"
                     "json.dumps(True)")
    _js(selenium, "const d = arguments[arguments.length - 1]; const t0 = performance.now();"
                  "const go = () => jsRpc.room.remoteParticipants.has('pyweb') || performance.now() - t0 > 15000"
                  "  ? d(true) : setTimeout(go, 50); go();")


def _start_js_peer(selenium: Any, room_name: str) -> None:
    selenium.driver.set_script_timeout(60)
    identity = _js(selenium, JS_PEER, LIVEKIT_URL, make_token("js-peer", room_name))
    assert identity == "js-peer", identity


@pytest.mark.driver_timeout(120)
def test_rpc_page_calls_livekit_client(selenium, room_name):
    open_page(selenium)
    _start_js_peer(selenium, room_name)
    me = run_py(selenium, OURS.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    _wait_known(selenium)
    results = run_py(selenium, CALLS.format(peer="js-peer"))
    _check_calls(results, me)
    invoked: dict[str, Any] = {}
    for e in json.loads(selenium.driver.execute_script("return JSON.stringify(jsRpc.invoked)")):
        invoked.setdefault(e["method"], e)  # the first call of each method
    echo = invoked["echo"]
    assert echo["caller_identity"] == "pyweb" and echo["payload"] == "hi ✓" and len(echo["request_id"]) == 36
    assert echo["response_timeout"] == 15000  # livekit-client gives its handler milliseconds
    # The callee leaves mid-call: RECIPIENT_DISCONNECTED.
    run_py(selenium, "pending = asyncio.ensure_future(call('js-peer', 'slow', '30', response_timeout=60))\n"
                     "json.dumps(True)")
    selenium.driver.execute_script("setTimeout(() => jsRpc.room.disconnect(), 500)")
    left = run_py(selenium, "json.dumps(await asyncio.wait_for(pending, 15))")
    assert left["error"][:2] == [1503, "Recipient disconnected"] and left["ms"] < 10_000, left
    run_py(selenium, "await room.disconnect()\njson.dumps(True)")
    assert logged_warnings(selenium) == []


@pytest.mark.driver_timeout(120)
def test_rpc_livekit_client_calls_page(selenium, room_name):
    open_page(selenium)
    run_py(selenium, OURS.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    _start_js_peer(selenium, room_name)
    _wait_known(selenium)
    results = {}
    for name, method, payload, timeout_ms in (
            ("slow", "slow", "20", 1000), ("echo", "echo", "hi ✓", None), ("fail", "fail", "", None),
            ("crash", "crash", "", None), ("unknown", "nope", "", None), ("large_response", "big", "50000", None),
            ("large_request", "echo", "x" * 40000, None)):
        results[name] = _js_call(selenium, "pyweb", method, payload, timeout_ms)
    assert results["slow"]["error"][0] == 1502, results["slow"]
    assert results["echo"]["result"] == "echo:js-peer:hi ✓", results["echo"]
    assert results["fail"]["error"] == [2001, "custom failure", '{"why": "test"}'], results["fail"]
    assert results["crash"]["error"][:2] == [1500, "Application error in method handler"], results["crash"]
    assert results["unknown"]["error"][0] == 1400
    # RPC v2 (text streams): far over the v1 limit of 15 360 bytes, both ways
    assert results["large_response"].get("result") == "y" * 50000, str(results["large_response"])[:300]
    assert results["large_request"].get("result") == "echo:js-peer:" + "x" * 40000, str(results["large_request"])[:300]
    seen: dict[str, Any] = {}
    for e in run_py(selenium, "json.dumps(invoked)"):
        seen.setdefault(e["method"], e)
    assert seen["echo"]["caller_identity"] == "js-peer" and len(seen["echo"]["request_id"]) == 36
    assert seen["echo"]["response_timeout"] == 15.0 and seen["slow"]["response_timeout"] == 8.0, seen
    cancelled = run_py(selenium, "await wait_until(lambda: cancelled, 15, 'the slow handler cancelled')\n"
                                 "json.dumps(cancelled)")
    assert cancelled == ["RESPONSE_TIMEOUT"]
    warnings = logged_warnings(selenium)
    # only the plain exception (PRELUDE's log handler is added once per test on a reused page: duplicates)
    assert warnings and all("RPC handler for crash raised" in w for w in warnings), warnings
    run_py(selenium, "await room.disconnect()\njson.dumps(True)")
    selenium.driver.execute_script("jsRpc.room.disconnect()")
