"""Data streams through the public layer on the fakes: a sending room's packets are handed to a receiving room as the
server would deliver them (sender stamped), so every public call is checked end to end: send_text / stream_text /
send_bytes / stream_bytes / send_file, handlers, readers (chunks, read_all, info, attributes, progress), failures,
transcriptions."""

from __future__ import annotations

import asyncio
import hashlib
import random

import pytest

from .fakes import connected_room, participant, until
from livekit_pyweb import (ByteStreamReader, DataStreamErrorReason, InvalidStateError, PageFile, StreamError,
                           TextStreamReader,
                           Transcription, TranscriptionSegment)
from livekit_pyweb._core import proto


def _peer(identity: str, client_protocol: int = 0, deflate: bool = False, tracks=()):
    m = proto.models()
    info = participant("PA_" + identity, identity, list(tracks))
    info.client_protocol = client_protocol
    if deflate:
        info.capabilities.append(m.ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW)
    return info


async def _pair(receiver_protocol: int = 0, deflate: bool = False):
    """(sender room, receiver room, packets sent): the sender sees the receiver as "bob" with the given ClientInfo;
    the receiver sees the sender as "alice"."""
    sender, _, _ = await connected_room(others=[_peer("bob", receiver_protocol, deflate)])
    receiver, _, _ = await connected_room(others=[_peer("alice", 2, True, [("TR_mic", 0)])])
    sent: list = []

    async def send_data(packet, *, reliable):
        assert reliable
        sent.append(packet)
        delivered = type(packet)()
        delivered.CopyFrom(packet)
        delivered.participant_identity = "alice"
        receiver._on_data_packet(delivered)  # as the engine hands it over

    sender._engine.send_data = send_data
    return sender, receiver, sent


def _kinds(sent):
    return [p.WhichOneof("value") for p in sent]


async def test_send_text_to_an_old_client_is_header_chunks_trailer_and_reads_back():
    sender, receiver, sent = await _pair(receiver_protocol=0)
    got: dict = {}

    def on_chat(reader: TextStreamReader, identity: str) -> None:
        async def read():
            progress = []
            reader.on_progress = progress.append
            got["chunks"] = [c async for c in reader]
            got["progress"], got["info"], got["from"] = progress, reader.info, identity
        asyncio.ensure_future(read())

    receiver.register_text_stream_handler("lk.chat", on_chat)
    text = "héllo " * 6000  # 42,000 bytes
    progress = []
    info = await sender.local_participant.send_text(text, topic="lk.chat", attributes={"k": "v"},
                                                    on_progress=progress.append)
    assert _kinds(sent) == ["stream_header", "stream_chunk", "stream_chunk", "stream_chunk", "stream_trailer"]
    assert not sent[0].stream_header.HasField("inline_content")
    assert sent[0].stream_header.total_length == len(text.encode()) == info.size
    assert progress[-1] == 1.0
    await until(lambda: "chunks" in got)
    assert "".join(got["chunks"]) == text and len(got["chunks"]) == 3 and got["from"] == "alice"
    i = got["info"]
    assert (i.stream_id, i.topic, i.mime_type, i.size, i.attributes, i.attachments) == (
        info.stream_id, "lk.chat", "text/plain", len(text.encode()), {"k": "v"}, [])
    assert got["progress"][-1] == 1.0 and got["progress"] == sorted(got["progress"])


async def test_single_packet_and_compressed_when_the_recipient_reads_v2():
    sender, receiver, sent = await _pair(receiver_protocol=2, deflate=True)
    texts: list = []
    receiver.register_text_stream_handler("t", lambda r, _: asyncio.ensure_future(r.read_all()).add_done_callback(
        lambda f: texts.append(f.result())))
    await sender.local_participant.send_text("short", topic="t")  # deflate would grow it: sent plain, inline
    await sender.local_participant.send_text("abc" * 10_000, topic="t")  # compresses into one packet
    assert _kinds(sent) == ["stream_header", "stream_header"]
    m = proto.models()
    assert [p.stream_header.compression for p in sent] == [m.DataStream.NONE, m.DataStream.DEFLATE_RAW]
    assert sent[0].stream_header.inline_content == b"short"
    await until(lambda: len(texts) == 2)
    assert texts == ["short", "abc" * 10_000]


