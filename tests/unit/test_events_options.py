import dataclasses
import asyncio

import pytest

from livekit_pyweb import RoomOptions
from livekit_pyweb.events import Connected, Disconnected, EventEmitter


def test_on_decorator_off_and_errors():
    em = EventEmitter()
    seen = []

    @em.on("disconnected")
    def handler(reason):
        seen.append(reason)

    em._emit(Disconnected("bye"))
    em.off("disconnected", handler)
    em._emit(Disconnected("again"))
    assert seen == ["bye"]
    with pytest.raises(ValueError):
        em.on("no_such_event", print)

    async def coro(*_):
        pass

    with pytest.raises(TypeError):
        em.on("connected", coro)


def test_raising_handler_does_not_stop_others(expect_log):
    em = EventEmitter()
    seen = []
    em.on("connected", lambda: 1 / 0)
    em.on("connected", lambda: seen.append(1))
    em._emit(Connected())
    assert seen == [1]
    (record,) = expect_log  # the failure is reported, with its traceback, not swallowed
    assert record.levelname == "ERROR" and "'connected'" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


async def test_events_stream_in_order_until_end():
    em = EventEmitter()

    async def consume():
        return [e async for e in em.events()]

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0)
    em._emit(Connected())
    em._emit(Disconnected("x"))
    em._end_streams()
    got = await task
    assert [type(e) for e in got] == [Connected, Disconnected]


def test_options_frozen_and_validated():
    opts = RoomOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.auto_subscribe = False  # type: ignore[misc]
    with pytest.raises(ValueError):
        RoomOptions(ice_transport_policy="tcp")
    with pytest.raises(ValueError):
        RoomOptions(join_timeout=0)
