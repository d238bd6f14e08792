"""Data streams and transcriptions against the real server with the official Python SDK peer (livekit.rtc 1.2, its
own chunking in Rust), both directions in one room: text (``lk.chat`` with attributes), a text stream written in
pieces with trailer attributes, a file with topic/attributes/mime type, a 5 MB byte stream compared by SHA-256,
and a transcription the peer publishes reaching ``transcription_received`` with its participant and publication.
A file picked in the page's ``<input type=file>`` (``PageFile``), read in pieces on the main thread; the same
text-stream round trip and page file through the worker bridge (the page host reads it: ops file.info/file.read).
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_page
from .test_worker_bridge import open_worker_page, run_worker

BIG = 5_000_000

# Handlers on our side: every stream read whole into `got` (text as text, bytes as SHA-256 + length).
RECEIVE = """
import hashlib, random, json, asyncio
got = {"text": [], "bytes": [], "transcriptions": [], "errors": []}

def _info(reader, who):
    i = reader.info
    return {"from": who, "topic": i.topic, "stream_id": i.stream_id, "mime_type": i.mime_type, "size": i.size,
            "attributes": dict(i.attributes or {})}

async def read_text(reader, who):
    try:
        chunks = [c async for c in reader]
    except Exception as e:
        got["errors"].append(repr(e))
        return
    got["text"].append({**_info(reader, who), "text": "".join(chunks), "chunks": len(chunks)})

async def read_bytes(reader, who):
    progress = []
    reader.on_progress = progress.append
    digest, length = hashlib.sha256(), 0
    try:
        async for chunk in reader:
            digest.update(chunk)
            length += len(chunk)
    except Exception as e:
        got["errors"].append(repr(e))
        return
    got["bytes"].append({**_info(reader, who), "name": reader.info.name, "length": length,
                         "sha256": digest.hexdigest(), "last_progress": progress[-1] if progress else None})

wire = {"in": [], "out": []}  # each stream header as it went over the wire: [topic, single packet?, compressed?]

def _header(packet):
    h = packet.stream_header
    return [h.topic, h.HasField("inline_content"), h.compression != 0]

def listen(room):
    received, send = room._on_data_packet, room._data_streams.send
    def on_packet(packet):
        if packet.WhichOneof("value") == "stream_header":
            wire["in"].append(_header(packet))
        received(packet)
    async def sending(packet):
        if packet.WhichOneof("value") == "stream_header":
            wire["out"].append(_header(packet))
        await send(packet)
    room._on_data_packet, room._data_streams.send = on_packet, sending
    for topic in ("lk.chat", "notes"):
        room.register_text_stream_handler(topic, read_text)
    for topic in ("files", "blobs"):
        room.register_byte_stream_handler(topic, read_bytes)
    room.on("transcription_received", lambda segments, participant, publication: got["transcriptions"].append({
        "participant": participant.identity if participant else None,
        "track_sid": publication.sid if publication else None,
        "segments": [[s.id, s.text, s.start_time, s.end_time, s.language, s.final] for s in segments]}))
"""

# What we send: returns the stream ids and hashes (run after RECEIVE, with `room` connected).
SEND = """
sent = {}
t0 = js.performance.now()
info = await room.local_participant.send_text("héllo from pyweb ✓", topic="lk.chat", attributes={"lang": "fr"})
sent["chat"] = info.stream_id
writer = await room.local_participant.stream_text(topic="notes", attributes={"phase": "start"})
for piece in ("to be, ", "or not ", "to be"):
    await writer.write(piece)
await writer.aclose(attributes={"phase": "done"})
sent["notes"] = writer.info.stream_id
doc = random.Random(7).randbytes(40_000)
with open("/tmp/report.pdf", "wb") as f:
    f.write(doc)
info = await room.local_participant.send_file("/tmp/report.pdf", topic="files", attributes={"kind": "doc"})
sent["file"] = [info.stream_id, info.name, info.mime_type, hashlib.sha256(doc).hexdigest()]
big = random.Random(11).randbytes(__BIG__)
progress = []
t1 = js.performance.now()
info = await room.local_participant.send_bytes(big, topic="blobs", name="big.bin", on_progress=progress.append)
sent["big"] = [info.stream_id, hashlib.sha256(big).hexdigest(), progress[-1], js.performance.now() - t1]
json.dumps(sent)
"""


# An <input type=file id=pick> holding one file, as a user's pick (or drop) would fill it.
PICK = """
const input = document.createElement("input");
input.type = "file"; input.id = "pick"; document.body.append(input);
const dt = new DataTransfer();
dt.items.add(new File([Uint8Array.from(arguments[0])], "picked.png", {type: "image/png"}));
input.files = dt.files;
"""


def _by_topic(events: list[dict[str, Any]], topic: str) -> dict[str, Any]:
    found = [e for e in events if e["topic"] == topic]
    assert len(found) == 1, (topic, events)
    return found[0]


@pytest.mark.driver_timeout(180)
def test_streams_both_ways_with_the_python_sdk(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    # An agent: the server forwards transcription packets from agents only (livekit-server handleReceivedDataMessage).
    peer = py_peer("py-peer", room_name, video=False, audio=True, kind="agent")
    mic = peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "audio", 30, "its microphone")
    peer.send("listen_streams", text_topics=["lk.chat", "notes"], byte_topics=["files", "blobs", "photos"])
    open_page(selenium)
    seen = run_py(selenium, RECEIVE + f"""