async def test_bytes_compressed_and_chunked_when_they_do_not_fit_one_packet():
    sender, receiver, sent = await _pair(receiver_protocol=2, deflate=True)
    got: dict = {}

    async def on_bytes(reader: ByteStreamReader, identity: str) -> None:  # a coroutine handler runs as a task
        got["data"], got["info"] = await reader.read_all(), reader.info

    receiver.register_byte_stream_handler("files", on_bytes)
    data = random.Random(5).randbytes(40_000)  # incompressible: chunked
    info = await sender.local_participant.send_bytes(data, topic="files", name="blob.bin", attributes={"a": "1"})
    assert _kinds(sent)[0] == "stream_header" and _kinds(sent)[-1] == "stream_trailer"
    assert sent[0].stream_header.compression == proto.models().DataStream.DEFLATE_RAW
    await until(lambda: "data" in got)
    assert hashlib.sha256(got["data"]).digest() == hashlib.sha256(data).digest()
    assert (got["info"].name, got["info"].size, got["info"].mime_type, got["info"].attributes) == (
        "blob.bin", 40_000, "application/octet-stream", {"a": "1"})
    assert info.name == "blob.bin" and info.stream_id == got["info"].stream_id


async def test_writers_stream_text_and_bytes_and_the_trailer_attributes_reach_the_reader():
    sender, receiver, sent = await _pair()
    got: dict = {}

    async def on_text(reader, identity):
        got["text"] = [c async for c in reader]
        got["text_attrs"] = reader.info.attributes

    async def on_bytes(reader, identity):
        got["bytes"] = await reader.read_all()
        got["name"] = reader.info.name

    receiver.register_text_stream_handler("llm", on_text)
    receiver.register_byte_stream_handler("raw", on_bytes)
    writer = await sender.local_participant.stream_text(topic="llm", attributes={"phase": "start"})
    for word in ("to ", "be ", "or"):
        await writer.write(word)
    await writer.aclose(attributes={"phase": "done", "tokens": "3"})
    with pytest.raises(StreamError):
        await writer.write("late")
    bw = await sender.local_participant.stream_bytes("cam.raw", total_size=20_000, mime_type="image/raw", topic="raw")
    await bw.write(b"\1" * 15_000)
    await bw.write(b"\2" * 5_000)
    await bw.aclose()
    assert [p.stream_chunk.chunk_index for p in sent if p.WhichOneof("value") == "stream_chunk"] == [0, 1, 2, 0, 1]
    await until(lambda: "bytes" in got and "text" in got)
    assert got["text"] == ["to ", "be ", "or"] and got["text_attrs"] == {"phase": "done", "tokens": "3"}
    assert got["bytes"] == b"\1" * 15_000 + b"\2" * 5_000 and got["name"] == "cam.raw"
    assert writer.info.topic == "llm" and bw.info.size == 20_000


async def test_send_file_from_pyodide_fs_path(tmp_path):
    sender, receiver, sent = await _pair(receiver_protocol=2, deflate=True)
    path = tmp_path / "report.pdf"
    data = random.Random(6).randbytes(600_000)
    path.write_bytes(data)
    got: dict = {}

    async def on_file(reader, identity):
        got["data"], got["info"] = await reader.read_all(), reader.info

    receiver.register_byte_stream_handler("docs", on_file)
    progress = []
    info = await sender.local_participant.send_file(str(path), topic="docs", attributes={"x": "y"},
                                                    on_progress=progress.append)
    assert (info.name, info.mime_type, info.size) == ("report.pdf", "application/pdf", 600_000)
    chunks = [p.stream_chunk.content for p in sent if p.WhichOneof("value") == "stream_chunk"]
    assert all(len(c) == 15_000 for c in chunks[:-1])
    assert progress[-1] == 1.0
    await until(lambda: "data" in got)
    assert got["data"] == data and got["info"].name == "report.pdf" and got["info"].attributes == {"x": "y"}
    with pytest.raises(FileNotFoundError):
        await sender.local_participant.send_file(str(tmp_path / "missing"))


async def test_send_file_of_a_page_input_reads_it_in_pieces_through_the_platform():
    sender, receiver, sent = await _pair()  # an old client: plain chunks
    platform = sender._platform
    data = random.Random(7).randbytes(700_000)
    platform.page_files[("#pick", 0)] = ("photo.jpg", "image/jpeg", data)
    got: dict = {}

    async def on_file(reader, identity):
        got["data"], got["info"] = await reader.read_all(), reader.info

    receiver.register_byte_stream_handler("photos", on_file)
    info = await sender.local_participant.send_file(PageFile("#pick"), topic="photos")
    assert (info.name, info.mime_type, info.size) == ("photo.jpg", "image/jpeg", 700_000)
    assert platform.file_reads == [(0, 262_144), (262_144, 262_144), (524_288, 175_712)]  # never read whole
    await until(lambda: "data" in got)
    assert got["data"] == data and got["info"].name == "photo.jpg" and got["info"].mime_type == "image/jpeg"
    with pytest.raises(FileNotFoundError):
        await sender.local_participant.send_file(PageFile("#pick", index=1))


