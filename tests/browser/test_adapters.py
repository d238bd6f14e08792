"""The browser adapters against the real Chromium APIs: they work, and they release every proxy they made."""

from __future__ import annotations

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
async def test_peer_connections_loop_and_release(selenium):
    import asyncio

    from livekit_pyweb._browser import live_peer_connection_count, live_proxy_count
    from livekit_pyweb._browser.peer_connection import BrowserPeerConnection

    base = live_proxy_count()
    a, b = BrowserPeerConnection({}), BrowserPeerConnection({})
    assert live_peer_connection_count() == 2
    assert live_proxy_count() == base + 8  # icecandidate, track, connectionstatechange, datachannel each
    a.on_ice_candidate = lambda c: asyncio.ensure_future(b.add_ice_candidate(c)) if c else None
    b.on_ice_candidate = lambda c: asyncio.ensure_future(a.add_ice_candidate(c)) if c else None
    got: asyncio.Future = asyncio.get_event_loop().create_future()

    def on_channel(channel):
        channel.on_message = lambda data: got.done() or got.set_result(data)

    b.on_data_channel = on_channel
    sender = await a.create_data_channel("_reliable", ordered=True)
    opened = asyncio.Event()
    sender.on_open = opened.set
    await a.add_recv_transceiver("video")
    offer = await a.create_offer()
    assert "m=application" in offer and "m=video" in offer
    await a.set_local_description("offer", offer)
    await b.set_remote_description("offer", offer)
    answer = await b.create_answer()
    await b.set_local_description("answer", answer)
    await a.set_remote_description("answer", answer)
    await asyncio.wait_for(opened.wait(), 10)
    sender.send(b"\x00hello\xff")
    assert await asyncio.wait_for(got, 10) == b"\x00hello\xff"
    assert a.connection_state == "connected"
    stats = await a.get_stats()
    assert any(s.get("type") == "transport" for s in stats)
    a.close()
    b.close()
    a.close()  # idempotent
    assert live_peer_connection_count() == 0
    assert live_proxy_count() == base


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
async def test_websocket_failure_maps_to_server_unreachable(selenium):
    import time

    from livekit_pyweb._browser import live_proxy_count
    from livekit_pyweb._browser.websocket import open_signal
    from livekit_pyweb.errors import ConnectionError, ConnectionErrorReason

    base = live_proxy_count()
    started = time.monotonic()
    try:
        await open_signal("ws://127.0.0.1:9/rtc/v1?access_token=x", 5)
    except ConnectionError as exc:
        assert exc.reason is ConnectionErrorReason.ServerUnreachable, exc
    else:
        raise AssertionError("a WebSocket to a closed port opened")
    assert time.monotonic() - started < 5
    assert live_proxy_count() == base


@pytest.mark.driver_timeout(60)
@run_in_pyodide(packages=["livekit-pyweb"])
async def test_capture_attach_detach(selenium):
    import js

    from livekit_pyweb import LocalVideoTrack, TrackSource
    from livekit_pyweb._browser.media import get_user_media

    (mst,) = await get_user_media({"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}})
    track = LocalVideoTrack(mst, TrackSource.SOURCE_CAMERA)
    assert track.dimensions == (640, 480)
    element = track.attach()
    assert element.tagName == "VIDEO" and element.muted and element.autoplay
    js.document.body.append(element)
    assert track.attached_elements == [element]
    # Sound on the same element unmutes it; a video-only element stays muted so it may autoplay.
    from livekit_pyweb import LocalAudioTrack

    (mic,) = await get_user_media({"audio": True})
    audio = LocalAudioTrack(mic)
    assert audio.attach(element) is element and not element.muted
    assert audio.detach() == [element]
    assert track.detach() == [element]
    from pyodide.ffi import jsnull

    assert element.srcObject is jsnull
    track.stop()
    audio.stop()
    assert mst.ready_state == "ended" and mic.ready_state == "ended"
    assert str(mst.native.readyState) == "ended" and track.media_stream_track is mst.native
    element.remove()