room = Room()
listen(room)
await room.connect({LIVEKIT_URL!r}, {make_token("pyweb", room_name)!r})
peer_info = next(i for i in room._model.participants.values() if i.identity == "py-peer")
json.dumps([peer_info.client_protocol, list(peer_info.capabilities)])
""")
    print("the Python SDK's ClientInfo as we see it (client_protocol, capabilities):", seen)

    # Ours -> the Python SDK.
    sent = run_py(selenium, SEND.replace("__BIG__", str(BIG)))
    print(f"5 MB byte stream to the Python SDK handed to the data channel in {sent['big'][3]:.0f} ms")
    big = peer.wait_for(lambda e: e["event"] == "byte_stream" and e["topic"] == "blobs", 60, "our 5 MB stream")
    assert (big["length"], big["sha256"], big["name"], big["stream_id"]) == (BIG, sent["big"][1], "big.bin",
                                                                             sent["big"][0])
    assert big["size"] == BIG and big["mime_type"] == "application/octet-stream" and sent["big"][2] == 1.0
    texts = [e for e in peer.events if e["event"] == "text_stream"]
    chat, notes = _by_topic(texts, "lk.chat"), _by_topic(texts, "notes")
    assert (chat["text"], chat["attributes"], chat["participant"], chat["stream_id"], chat["mime_type"]) == (
        "héllo from pyweb ✓", {"lang": "fr"}, "pyweb", sent["chat"], "text/plain")
    assert notes["text"] == "to be, or not to be" and notes["attributes"] == {"phase": "done"}
    doc = _by_topic([e for e in peer.events if e["event"] == "byte_stream"], "files")
    assert [doc["stream_id"], doc["name"], doc["mime_type"], doc["sha256"]] == sent["file"]
    assert doc["attributes"] == {"kind": "doc"} and doc["length"] == doc["size"] == 40_000
    assert not [e for e in peer.events if e["event"] == "stream_error"]
    # A file the user picked in the page's <input type=file>, read in pieces on the main thread (File.slice).
    photo = random.Random(8).randbytes(300_000)
    selenium.driver.execute_script(PICK, list(photo))
    picked = run_py(selenium, """
from livekit_pyweb import PageFile
info = await room.local_participant.send_file(PageFile("#pick"), topic="photos", attributes={"album": "x"})
json.dumps([info.name, info.mime_type, info.size])
""")
    assert picked == ["picked.png", "image/png", 300_000]
    got_photo = peer.wait_for(lambda e: e["event"] == "byte_stream" and e["topic"] == "photos", 30, "the picked file")
    assert (got_photo["name"], got_photo["mime_type"], got_photo["sha256"], got_photo["attributes"]) == (
        "picked.png", "image/png", hashlib.sha256(photo).hexdigest(), {"album": "x"})

    # The Python SDK -> ours.
    chat_id = peer.send("send_text", text="bonjour from livekit.rtc 🐍", topic="lk.chat",
                        attributes={"lk.chat": "1"})["stream_id"]
    notes_id = peer.send("stream_text", chunks=["alpha ", "beta ", "gamma"], topic="notes",
                         attributes={"model": "x"}, trailer_attributes={"tokens": "3"})["stream_id"]
    doc = peer.send("send_file", size=70_000, seed=3, name="slides.pdf", topic="files", attributes={"deck": "q3"})
    blob = peer.send("send_bytes", size=BIG, seed=4, topic="blobs", name="dump.bin", timeout=60)
    peer.send("publish_transcription", participant_identity="py-peer", track_sid=mic["sid"], segments=[
        {"id": "seg-1", "text": "hello world", "start_time": 100, "end_time": 900, "language": "en", "final": True}])
    got = run_py(selenium, """
try:
    await wait_until(lambda: len(got["text"]) == 2 and len(got["bytes"]) == 2 and got["transcriptions"]
                     or got["errors"], 60, "the peer's streams and transcription")
except AssertionError as e:
    got["errors"].append(str(e)[:300])
    got["open"] = room._data_streams._incoming.open_stream_ids
