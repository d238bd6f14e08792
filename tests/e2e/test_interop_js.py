"""Interop with livekit-client: the demo page (our loader + livekit_pyweb) in one tab and the JS SDK in another tab
of the same Chromium join one room; each decodes the other's camera."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import AUDIO_ENERGY_PER_S_LOUD, logged_warnings, open_page


def _state(driver, handle: str, name: str) -> dict:
    driver.switch_to.window(handle)
    raw = driver.execute_script(f"return JSON.stringify(window.{name} || null)")
    return json.loads(raw) or {}


def _audio(state: dict, identity: str) -> tuple[float, float]:
    """(totalAudioEnergy, totalSamplesDuration) of the audio track the page receives from ``identity``."""
    tracks = [t for t in state.get("remote", {}).values() if t.get("identity") == identity and t.get("kind") == "audio"]
    assert len(tracks) == 1, f"expected one audio track from {identity}: {state.get('remote')}"
    return float(tracks[0].get("totalAudioEnergy", 0)), float(tracks[0].get("totalSamplesDuration", 0))


def _video_frames(state: dict, identity: str) -> int:
    return max(
        (int(t.get("framesDecoded", 0)) for t in state.get("remote", {}).values()
         if t.get("identity") == identity and t.get("kind") == "video"),
        default=0,
    )


@pytest.mark.driver_timeout(120)
def test_demo_page_and_livekit_client_decode_each_other(selenium_standalone, livekit_server, room_name):
    driver = selenium_standalone.driver
    base = selenium_standalone.base_url
    # audio_processing=0: both microphones raw (see page.RAW_MIC), so the levels measured are the beeps sent.
    ours = base + "/index.html?" + urllib.parse.urlencode(
        {"url": LIVEKIT_URL, "token": make_token("pyweb-demo", room_name), "audio_processing": "0"})
    theirs = base + "/js-peer.html?" + urllib.parse.urlencode(
        {"url": LIVEKIT_URL, "token": make_token("js-peer", room_name), "audio_processing": "0"})
    driver.get(ours)
    py_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(theirs)
    js_tab = driver.current_window_handle

    deadline = time.monotonic() + 90
    while True:
        py_state, js_state = _state(driver, py_tab, "lkpw"), _state(driver, js_tab, "jsPeer")
        for state, who in ((py_state, "livekit_pyweb page"), (js_state, "livekit-client page")):
            assert state.get("state") != "error", f"{who}: {state.get('error')}"
        ours_decoded = _video_frames(py_state, "js-peer")
        theirs_decoded = _video_frames(js_state, "pyweb-demo")
        if ours_decoded >= 30 and theirs_decoded >= 30:
            break
        assert time.monotonic() < deadline, (
            f"decoded frames: ours of js-peer={ours_decoded}, js-peer of ours={theirs_decoded}; "
            f"py={py_state}, js={js_state}"
        )
        time.sleep(0.5)
    assert py_state["state"] == "connected" and py_state.get("published")
    # The page recorded its timings (printed for the closing note; not asserted as numbers).
    timings = py_state["timings"]
    for key in ("pyodideBootMs", "wheelLoadImportMs", "connectMs", "firstRemoteFrameMs"):
        assert timings.get(key, 0) > 0, timings
    print("demo page timings (ms):", {k: round(v) for k, v in timings.items()})
    # Audio flows both ways, with sound in it: over at least 1.5 s of playout, each page hears the other's
    # microphone (Chromium's fake microphone beeps) with more than AUDIO_ENERGY_PER_S_LOUD of energy per second.
    start = {"ours": _audio(py_state, "js-peer"), "theirs": _audio(js_state, "pyweb-demo")}
    deadline = time.monotonic() + 15
    while True:
        time.sleep(0.5)
        now = {"ours": _audio(_state(driver, py_tab, "lkpw"), "js-peer"),
               "theirs": _audio(_state(driver, js_tab, "jsPeer"), "pyweb-demo")}
        seconds = {k: now[k][1] - start[k][1] for k in now}
        if min(seconds.values()) >= 1.5:
            break
        assert time.monotonic() < deadline, f"audio playout did not advance: start={start}, now={now}"
    rates = {k: (now[k][0] - start[k][0]) / seconds[k] for k in now}
    print("received audio energy per second (ours of js-peer, js-peer of ours):", rates)
    assert rates["ours"] >= AUDIO_ENERGY_PER_S_LOUD and rates["theirs"] >= AUDIO_ENERGY_PER_S_LOUD, (rates, now)


# livekit-client's side of the data-stream test: handlers that read every stream whole (bytes as SHA-256).
JS_LISTEN = """
const done = arguments[arguments.length - 1];
const go = () => {
  const room = window.jsRoom;
  if (!room || window.jsPeer.state !== "connected") return setTimeout(go, 50);
  const got = (window.jsGot = { text: [], bytes: [], errors: [] });
  const hex = async (buf) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", buf)),
                                        (b) => b.toString(16).padStart(2, "0")).join("");
  for (const topic of ["lk.chat", "notes"]) {
    room.registerTextStreamHandler(topic, async (reader, who) => {
      try {
        const text = await reader.readAll();
        const i = reader.info;
        got.text.push({ from: who.identity, topic: i.topic, text, attributes: i.attributes || {}, size: i.size ?? null,
                        id: i.id, mimeType: i.mimeType });
      } catch (e) { got.errors.push(String(e)); }
    });
  }
  for (const topic of ["files", "blobs"]) {
    room.registerByteStreamHandler(topic, async (reader, who) => {
      try {
        const chunks = await reader.readAll();
        const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of chunks) { all.set(c, at); at += c.byteLength; }
        const i = reader.info;
        got.bytes.push({ from: who.identity, topic: i.topic, name: i.name, mimeType: i.mimeType, size: i.size ?? null,
                         length: all.byteLength, sha256: await hex(all), attributes: i.attributes || {}, id: i.id });
      } catch (e) { got.errors.push(String(e)); }
    });
  }
  const pyweb = [...room.remoteParticipants.values()].find((p) => p.identity === "pyweb");
  done(pyweb ? { clientProtocol: pyweb.clientProtocol } : { clientProtocol: null });
};
go();
"""

JS_SEND = """
const [size, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const lp = window.jsRoom.localParticipant;
  const hex = async (buf) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", buf)),
                                        (b) => b.toString(16).padStart(2, "0")).join("");
  const fill = (n, seed) => { const a = new Uint8Array(n); let x = seed; for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0; a[i] = x >>> 24; } return a; };
  const sent = {};
  sent.chat = (await lp.sendText("bonjour from livekit-client ✓", { topic: "lk.chat", attributes: { n: "1" } })).id;
  const w = await lp.streamText({ topic: "notes", attributes: { model: "js" } });
  for (const piece of ["alpha ", "beta ", "gamma"]) await w.write(piece);
  await w.close();
  sent.notes = w.info.id;
  const doc = fill(70000, 3);
  sent.file = [(await lp.sendFile(new File([doc], "slides.pdf", { type: "application/pdf" }), { topic: "files" })).id,
               await hex(doc)];
  const big = fill(size, 4);
  const info = await lp.sendBytes(big, { topic: "blobs", name: "dump.bin", attributes: { k: "v" } });
  sent.big = [info.id, await hex(big)];
  return sent;
})().then(done, (e) => done({ error: String(e) }));
"""


def _one(events, topic):
    found = [e for e in events if e["topic"] == topic]
    assert len(found) == 1, (topic, events)
    return found[0]


@pytest.mark.driver_timeout(240)
def test_data_streams_both_ways_with_livekit_client(selenium_standalone, livekit_server, room_name):
    """Our page (pytest-pyodide's) and a livekit-client page in a second tab: text (lk.chat, attributes), a text
    stream in pieces, a file and a 5 MB byte stream (SHA-256) each way. livekit-client announces client_protocol 2
    and deflate: what we send it is single-packet or compressed where livekit-client would do so."""
    from .test_data_streams import BIG, RECEIVE, SEND

    selenium = selenium_standalone
    driver = selenium.driver
    open_page(selenium)
    py_tab = driver.current_window_handle
    seen = run_py(selenium, RECEIVE + f"""
room = Room()
listen(room)
await room.connect({LIVEKIT_URL!r}, {make_token("pyweb", room_name)!r})
json.dumps(True)
""")
    assert seen is True
    driver.switch_to.new_window("tab")
    driver.get(selenium.base_url + "/js-peer.html?" + urllib.parse.urlencode(
        {"url": LIVEKIT_URL, "token": make_token("js-peer", room_name), "media": "0"}))
    js_tab = driver.current_window_handle
    driver.set_script_timeout(120)
    listening = driver.execute_async_script(JS_LISTEN)
    print("livekit-client sees our client_protocol:", listening)

    # Ours -> livekit-client.
    driver.switch_to.window(py_tab)
    peer = run_py(selenium, """
await wait_until(lambda: "js-peer" in room.remote_participants, 20, "the livekit-client peer")
info = next(i for i in room._model.participants.values() if i.identity == "js-peer")
json.dumps([info.client_protocol, list(info.capabilities)])
""")
    print("livekit-client's ClientInfo as we see it (client_protocol, capabilities):", peer)
    assert peer == [2, [2]]  # data streams v2, CAP_COMPRESSION_DEFLATE_RAW: we inline and compress for it
    sent = run_py(selenium, SEND.replace("__BIG__", str(BIG)))
    print(f"5 MB byte stream to livekit-client handed to the data channel in {sent['big'][3]:.0f} ms")
    driver.switch_to.window(js_tab)
    deadline = time.monotonic() + 90
    while True:
        got = json.loads(driver.execute_script("return JSON.stringify(window.jsGot)"))
        if len(got["text"]) == 2 and len(got["bytes"]) == 2 or got["errors"]:
            break
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
    assert got["errors"] == []
    chat, notes = _one(got["text"], "lk.chat"), _one(got["text"], "notes")
    assert (chat["text"], chat["from"], chat["attributes"], chat["id"], chat["mimeType"]) == (
        "héllo from pyweb ✓", "pyweb", {"lang": "fr"}, sent["chat"], "text/plain")
    assert notes["text"] == "to be, or not to be" and notes["attributes"] == {"phase": "done"}
    doc, big = _one(got["bytes"], "files"), _one(got["bytes"], "blobs")
    assert [doc["id"], doc["name"], doc["mimeType"], doc["sha256"]] == sent["file"]
    assert doc["attributes"] == {"kind": "doc"} and doc["length"] == doc["size"] == 40_000
    assert (big["id"], big["sha256"], big["length"], big["size"], big["name"]) == (
        sent["big"][0], sent["big"][1], BIG, BIG, "big.bin")

    # livekit-client -> ours.
    js_sent = driver.execute_async_script(JS_SEND, BIG)
    assert "error" not in js_sent, js_sent
    driver.switch_to.window(py_tab)
    mine = run_py(selenium, """
await wait_until(lambda: len(got["text"]) == 2 and len(got["bytes"]) == 2 or got["errors"], 90, "livekit-client's streams")
json.dumps(got)
""")
    assert mine["errors"] == []
    chat, notes = _one(mine["text"], "lk.chat"), _one(mine["text"], "notes")
    assert (chat["text"], chat["from"], chat["attributes"], chat["stream_id"]) == (
        "bonjour from livekit-client ✓", "js-peer", {"n": "1"}, js_sent["chat"])
    assert (notes["text"], notes["attributes"], notes["stream_id"]) == ("alpha beta gamma", {"model": "js"},
                                                                          js_sent["notes"])
    doc, big = _one(mine["bytes"], "files"), _one(mine["bytes"], "blobs")
    assert (doc["stream_id"], doc["name"], doc["mime_type"], doc["sha256"], doc["length"]) == (
        js_sent["file"][0], "slides.pdf", "application/pdf", js_sent["file"][1], 70_000)
    assert (big["stream_id"], big["name"], big["sha256"], big["length"], big["attributes"]) == (
        js_sent["big"][0], "dump.bin", js_sent["big"][1], BIG, {"k": "v"})
    wire = run_py(selenium, "json.dumps(wire)")
    print("stream headers on the wire [topic, single packet, compressed]:", wire)
    # The same choices both ways: a short text in one packet, an incremental stream plain, one-shot payloads that do
    # not fit one packet compressed.
    expected = [["lk.chat", True, False], ["notes", False, False], ["files", False, True], ["blobs", False, True]]
    assert wire == {"in": expected, "out": expected}
    assert logged_warnings(selenium) == []
