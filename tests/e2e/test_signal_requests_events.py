"""Against the real server: SignalRequestError (code 15) for a metadata update the token does not allow, a
permitted one the server applies; signal_connected before connected; participant- and track-level events
following the peer's mute."""

from __future__ import annotations

import pytest

from .conftest import API_KEY, API_SECRET, LIVEKIT_URL, make_token, room_service, run_py
from .page import logged_warnings, open_page


def _token(identity: str, room: str, *, can_update_own_metadata: bool) -> str:
    from livekit import api

    return (
        api.AccessToken(API_KEY, API_SECRET)
        .with_identity(identity)
        .with_name(identity)
        .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                                     can_update_own_metadata=can_update_own_metadata))
        .to_jwt()
    )


CONNECT = """
room = Room()
order = []
room.on("signal_connected", lambda: order.append(["signal_connected", room.local_participant.identity,
                                                   room._engine.publisher.connection_state]))
room.on("connected", lambda: order.append(["connected"]))
await room.connect({url!r}, {token!r})
json.dumps(order)
"""

REFUSED = """
from livekit_pyweb import SignalRequestError
t0 = js.performance.now()
try:
    await room.local_participant.set_metadata("not allowed")
    outcome = {{"error": None}}
except SignalRequestError as exc:
    outcome = {{"error": type(exc).__name__, "code": exc.code, "reason": exc.reason_name, "message": str(exc)}}
outcome["ms"] = js.performance.now() - t0
outcome["metadata"] = room.local_participant.metadata
json.dumps(outcome)
"""

ALLOWED = """
await room.local_participant.set_metadata("from pyweb")
await room.local_participant.set_name("Pyweb")
await room.local_participant.set_attributes({{"color": "blue"}})
lp = room.local_participant
json.dumps([lp.metadata, lp.name, lp.attributes])
"""


@pytest.mark.driver_timeout(90)
def test_metadata_updates_refused_and_allowed(selenium_standalone, livekit_server, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    order = run_py(selenium, CONNECT.format(url=LIVEKIT_URL, token=_token("pyweb", room_name,
                                                                           can_update_own_metadata=False)))
    # signal_connected: the JoinResponse is applied (we know who we are), the peer connection not yet up.
    assert order[0][:2] == ["signal_connected", "pyweb"] and order[0][2] != "connected", order
    assert [o[0] for o in order] == ["signal_connected", "connected"], order

    refused = run_py(selenium, REFUSED.format())
    # The server's RequestResponse NOT_ALLOWED fails the call at once (not after the 5 s wait).
    assert refused["error"] == "SignalRequestError" and refused["code"] == 15, refused
    assert refused["reason"] == "NOT_ALLOWED" and "permission" in refused["message"], refused
    assert refused["ms"] < 2000 and refused["metadata"] == "", refused
    run_py(selenium, "await room.disconnect()\njson.dumps(None)")

    run_py(selenium, CONNECT.format(url=LIVEKIT_URL, token=_token("pyweb2", room_name, can_update_own_metadata=True)))
    allowed = run_py(selenium, ALLOWED.format())
    assert allowed == ["from pyweb", "Pyweb", {"color": "blue"}], allowed
    # The server holds what we set (its API reads the participant back).
    from livekit import api

    info = room_service(lambda lk: lk.room.get_participant(api.RoomParticipantIdentity(room=room_name,
                                                                                      identity="pyweb2")))
    assert (info.metadata, info.name, dict(info.attributes)) == ("from pyweb", "Pyweb", {"color": "blue"}), info
    run_py(selenium, "await room.disconnect()\njson.dumps(None)")
    assert logged_warnings(selenium) == []


LISTEN = """
room = Room()
await room.connect({url!r}, {token!r})
peer = room.remote_participants["py-peer"]
levels = []
peer_events = []
track_events = []
for n in ("track_muted", "track_unmuted", "track_subscribed", "is_speaking_changed"):
    peer.on(n, lambda *a, n=n: peer_events.append([n] + [describe(x) for x in a]))
audio = await remote_track("py-peer", "AUDIO")
for n in ("muted", "unmuted", "element_attached"):
    audio.on(n, lambda *a, n=n: track_events.append([n] + [describe(x) if n != "element_attached" else "el"
                                                          for x in a]))
room.on("track_muted", lambda p, pub: peer_events.append(["room:track_muted", p.identity, pub.sid]))
room.on("track_unmuted", lambda p, pub: peer_events.append(["room:track_unmuted", p.identity, pub.sid]))
js.document.body.append(audio.attach())
json.dumps(audio.sid)
"""

WAIT_EVENTS = """
await wait_until(lambda: len([e for e in peer_events if e[0] != "is_speaking_changed"]) >= {n}, 10, "peer events")
json.dumps({{"peer": [e for e in peer_events if e[0] != "is_speaking_changed"], "track": track_events,
            "speaking": [e for e in peer_events if e[0] == "is_speaking_changed"]}})
"""


@pytest.mark.driver_timeout(120)
def test_participant_and_track_events_follow_the_peers_mute(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("py-peer", room_name, video=False, audio=True)
    peer.wait_for(lambda e: e["event"] == "connected", 20, "the peer joined")
    open_page(selenium)
    sid = run_py(selenium, LISTEN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    peer.send("mute", kind="audio")
    out = run_py(selenium, WAIT_EVENTS.format(n=2))
    peer.send("unmute", kind="audio")
    out = run_py(selenium, WAIT_EVENTS.format(n=4))
    assert out["track"] == [["element_attached", "el"], ["muted", sid], ["unmuted", sid]], out
    # Each change: on the participant first, then on the room (livekit-client's order).
    assert out["peer"] == [["track_muted", sid], ["room:track_muted", "py-peer", sid],
                           ["track_unmuted", sid], ["room:track_unmuted", "py-peer", sid]], out
    run_py(selenium, "await room.disconnect()\njson.dumps(None)")
    assert logged_warnings(selenium) == []
