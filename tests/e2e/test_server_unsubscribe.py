"""The server takes a subscription away (its API's UpdateSubscriptions, as an app backend may): it stops sending
the track and renegotiates, the page removes the track from its stream (``removetrack``), and the room drops it as
livekit-client does: ``track_unsubscribed``, the publication without a track. Subscribed again by the server, the
track comes back and decodes. Real server, the official Python SDK publishing, on the main thread (direct port) and
in a Web Worker (the page host pushes the ``removed`` event across the bridge)."""

from __future__ import annotations

import pytest

from .conftest import LIVEKIT_URL, make_token, room_service
from .page import open_python

JOIN = """
from livekit_pyweb import Room
room = Room()
events = []
for name in ("track_subscribed", "track_unsubscribed", "track_subscription_status_changed"):
    # [event, sid of the publication among its arguments]
    room.on(name, (lambda n: lambda *a: events.append(
        [n, next(str(x.sid) for x in a if hasattr(x, "subscription_status"))]))(name))
await room.connect({url!r}, {token!r})

def video():
    p = room.remote_participants.get("py-peer")
    return next((pub for pub in (p.track_publications.values() if p else []) if pub.kind.name == "KIND_VIDEO"), None)

async def decoded(min_frames):
    await wait_until(lambda: video() is not None and video().track is not None, 30, "the peer's video")
    track = video().track
    for _ in range(120):
        stats = await track.get_stats()
        if int(stats.get("framesDecoded", 0)) >= min_frames:
            return int(stats["framesDecoded"])
        await asyncio.sleep(0.25)
    raise AssertionError("no frames")
frames = await decoded(10)
json.dumps({{"sid": video().sid, "frames": frames}})
"""

UNSUBSCRIBED = """
await wait_until(lambda: video().track is None, 15, "the track dropped")
json.dumps({"events": list(events), "status": video().subscription_status.name})
"""

RESUBSCRIBED = """
frames = await decoded(10)
seen = list(events)
await room.disconnect()
json.dumps({"frames": frames, "events": seen, "leaked_proxies": live_proxy_count() - base_proxies,
            "logged": logged})
"""


def _server_subscribes(room: str, identity: str, sid: str, subscribe: bool) -> None:
    from livekit import api

    room_service(lambda lk: lk.room.update_subscriptions(api.UpdateSubscriptionsRequest(
        room=room, identity=identity, track_sids=[sid], subscribe=subscribe)))


@pytest.mark.driver_timeout(150)
@pytest.mark.parametrize("where", ["main", "worker"])
def test_a_subscription_the_server_takes_away_drops_the_track(selenium_standalone, py_peer, room_name, dist_url,
                                                              where):
    py_peer("py-peer", room_name, video=True, audio=False)
    run = open_python(selenium_standalone, dist_url, where)
    joined = run(JOIN.format(url=LIVEKIT_URL, token=make_token("page", room_name)))
    sid = joined["sid"]
    _server_subscribes(room_name, "page", sid, False)
    gone = run(UNSUBSCRIBED)
    print(where, "server unsubscribed:", gone)
    assert gone["events"] == [["track_subscribed", sid], ["track_subscription_status_changed", sid],
                              ["track_unsubscribed", sid], ["track_subscription_status_changed", sid]], gone
    _server_subscribes(room_name, "page", sid, True)
    back = run(RESUBSCRIBED)
    print(where, "server subscribed again:", back)
    assert back["frames"] >= 10 and back["events"][-2:] == [
        ["track_subscribed", sid], ["track_subscription_status_changed", sid]], back
    assert back["leaked_proxies"] == 0 and back["logged"] == [], back
