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

    with pytest.raises(ValueError):
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


def test_livekit_rtc_semantics_arity_once_decorator_emit():
    em = EventEmitter()
    seen = []

    @em.on("track_subscribed")
    def only_track(track):  # fewer parameters than the event has: trimmed, as livekit.rtc does
        seen.append(("one", track))

    em.on("track_subscribed", lambda *args: seen.append(("all", args)))

    @em.once("track_subscribed")
    def first_only(track, publication, participant, extra=None):
        seen.append(("once", track, publication, participant, extra))

    em.emit("track_subscribed", "T", "P", "R")
    em.emit("track_subscribed", "T2", "P2", "R2")
    assert seen == [("one", "T"), ("all", ("T", "P", "R")), ("once", "T", "P", "R", None),
                    ("one", "T2"), ("all", ("T2", "P2", "R2"))]
    em.on("reconnecting", lambda: seen.append("reconnecting"))  # a livekit.rtc event we do not emit yet is fine
    em.off("reconnecting", print)  # unknown handler: no error
    with pytest.raises(ValueError):
        em.emit("no_such_event")


async def test_events_stream_registers_when_called():
    em = EventEmitter()
    stream = em.events()  # not iterated yet
    em._emit(Connected())
    em._end_streams()
    assert [type(e) async for e in stream] == [Connected]
    assert em._streams == []


def test_livekit_rtc_option_spellings():
    from livekit_pyweb import IceServer, IceTransportType, RtcConfiguration

    turn = IceServer(urls=("turn:t:3478",), username="u", credential="c")
    opts = RoomOptions(connect_timeout=4, rtc_config=RtcConfiguration(
        ice_transport_type=IceTransportType.TRANSPORT_RELAY, ice_servers=(turn,)))
    assert (opts.signal_timeout, opts.ice_servers, opts.ice_transport_policy) == (4, (turn,), "relay")
    assert RoomOptions(rtc_config=RtcConfiguration()).ice_servers is None  # empty: the server's servers
    with pytest.raises(ValueError):
        RtcConfiguration(ice_transport_type=IceTransportType.TRANSPORT_NOHOST)
    with pytest.raises(ValueError):
        RoomOptions(connect_timeout=0)