json.dumps(got)
""")
    assert got["errors"] == [], json.dumps(got)[:3000]
    chat = _by_topic(got["text"], "lk.chat")
    assert (chat["text"], chat["from"], chat["stream_id"], chat["attributes"], chat["mime_type"]) == (
        "bonjour from livekit.rtc 🐍", "py-peer", chat_id, {"lk.chat": "1"}, "text/plain")
    notes = _by_topic(got["text"], "notes")
    assert notes["text"] == "alpha beta gamma" and notes["stream_id"] == notes_id
    assert notes["attributes"] == {"model": "x", "tokens": "3"}  # header's and trailer's
    mine = _by_topic(got["bytes"], "files")
    assert (mine["name"], mine["mime_type"], mine["sha256"], mine["length"], mine["attributes"]) == (
        "slides.pdf", "application/pdf", doc["sha256"], 70_000, {"deck": "q3"})
    dump = _by_topic(got["bytes"], "blobs")
    assert (dump["name"], dump["sha256"], dump["length"], dump["size"], dump["stream_id"]) == (
        "dump.bin", blob["sha256"], BIG, BIG, blob["stream_id"])
    assert dump["last_progress"] == 1.0
    wire = run_py(selenium, "json.dumps(wire)")
    print("stream headers on the wire [topic, single packet, compressed]:", wire)
    # Both sides announce client_protocol 2 and deflate: short texts travel in one packet, files compressed (ours as
    # livekit-client: a one-shot payload that does not fit one packet is compressed; the Rust SDK sent its 5 MB of
    # random bytes plain, measured).
    assert wire["out"] == [["lk.chat", True, False], ["notes", False, False], ["files", False, True],
                           ["blobs", False, True], ["photos", False, True]]
    assert ["lk.chat", True, False] in wire["in"] and ["files", False, True] in wire["in"]
    assert got["transcriptions"] == [{"participant": "py-peer", "track_sid": mic["sid"],
                                      "segments": [["seg-1", "hello world", 100, 900, "en", True]]}]
    assert logged_warnings(selenium) == []


# After WORKER_PRELUDE (logged).
WORKER = """
from livekit_pyweb import Room, PageFile
texts = []
async def on_text(reader, who):
    texts.append([who, reader.info.topic, await reader.read_all(), dict(reader.info.attributes or {{}})])
room = Room()
room.register_text_stream_handler("lk.chat", on_text)
await room.connect({url!r}, {token!r})
info = await room.local_participant.send_text("from the worker ✓", topic="lk.chat", attributes={{"via": "bridge"}})
picked = await room.local_participant.send_file(PageFile("#pick"), topic="files")
json.dumps({{"platform": room._platform.name, "stream_id": info.stream_id,
            "file": [picked.name, picked.mime_type, picked.size]}})
"""


@pytest.mark.driver_timeout(180)
def test_text_stream_round_trip_and_a_page_file_through_the_worker_bridge(selenium_standalone, dist_url, py_peer,
                                                                          room_name):
    driver = selenium_standalone.driver
    peer = py_peer("py-peer", room_name, video=False, audio=False)
    peer.send("listen_streams", text_topics=["lk.chat"], byte_topics=["files"])
    open_worker_page(driver, dist_url)
    # A file the user picked on the page (an <input type=file> filled as a drop would fill it).
    content = random.Random(9).randbytes(300_000)
    driver.execute_script(PICK, list(content))
    run_worker(driver, WORKER_PRELUDE)
    started = run_worker(driver, WORKER.format(url=LIVEKIT_URL, token=make_token("pyweb-worker", room_name)))
    assert started["platform"] == "bridge" and started["file"] == ["picked.png", "image/png", 300_000], started
    chat = peer.wait_for(lambda e: e["event"] == "text_stream", 30, "the worker's text stream")
    assert (chat["text"], chat["participant"], chat["attributes"], chat["stream_id"]) == (
        "from the worker ✓", "pyweb-worker", {"via": "bridge"}, started["stream_id"])
    picked = peer.wait_for(lambda e: e["event"] == "byte_stream", 30, "the page's file, read by the page host")
    assert (picked["name"], picked["mime_type"], picked["length"], picked["sha256"]) == (
        "picked.png", "image/png", 300_000, hashlib.sha256(content).hexdigest())
    peer.send("send_text", text="back to the worker", topic="lk.chat", attributes={"n": "1"})
    done = run_worker(driver, """
for _ in range(200):
    if texts:
        break
    await asyncio.sleep(0.05)
await room.disconnect()
json.dumps({"texts": texts, "logged": logged})
""")
    assert done["texts"] == [["py-peer", "lk.chat", "back to the worker", {"n": "1"}]], done
    assert done["logged"] == []
