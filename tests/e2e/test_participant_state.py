"""Participant state both ways against the real server: what our page sets with ``set_metadata``, ``set_name`` and
``set_attributes`` reaches the official Python SDK and livekit-client (in another tab) as their change events, and
what each of them sets of its own reaches us as ``participant_metadata_changed``, ``participant_name_changed`` and
``participant_attributes_changed`` (livekit.rtc's argument order), including an attribute deleted by setting it to
the empty string."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import logged_warnings, open_js_peer_tab, open_page

CONNECT = """
room = Room()
state_log = []
room.on("participant_metadata_changed", lambda p, old, new: state_log.append(["metadata", p.identity, old, new]))
room.on("participant_name_changed", lambda p, old, new: state_log.append(["name", p.identity, old, new]))
room.on("participant_attributes_changed",
        lambda changed, p: state_log.append(["attributes", p.identity, dict(changed), dict(p.attributes)]))
await room.connect({url!r}, {token!r})
await wait_until(lambda: {{"py-peer", "js-peer"}} <= set(room.remote_participants), 15, "both peers")
json.dumps(sorted(room.remote_participants))
"""

SET_OURS = """
lp = room.local_participant
await lp.set_metadata("from pyweb")
await lp.set_name("Pyweb")
await lp.set_attributes({"color": "blue", "size": "L"})
await lp.set_attributes({"size": ""})  # the empty string deletes an attribute
json.dumps([lp.metadata, lp.name, lp.attributes])
"""

WAIT_FROM = """
await wait_until(lambda: {{e[0] for e in state_log if e[1] == {who!r}}} >= {{"metadata", "name", "attributes"}}, 15,
                 "the state of {who}")
peer = room.remote_participants[{who!r}]
json.dumps({{"events": [e for e in state_log if e[1] == {who!r}],
            "now": [peer.metadata, peer.name, peer.attributes]}})
"""

JS_LISTEN = """
const room = window.jsRoom;
window.stateLog = [];
room.on("participantMetadataChanged", (prev, p) => stateLog.push(["metadata", p.identity, prev ?? "", p.metadata]));
room.on("participantNameChanged", (name, p) => stateLog.push(["name", p.identity, name]));
room.on("participantAttributesChanged", (changed, p) => stateLog.push(["attributes", p.identity, changed,
                                                                       {...p.attributes}]));
return room.remoteParticipants.has("pyweb");
"""

JS_SET = """
const done = arguments[arguments.length - 1];
const lp = window.jsRoom.localParticipant;
(async () => {
  await lp.setMetadata("from livekit-client");
  await lp.setName("JS Peer");
  await lp.setAttributes({ lang: "js" });
  return "ok";
})().then(done, (e) => done(String(e)));
"""


def _wait_js(driver: Any, predicate: Any, what: str, timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        log = json.loads(driver.execute_script("return JSON.stringify(window.stateLog)"))
        if predicate(log):
            return log
        assert time.monotonic() < deadline, f"livekit-client: {what}; log={log}"
        time.sleep(0.1)


@pytest.mark.driver_timeout(90)
def test_metadata_name_and_attributes_both_ways_with_both_sdks(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    driver = selenium.driver
    peer = py_peer("py-peer", room_name, video=False, audio=False, can_update_own_metadata=True)
    py_tab = driver.current_window_handle
    js_tab = open_js_peer_tab(driver, selenium.base_url, make_token("js-peer", room_name, can_update_own_metadata=True))
    driver.switch_to.window(py_tab)
    open_page(selenium)
    token = make_token("pyweb", room_name, can_update_own_metadata=True)
    assert run_py(selenium, CONNECT.format(url=LIVEKIT_URL, token=token)) == ["js-peer", "py-peer"]
    peer.wait_for(lambda e: e["event"] == "participant_connected" and e["identity"] == "pyweb", 15, "pyweb to join")
    driver.switch_to.window(js_tab)
    deadline = time.monotonic() + 15
    while not driver.execute_script(JS_LISTEN):
        assert time.monotonic() < deadline, "livekit-client never saw pyweb join"
        time.sleep(0.1)
    driver.switch_to.window(py_tab)

    # ours -> both SDKs
    since = peer.mark()
    assert run_py(selenium, SET_OURS) == ["from pyweb", "Pyweb", {"color": "blue"}]
    peer.wait_for(lambda e: e["event"] == "participant_attributes_changed" and e["identity"] == "pyweb"
                  and "size" not in e["attributes"] and e["attributes"].get("color") == "blue", 15,
                  "the Python SDK to see our attributes", since=since)
    seen = [e for e in peer.events[since:] if e.get("identity") == "pyweb"]
    meta = [e for e in seen if e["event"] == "participant_metadata_changed"]
    names = [e for e in seen if e["event"] == "participant_name_changed"]
    assert [(e["old"], e["metadata"]) for e in meta] == [("", "from pyweb")], seen
    assert [(e["old"], e["name"]) for e in names] == [("pyweb", "Pyweb")], seen
    attrs = [e for e in seen if e["event"] == "participant_attributes_changed"]
    assert attrs[-1]["attributes"] == {"color": "blue"}, attrs
    assert {"size": ""} in [e["changed"] for e in attrs], attrs  # the deletion reported as a change to ""

    driver.switch_to.window(js_tab)
    js_log = _wait_js(driver, lambda log: any(e[0] == "attributes" and e[1] == "pyweb" and e[3] == {"color": "blue"}
                                              for e in log), "our attributes")
    ours = [e for e in js_log if e[1] == "pyweb"]
    assert ["metadata", "pyweb", "", "from pyweb"] in ours, ours
    assert ["name", "pyweb", "Pyweb"] in ours, ours

    # livekit-client -> us
    assert driver.execute_async_script(JS_SET) == "ok"
    driver.switch_to.window(py_tab)
    got = run_py(selenium, WAIT_FROM.format(who="js-peer"))
    assert got["now"] == ["from livekit-client", "JS Peer", {"lang": "js"}], got
    events = got["events"]
    assert ["metadata", "js-peer", "", "from livekit-client"] in events, events
    assert ["name", "js-peer", "js-peer", "JS Peer"] in events, events
    assert ["attributes", "js-peer", {"lang": "js"}, {"lang": "js"}] in events, events

    # official Python SDK -> us
    peer.send("set_state", metadata="from python", name="Py Peer", attributes={"lang": "python"})
    got = run_py(selenium, WAIT_FROM.format(who="py-peer"))
    assert got["now"] == ["from python", "Py Peer", {"lang": "python"}], got
    events = got["events"]
    assert ["metadata", "py-peer", "", "from python"] in events, events
    assert ["name", "py-peer", "py-peer", "Py Peer"] in events, events
    assert ["attributes", "py-peer", {"lang": "python"}, {"lang": "python"}] in events, events

    run_py(selenium, "await room.disconnect()\njson.dumps(None)")
    assert logged_warnings(selenium) == []
