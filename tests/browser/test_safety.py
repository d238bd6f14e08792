"""Adapter behaviours that only the real browser can show: deadlines, error mapping, encodings and listeners that
really reach Chromium, and proxies that are really destroyed (not only counted)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.fixture
def silent_tcp_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a WebSocket handshake that never completes)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@run_in_pyodide(packages=["livekit-pyweb"])
async def _signal_timeout(selenium, port, token):
    import time

    from livekit_pyweb import ConnectionError, ConnectionErrorReason, Room, RoomOptions
    from livekit_pyweb._browser import live_peer_connection_count, live_proxy_count

    from livekit_pyweb import _engine  # noqa: F401 - imported before the clock starts
    from livekit_pyweb._core import proto

    proto.rtc()
    base = live_proxy_count()
    started = time.monotonic()
    try:
        await Room(RoomOptions(signal_timeout=1.5)).connect(f"ws://127.0.0.1:{port}", token)
    except ConnectionError as exc:
        error = exc
    else:
        raise AssertionError("connected to a server that never answers")
    elapsed = time.monotonic() - started
    assert error.reason is ConnectionErrorReason.Timeout, repr(error)
    assert 1.4 <= elapsed < 2.5, elapsed  # the option, not the 15 s default
    for part in token.split("."):
        assert part not in str(error), str(error)
    assert live_proxy_count() == base and live_peer_connection_count() == 0


@pytest.mark.driver_timeout(60)
def test_websocket_open_timeout(selenium, silent_tcp_port):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldC1wYXJ0"
    _signal_timeout(selenium, silent_tcp_port, token)


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
async def test_device_errors_are_typed(selenium):
    import js

    from livekit_pyweb.errors import DeviceError, DeviceErrorReason
    from livekit_pyweb._browser._errors import device_errors

    throw = js.Function.new("name", "throw new DOMException('simulated ' + name, name)")
    expected = {
        "NotAllowedError": DeviceErrorReason.PermissionDenied,
        "SecurityError": DeviceErrorReason.PermissionDenied,
        "NotFoundError": DeviceErrorReason.NotFound,
        "OverconstrainedError": DeviceErrorReason.NotFound,
        "NotReadableError": DeviceErrorReason.DeviceInUse,
        "AbortError": DeviceErrorReason.DeviceInUse,
        "TypeError": DeviceErrorReason.Other,
    }
    for name, reason in expected.items():
        try:
            with device_errors("getUserMedia"):
                throw(name)
        except DeviceError as exc:
            assert (exc.reason, exc.name) == (reason, name), (name, exc.reason, exc.name)
            assert str(exc).startswith("getUserMedia failed: ") and exc.__cause__ is not None
        else:
            raise AssertionError(f"{name} was not raised as DeviceError")

    # The same through an awaited rejection, as getUserMedia fails.
    reject = js.Function.new("name", "return Promise.reject(new DOMException('simulated ' + name, name))")
    for name, reason in expected.items():
        try:
            with device_errors("getUserMedia"):
                await reject(name)
        except DeviceError as exc:
            assert (exc.reason, exc.name) == (reason, name), (name, exc.reason, exc.name)
        else:
            raise AssertionError(f"{name} was not raised as DeviceError")


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
def test_proxies_are_destroyed_not_only_counted(selenium):
    import js

    from livekit_pyweb._browser import live_proxy_count
    from livekit_pyweb._browser._proxies import ProxyBag

    base = live_proxy_count()
    target = js.EventTarget.new()
    calls = []
    bag = ProxyBag()
    bag.listen(target, "ping", lambda event: calls.append(str(event.type)))
    (_, _, proxy), = bag._entries
    target.dispatchEvent(js.Event.new("ping"))
    assert calls == ["ping"] and live_proxy_count() == base + 1
    call = js.Function.new("f", "try { f({type: 'direct'}); return 'called'; } catch (e) { return 'threw'; }")
    bag.close()
    bag.close()  # idempotent
    target.dispatchEvent(js.Event.new("ping"))
    assert calls == ["ping"]  # the listener is gone
    assert call(proxy) == "threw"  # and the proxy itself is destroyed: JS can no longer reach Python through it
    assert live_proxy_count() == base


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
def test_page_hide_listener_fires_once_and_closes(selenium):
    import js

    from livekit_pyweb._browser import live_proxy_count
    from livekit_pyweb._browser.page import PageHideListener

    base = live_proxy_count()
    hidden = []
    listener = PageHideListener(lambda: hidden.append(1))
    assert live_proxy_count() == base + 1
    js.window.dispatchEvent(js.Event.new("pagehide"))
    assert hidden == [1]
    listener.close()
    js.window.dispatchEvent(js.Event.new("pagehide"))
    assert hidden == [1] and live_proxy_count() == base


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
async def test_simulcast_encodings_reach_the_sender(selenium):
    from livekit_pyweb import LocalVideoTrack
    from livekit_pyweb._browser.media import get_user_media
    from livekit_pyweb._browser.peer_connection import BrowserPeerConnection
    from livekit_pyweb._core.simulcast import compute_layers

    (mst,) = await get_user_media({"video": {"width": {"ideal": 1280}, "height": {"ideal": 720}}})
    track = LocalVideoTrack(mst)
    assert track.dimensions == (1280, 720)
    layers = compute_layers(*track.dimensions)
    pc = BrowserPeerConnection({})
    try:
        sender = await pc.add_send_transceiver(mst, [layer.encoding() for layer in layers])
        params = sender.transceiver.sender.getParameters().to_py()
        got = [(e["rid"], e["scaleResolutionDownBy"], e["maxBitrate"]) for e in params["encodings"]]
        assert got == [(l.rid, l.scale_down_by, l.max_bitrate) for l in layers], got
        assert [e[0] for e in got] == ["q", "h", "f"] and [e[1] for e in got] == [4.0, 2.0, 1.0]
        offer = await pc.create_offer()
        assert "a=simulcast:send q;h;f" in offer, offer
    finally:
        pc.close()
        track.stop()