async def test_handlers_register_once_and_unhandled_topics_are_ignored():
    sender, receiver, sent = await _pair()
    receiver.register_text_stream_handler("a", lambda r, i: None)
    with pytest.raises(ValueError):
        receiver.register_text_stream_handler("a", lambda r, i: None)
    receiver.unregister_text_stream_handler("a")
    receiver.unregister_text_stream_handler("never")  # no error
    await sender.local_participant.send_text("nobody listens", topic="a")
    assert receiver._data_streams._readers == {} and receiver._data_streams._incoming.open_stream_ids == []
    receiver.register_byte_stream_handler("a", lambda r, i: None)  # text and byte handlers are separate
    receiver.unregister_byte_stream_handler("a")


async def test_an_aborted_stream_a_departed_sender_and_a_disconnect_fail_the_reader():
    sender, receiver, sent = await _pair()
    readers: list = []
    receiver.register_text_stream_handler("t", lambda r, i: readers.append(r))
    w1 = await sender.local_participant.stream_text(topic="t")
    await w1.write("partial")
    await w1.aclose(reason="cancelled by user")
    with pytest.raises(StreamError) as err:
        await readers[0].read_all()
    assert err.value.reason is DataStreamErrorReason.AbnormalEnd and err.value.code == 16
    assert "cancelled by user" in err.value.description

    w2 = await sender.local_participant.stream_text(topic="t")
    await w2.write("abc")
    m = proto.models()
    gone = _peer("alice", 2, True)
    gone.state, gone.version = m.ParticipantInfo.DISCONNECTED, 2
    receiver._on_update(proto.rtc().ParticipantUpdate(participants=[gone]))
    assert await readers[1].__anext__() == "abc"  # what arrived before stays readable
    with pytest.raises(StreamError, match="unexpectedly disconnected"):
        await readers[1].__anext__()

    receiver._on_update(proto.rtc().ParticipantUpdate(participants=[_peer("alice", 2, True)]))
    w3 = await sender.local_participant.stream_text(topic="t")
    await w3.write("x")
    await receiver.disconnect()
    with pytest.raises(StreamError, match="room disconnected"):
        await readers[2].read_all()


async def test_bad_input_is_refused_before_anything_is_sent():
    sender, receiver, sent = await _pair()
    with pytest.raises(StreamError) as err:
        await sender.local_participant.send_text("x", attributes={"big": "v" * 20_000})
    assert err.value.reason is DataStreamErrorReason.HeaderTooLarge
    with pytest.raises(TypeError):
        await sender.local_participant.send_text(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await sender.local_participant.send_bytes("text")  # type: ignore[arg-type]
    assert sent == []
    await sender.disconnect()
    with pytest.raises(InvalidStateError):
        await sender.local_participant.send_text("after")


async def test_room_options_data_stream_bounds_what_a_stream_may_bring():
    from livekit_pyweb import DataStreamOptions, RoomOptions

    with pytest.raises(ValueError):
        DataStreamOptions(max_payload_byte_length=0)
    sender, receiver, sent = await _pair()
    receiver.options = RoomOptions(data_stream=DataStreamOptions(max_payload_byte_length=10_000))
    readers: list = []
    receiver.register_byte_stream_handler("b", lambda r, i: readers.append(r))
    await sender.local_participant.send_bytes(b"\0" * 20_000, topic="b")
    with pytest.raises(StreamError) as err:
        await readers[0].read_all()
    assert err.value.reason is DataStreamErrorReason.PayloadTooLarge


async def test_a_closed_reader_drops_what_comes_after():
    sender, receiver, sent = await _pair()
    readers: list = []
    receiver.register_text_stream_handler("t", lambda r, i: readers.append(r))
    w = await sender.local_participant.stream_text(topic="t")
    await w.write("one")
    readers[0].close()
    await w.write("two")
    await w.aclose()
    assert [c async for c in readers[0]] == ["one"]


async def test_transcriptions_reach_transcription_received_with_participant_and_publication():
    sender, receiver, sent = await _pair()
    events: list = []
    receiver.on("transcription_received", lambda *args: events.append(args))
    await sender.local_participant.publish_transcription(Transcription(
        participant_identity="alice", track_sid="TR_mic",
        segments=[TranscriptionSegment(id="s1", text="hello", start_time=10, end_time=20, language="en", final=True)]))
    assert _kinds(sent) == ["transcription"]
    ((segments, who, publication),) = events
    assert [(s.id, s.text, s.start_time, s.end_time, s.language, s.final) for s in segments] == [
        ("s1", "hello", 10, 20, "en", True)]
    assert who.identity == "alice" and publication.sid == "TR_mic"
