"""The worker bridge's data channel (``_browser/bridge.py`` BridgeDataChannel) on CPython: how it accounts for the
page-owned ``bufferedAmount`` (bytes it posted, bytes and ``bufferedAmount`` the page reported) and when it tells
the SDK the buffer is low. ``js`` and ``pyodide.ffi`` are stand-ins here; the page side is a fake platform."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from .fakes import browser_stand_ins


@pytest.fixture(scope="module")
def bridge() -> Iterator[Any]:
    with browser_stand_ins():
        yield importlib.import_module("livekit_pyweb._browser.bridge")


class FakePage:
    """What BridgeDataChannel needs of its BridgePlatform: posts recorded, ``dc.state`` answered by the test."""

    def __init__(self) -> None:
        self.posted: list[tuple[Any, ...]] = []
        self.routes: dict[int, Any] = {}
        self.state: dict[str, Any] = {}
        self.asked = 0

    def _post(self, op: str, *args: Any) -> None:
        self.posted.append((op, *args))

    async def _call(self, op: str, *args: Any) -> Any:
        assert op == "dc.state"
        self.asked += 1
        await asyncio.sleep(0.01)
        return dict(self.state)

    def _route(self, handle: int, target: Any) -> None:
        self.routes[handle] = target

    def _forget(self, handle: int) -> None:
        self.routes.pop(handle, None)


async def test_buffered_amount_is_what_the_page_reported_plus_what_it_had_not_handled(bridge):
    page = FakePage()
    channel = bridge.BridgeDataChannel(page, 7, "_reliable")
    lows: list[int] = []
    channel.on_buffered_amount_low = lambda: lows.append(channel.buffered_amount)
    channel.buffered_amount_low_threshold = 65536
    assert page.posted == [("dc.setThreshold", 7, 65536)] and channel.buffered_amount_low_threshold == 65536
    channel._event("open", None)
    for _ in range(20):
        channel.send(b"x" * 60_000)
    assert channel.buffered_amount == 1_200_000  # nothing reported yet: all of it may be buffered
    # the page handled 18 sends and drained to 60,000 bytes: the 2 sends on their way still count
    channel._event("bufferedamountlow", {"buffered": 60_000, "sent": 18 * 60_000})
    assert channel.buffered_amount == 60_000 + 2 * 60_000
    await asyncio.sleep(0.05)
    assert page.asked == 1 and lows == []  # above the threshold: it asked the page, which has not answered low yet
    page.state = {"buffered": 30_000, "sent": 20 * 60_000, "readyState": "open"}
    channel._event("bufferedamountlow", {"buffered": 30_000, "sent": 19 * 60_000})  # 1 still on its way
    await asyncio.sleep(0.05)
    assert page.asked == 2 and lows == [30_000]  # the answer came after that send: exact, and low
    channel._event("bufferedamountlow", {"buffered": 0, "sent": 20 * 60_000})
    assert lows == [30_000, 0] and page.asked == 2  # all handled: low at once, no question


async def test_close_events_and_sends_after_close(bridge):
    page = FakePage()
    channel = bridge.BridgeDataChannel(page, 9, "_lossy")
    closed: list[str] = []
    channel.on_close = lambda: closed.append(channel.ready_state)
    channel._event("open", None)
    assert channel.ready_state == "open"
    channel._event("close", None)
    assert closed == ["closed"]
    channel.close()
    channel.send(b"late")
    assert ("dc.send", 9, b"late") not in page.posted and 9 not in page.routes


async def test_a_page_that_drains_every_send_at_once_still_lets_the_sender_on(bridge):
    """The page's channel empties each send before the next arrives, so its bufferedAmount never passes the
    threshold and it never fires bufferedamountlow; our estimate counts the sends it has not confirmed as buffered.
    Without asking, a sender that went past the high-water mark would wait for an event that never comes (seen in
    Chromium: 300 sends of up to 64 KB through the bridge stalled at 1.1 MB)."""

    class DrainingPage(FakePage):
        async def _call(self, op: str, *args: Any) -> Any:
            self.asked += 1
            await asyncio.sleep(0.01)  # the answer follows every send posted before the question
            return {"buffered": 0, "sent": sum(len(p[2]) for p in self.posted if p[0] == "dc.send"),
                    "readyState": "open"}

    page = DrainingPage()
    channel = bridge.BridgeDataChannel(page, 5, "_reliable")
    low = asyncio.Event()
    channel.on_buffered_amount_low = low.set
    channel.buffered_amount_low_threshold = 64 * 1024
    channel._event("open", None)
    for _ in range(300):
        if channel.buffered_amount > 1024 * 1024:  # the engine's high-water mark: wait for "low"
            low.clear()
            await asyncio.wait_for(low.wait(), 1.0)
            assert channel.buffered_amount <= 64 * 1024
        channel.send(b"y" * 63_000)
    assert page.asked >= 1 and len([p for p in page.posted if p[0] == "dc.send"]) == 300
