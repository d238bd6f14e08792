"""Dynacast: the server's ``subscribed_quality_update`` switches our video encodings on and off (livekit-client
``setPublishingLayersForSender``): the mapping (sans-IO) and the room wiring down to the sender port's flags."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import RoomOptions
from livekit_pyweb._core import proto
from livekit_pyweb._core.dynacast import encodings_active, rid_quality, subscribed_qualities
from livekit_pyweb._core.simulcast import HIGH, LOW, MEDIUM, compute_layers

from .fakes import answer_offers, connected_room, until
from .test_public_over_port import _publish_camera

THREE = compute_layers(1280, 720)  # q, h, f
TWO = compute_layers(640, 480)  # q, h
ONE = compute_layers(1280, 720, simulcast=False)  # a lone encoding, no rid


def _update(sid: str = "TR_cam", codecs: dict[str, dict[int, bool]] | None = None,
            legacy: dict[int, bool] | None = None):
    rtc = proto.rtc()
    return rtc.SubscribedQualityUpdate(
        track_sid=sid,
        subscribed_codecs=[rtc.SubscribedCodec(codec=c, qualities=[rtc.SubscribedQuality(quality=q, enabled=e)
                                                                   for q, e in qs.items()])
                           for c, qs in (codecs or {}).items()],
        subscribed_qualities=[rtc.SubscribedQuality(quality=q, enabled=e) for q, e in (legacy or {}).items()],
    )


def _q(low: bool, medium: bool, high: bool) -> dict[int, bool]:
    return {LOW: low, MEDIUM: medium, HIGH: high}


def test_rids_map_to_qualities_as_livekit_client():
    assert [rid_quality(l.rid) for l in THREE] == [LOW, MEDIUM, HIGH]
    assert [rid_quality(l.rid) for l in TWO] == [LOW, MEDIUM]
    assert rid_quality("") == LOW  # a lone encoding counts as "q": sent while anyone subscribes


@pytest.mark.parametrize("qualities, three, two, one", [
    (_q(True, False, False), [True, False, False], [True, False], [True]),      # a LOW subscriber
    (_q(True, True, False), [True, True, False], [True, True], [True]),         # MEDIUM
    (_q(True, True, True), [True, True, True], [True, True], [True]),           # HIGH
    (_q(False, False, False), [False, False, False], [False, False], [False]),  # nobody
])
def test_subscribed_qualities_become_active_flags(qualities, three, two, one):
    assert encodings_active(THREE, qualities, [True] * 3) == three
    assert encodings_active(TWO, qualities, [True] * 2) == two
    assert encodings_active(ONE, qualities, [True]) == one


def test_a_quality_not_mentioned_keeps_its_flag():
    assert encodings_active(THREE, {HIGH: True}, [False, False, False]) == [False, False, True]
    assert encodings_active(THREE, {}, [True, False, True]) == [True, False, True]
    with pytest.raises(ValueError):
        encodings_active(THREE, {}, [True])


def test_the_tracks_own_codec_is_chosen_and_others_ignored():
    update = _update(codecs={"av1": _q(True, True, True), "vp8": _q(True, False, False)})
    assert subscribed_qualities(update, "video/VP8") == _q(True, False, False)
    assert subscribed_qualities(update, "video/AV1") == _q(True, True, True)
    assert subscribed_qualities(update, "video/H264") is None  # not a codec we send
    assert subscribed_qualities(update, "") == _q(True, True, True)  # codec not known yet: the first, as livekit-client


def test_an_update_without_codecs_uses_the_legacy_qualities():
    assert subscribed_qualities(_update(legacy=_q(True, False, False)), "video/VP8") == _q(True, False, False)


async def _room_with_camera(dynacast: bool):
    room, socket, pc = await connected_room(options=RoomOptions(dynacast=dynacast))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    pub = await _publish_camera(room, socket)
    (sender,) = pc.senders
    return room, socket, pub, sender, done, server


async def test_updates_switch_the_senders_encodings():
    room, socket, pub, sender, done, server = await _room_with_camera(dynacast=True)
    assert sender.active == [True, True, True]  # all sent until the server says otherwise
    socket.push(subscribed_quality_update=_update(codecs={"vp8": _q(False, False, False)}))
    await until(lambda: sender.active == [False, False, False])  # no subscriber: none
    socket.push(subscribed_quality_update=_update(codecs={"vp8": _q(True, False, False)}))
    await until(lambda: sender.active == [True, False, False])  # a LOW subscriber: q only
    socket.push(subscribed_quality_update=_update(codecs={"vp8": _q(True, True, True)}))
    await until(lambda: sender.active == [True, True, True])  # HIGH: q, h, f
    socket.push(subscribed_quality_update=_update(codecs={"vp8": _q(True, True, True)}))  # no change: no call
    socket.push(subscribed_quality_update=_update(sid="TR_other", codecs={"vp8": _q(False, False, False)}))
    await asyncio.sleep(0.1)
    assert sender.active_calls == [[False] * 3, [True, False, False], [True] * 3]
    done.set()
    await server
    await room.disconnect()


async def test_updates_in_a_burst_end_in_the_last_state():
    room, socket, pub, sender, done, server = await _room_with_camera(dynacast=True)
    for qualities in (_q(False, False, False), _q(True, True, True), _q(True, False, False)):
        socket.push(subscribed_quality_update=_update(codecs={"vp8": qualities}))
    await until(lambda: sender.active == [True, False, False])
    await asyncio.sleep(0.1)
    assert sender.active == [True, False, False]
    done.set()
    await server
    await room.disconnect()


async def test_an_update_that_came_before_the_publication_is_applied_to_it():
    room, socket, pc = await connected_room(options=RoomOptions(dynacast=True))
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    socket.push(subscribed_quality_update=_update(codecs={"vp8": _q(False, False, False)}))
    await asyncio.sleep(0.05)
    await _publish_camera(room, socket)
    (sender,) = pc.senders
    await until(lambda: sender.active == [False, False, False])
    done.set()
    await server
    await room.disconnect()


async def test_with_dynacast_off_the_update_is_ignored():
    room, socket, pub, sender, done, server = await _room_with_camera(dynacast=False)
    assert RoomOptions().dynacast is False  # livekit-client's default
    socket.push(subscribed_quality_update=_update(codecs={"vp8": _q(False, False, False)}))
    await asyncio.sleep(0.1)
    assert sender.active == [True, True, True] and sender.active_calls == []
    done.set()
    await server
    await room.disconnect()
