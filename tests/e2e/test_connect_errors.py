"""Connection failures map to precise, typed errors, quickly, and leave no proxy or peer connection behind."""

from __future__ import annotations

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py

ATTEMPT = """
import json, time, js
from livekit_pyweb import Room, ConnectError
from livekit_pyweb._browser import live_proxy_count, live_peer_connection_count

base = live_proxy_count()
started = time.monotonic()
room = Room()
try:
    await room.connect({url!r}, {token!r})
    outcome = {{"error": None}}
except ConnectError as exc:
    outcome = {{"error": type(exc).__name__, "reason": exc.reason.name, "status": exc.status, "message": str(exc)}}
outcome.update(seconds=time.monotonic() - started, proxies=live_proxy_count() - base,
               pcs=live_peer_connection_count(), state=room.connection_state.name)
json.dumps(outcome)
"""


@pytest.mark.driver_timeout(60)
def test_wrong_secret_is_not_allowed(selenium_standalone, livekit_server, room_name):
    selenium = selenium_standalone
    selenium.load_package(["livekit-pyweb"])
    token = make_token("intruder", room_name, secret="not-the-secret-at-all-0123456789abcdef")
    out = run_py(selenium, ATTEMPT.format(url=LIVEKIT_URL, token=token))
    assert out["error"] == "ConnectError" and out["reason"] == "NotAllowed", out
    assert out["status"] == 401
    assert "eyJ" not in out["message"] and "<token>" in out["message"], out["message"]
    assert out["proxies"] == 0 and out["pcs"] == 0 and out["state"] == "CONN_DISCONNECTED", out


@pytest.mark.driver_timeout(60)
def test_no_server_is_unreachable_within_5s(selenium_standalone, livekit_server, room_name):
    selenium = selenium_standalone
    selenium.load_package(["livekit-pyweb"])
    out = run_py(selenium, ATTEMPT.format(url="ws://127.0.0.1:7899", token=make_token("nobody", room_name)))
    assert out["error"] == "ConnectError" and out["reason"] == "ServerUnreachable", out
    assert out["seconds"] < 5.0, out
    assert out["proxies"] == 0 and out["pcs"] == 0, out
