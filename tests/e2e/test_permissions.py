"""Publish permissions against the real server: what the token does not grant is refused at once, with a typed
error, before any capture, and what it grants still publishes and reaches the peer."""

from __future__ import annotations

import pytest

from .conftest import API_KEY, API_SECRET, LIVEKIT_URL, run_py
from .page import logged_warnings, open_page

TRY_PUBLISH = """
room = Room()
record(room)
await room.connect({url!r}, {token!r})
results = {{}}
for name, call in (("camera", room.local_participant.set_camera_enabled),
                   ("microphone", lambda on: room.local_participant.set_microphone_enabled(on, RAW_MIC))):
    t0 = js.performance.now()
    try:
        await call(True)
        results[name] = {{"ok": True}}
    except LiveKitError as exc:
        results[name] = {{"error": type(exc).__name__, "status": getattr(exc, "status", None), "message": str(exc)}}
    results[name]["ms"] = js.performance.now() - t0
json.dumps({{"results": results,
            "published": {{source_name(p): p.sid for p in room.local_participant.track_publications.values()}},
            "state": state_name(room)}})
"""


def _token(identity: str, room: str, **grants: object) -> str:
    from livekit import api

    return (api.AccessToken(API_KEY, API_SECRET).with_identity(identity)
            .with_grants(api.VideoGrants(room_join=True, room=room, can_subscribe=True, **grants)).to_jwt())


@pytest.mark.driver_timeout(120)
@pytest.mark.parametrize("grants, refused", [
    ({"can_publish": False}, {"camera", "microphone"}),
    ({"can_publish": True, "can_publish_sources": ["microphone"]}, {"camera"}),
])
def test_publishing_beyond_the_token_is_refused_at_once(selenium_standalone, py_peer, room_name, grants, refused):
    selenium = selenium_standalone
    peer = py_peer("listener", room_name, video=False, audio=False)
    open_page(selenium)
    run_py(selenium, "from livekit_pyweb import LiveKitError\njson.dumps(0)")
    result = run_py(selenium, TRY_PUBLISH.format(url=LIVEKIT_URL, token=_token("pyweb", room_name, **grants)))
    assert result["state"] == "connected", result
    for name, outcome in result["results"].items():
        if name in refused:
            assert outcome["error"] == "PublishTrackError" and outcome["status"] == 403, outcome
            assert outcome["ms"] < 500, outcome  # refused at once: no capture, no 10 s publish timeout
        else:
            assert outcome.get("ok"), outcome
    published = result["published"]
    assert set(published) == {"CAMERA", "MICROPHONE"} - {n.upper() for n in refused}, published
    for sid in published.values():  # what was allowed reaches the peer
        peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == sid, 20, "the peer to subscribe")
    ready = run_py(selenium, "json.dumps(live_peer_connection_count())")
    assert ready == 1
    assert logged_warnings(selenium) == []
