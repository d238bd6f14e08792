"""livekit_pyweb in a plain Web Worker (web/worker.html + worker.mjs): the room runs here, the page's
``lkpw-host.mjs`` owns the peer connections, the capture and the <video>/<audio> elements (the worker bridge).

``main(url, token)`` is the demo: join, publish camera and microphone, mount every remote track in the page's
``#remote``. The tests and bench/bridge.py call the helpers below through ``runInWorker(code)``; each returns
plain data for ``json.dumps``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import js

from livekit_pyweb import AudioCaptureOptions, Room, RoomOptions
from livekit_pyweb._browser import live_proxy_count
from livekit_pyweb._browser.bridge import BridgePlatform

base_proxies = live_proxy_count()
room: Room | None = None
platform: BridgePlatform | None = None
log: list[list[str]] = []  # room events: [name, describe(arg)...]
logged: list[str] = []  # livekit_pyweb records at WARNING and above
elements: list[Any] = []
state: dict[str, Any] = {"state": "idle"}
connect_started_ms = 0.0


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        logged.append(f"{record.levelname} {record.name}: {record.getMessage()}")


logging.getLogger("livekit_pyweb").addHandler(_Collect(logging.WARNING))

# Chromium's fake microphone beeps; its audio processing reshapes the beeps, so capture raw (as tests/e2e/page.py).
RAW_MIC = AudioCaptureOptions(echo_cancellation=False, noise_suppression=False, auto_gain_control=False)


def report(**changes: Any) -> None:
    state.update(changes)
    js.lkpwReport(json.dumps(state))


def describe(arg: Any) -> str:
    name = getattr(arg, "name", None)
    if hasattr(arg, "value") and isinstance(name, str):  # an enum
        return name
    return getattr(arg, "identity", None) or getattr(arg, "sid", None) or str(arg)


def record(r: Room) -> None:
    def make(name: str) -> Any:
        def handler(*args: Any) -> None:
            log.append([name, *(describe(a) for a in args)])
        return handler

    for name in ("connected", "participant_connected", "participant_disconnected", "track_published",
                 "track_unpublished", "track_subscribed", "track_unsubscribed", "local_track_published",
                 "disconnected"):
        r.on(name, make(name))


def now_ms() -> float:
    return float(js.performance.now())


async def join(url: str, token: str, *, camera: bool = True, microphone: bool = True, interval: float = 1.0,
               mount: str | None = None, bridge: bool = True) -> dict[str, Any]:
    """Connect with the bridge forced on (an explicit BridgePlatform: it stays ours after disconnect, so
    :func:`leave` can still ask the page what it holds). ``bridge=False``: the direct path (main thread only)."""
    global room, platform, connect_started_ms
    platform = BridgePlatform(interval=interval) if bridge else None
    room = Room(RoomOptions(), platform=platform if platform is not None else "direct")
    record(room)
    if mount:
        @room.on("track_subscribed")
        def _show(track: Any, publication: Any, participant: Any) -> None:
            elements.append(track.attach().mount(mount))

    t0 = connect_started_ms = now_ms()
    await room.connect(url, token)
    connect_ms = now_ms() - t0
    if camera:
        await room.local_participant.set_camera_enabled(True)
    if microphone:
        await room.local_participant.set_microphone_enabled(True, RAW_MIC)
    return {"connect_ms": connect_ms, "state": room.connection_state.name, "identity": room.local_participant.identity,
            "remotes": sorted(room.remote_participants), "platform": room._platform.name,
            "channel": platform.channel if platform is not None else None,
            "published": sorted(p.source.name for p in room.local_participant.track_publications.values()),
            "native": [p.track.media_stream_track is None for p in room.local_participant.track_publications.values()]}


async def remote_track(identity: str, kind: str, timeout: float = 30.0) -> Any:
    assert room is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        participant = room.remote_participants.get(identity)
        if participant is not None:
            for pub in participant.track_publications.values():
                if pub.track is not None and pub.kind.name == "KIND_" + kind:
                    return pub.track
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} track from {identity}; log={log}")


async def decode(identity: str, frames_wanted: int = 30, timeout: float = 30.0) -> dict[str, Any]:
    """Attach the peer's video (a BridgeElement mounted in #remote) and read framesDecoded through the bridge
    until it has grown past ``frames_wanted``."""
    video = await remote_track(identity, "VIDEO")
    element = video.attach().mount("#remote")
    elements.append(element)
    frames: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = await video.get_stats()
        frames.append(int(stats.get("framesDecoded", 0)))
        if frames[-1] >= frames_wanted and len([f for f in frames if f > 0]) >= 3:
            break
        await asyncio.sleep(0.25)
    return {"frames": frames, "element": {"handle": element.handle, "channel": element.channel}, "log": log}


async def first_frame_ms(identity: str, since_ms: float | None = None, timeout: float = 30.0) -> float:
    """Milliseconds from ``since_ms`` (performance.now(); default: when connect() started) until the peer's first
    decoded video frame."""
    if since_ms is None:
        since_ms = connect_started_ms
    video = await remote_track(identity, "VIDEO", timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = await video.get_stats()
        if int(stats.get("framesDecoded", 0)) > 0:
            return now_ms() - since_ms
        await asyncio.sleep(0.02)
    raise AssertionError(f"no frame from {identity}")


async def leave() -> dict[str, Any]:
    """Disconnect; then what the page host still holds, and our live proxies before and after closing the
    platform (relative to before the room existed)."""
    assert room is not None
    await room.disconnect()
    await asyncio.sleep(0.3)
    counts = await platform.counts() if platform is not None else None
    proxies_open = live_proxy_count() - base_proxies
    if platform is not None:
        platform.close()
    return {"state": room.connection_state.name, "counts": counts, "proxies_while_open": proxies_open,
            "proxies": live_proxy_count() - base_proxies, "log": log, "logged": logged}


async def timed(n: int, call: Any) -> dict[str, float]:
    """``await call()`` ``n`` times in a row: median, p95 and max in ms."""
    samples = []
    for _ in range(n):
        t0 = now_ms()
        await call()
        samples.append(now_ms() - t0)
    samples.sort()
    return {"n": n, "median": samples[n // 2], "p95": samples[min(n - 1, int(n * 0.95))], "max": samples[-1]}


async def signal_round_trip() -> None:
    """One signalling round trip: a ``ping_req`` out, until the engine's read loop has the server's ``pong_resp``
    (through the page host's socket on the bridge: two more BroadcastChannel hops)."""
    from livekit_pyweb._core import codec, proto

    assert room is not None and room._engine is not None
    engine = room._engine
    session = engine.session
    before = session.pongs_received
    arrived = asyncio.get_running_loop().create_future()
    receive = session.receive_data

    def spy(data: bytes, now: float) -> None:
        receive(data, now)
        if session.pongs_received > before and not arrived.done():
            arrived.set_result(None)

    session.receive_data = spy  # type: ignore[method-assign]
    try:
        engine.ws.send(codec.encode_request(codec.request(ping_req=proto.rtc().Ping(timestamp=int(now_ms()), rtt=0))))
        await asyncio.wait_for(arrived, 5)
    finally:
        del session.receive_data


async def call_costs(identity: str, n: int = 60) -> dict[str, dict[str, float]]:
    """Per-call costs: ``host.ping`` (bridge only), a remote video track's ``get_stats()`` and a signalling round
    trip (either path)."""
    video = await remote_track(identity, "VIDEO")
    out = {"get_stats": await timed(n, video.get_stats), "signal_rtt": await timed(n, signal_round_trip)}
    if platform is not None:
        out["ping"] = await timed(n, platform.ping)
    return out


async def main(url: str, token: str) -> None:
    """The demo: join, publish, show every remote track in the page."""
    report(state="connecting")
    try:
        joined = await join(url, token, mount="#remote")
    except Exception as exc:
        report(state="error", error=f"{type(exc).__name__}: {exc}")
        return
    report(state="connected", joined=joined)
    assert room is not None

    @room.on("disconnected")
    def _gone(reason: Any) -> None:
        report(state="disconnected", reason=describe(reason))
