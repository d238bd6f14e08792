"""Data streams on the wire (sans-IO): chunking, headers and trailers, reassembly and its failures, single-packet
and compressed streams, who may receive what (livekit-client 2.23's rules)."""

from __future__ import annotations

import hashlib
import random
import zlib

import pytest

from livekit_pyweb._core import data_streams as ds
from livekit_pyweb._core import proto


def _fields(**kw):
    base = dict(stream_id="S1", topic="t", mime_type="text/plain", timestamp_ms=1700000000123)
    base.update(kw)
    return ds.HeaderFields(**base)


def _from(sender, packets):
    for p in packets:
        p.participant_identity = sender  # what the server stamps on delivery
    return packets


def _collect(incoming, packets, wants=lambda is_text, topic: True):
    events = []
    for p in packets:
        events.extend(incoming.handle(p, wants))
    return events


def _payload(events):
    data = [e.content for e in events if isinstance(e, ds.StreamData)]
    return "".join(data) if data and isinstance(data[0], str) else b"".join(data)


def test_split_utf8_cuts_on_character_boundaries():
    text = ("é" * 7 + "€" + "😀" * 3 + "a") * 5000
    pieces = list(ds.split_utf8(text, 15_000))
    assert all(len(p) <= 15_000 for p in pieces)
    assert "".join(p.decode() for p in pieces) == text  # each piece decodes on its own
    assert list(ds.split_utf8("")) == []


def test_a_text_stream_is_a_header_numbered_chunks_and_a_trailer():
    text = "ü" * 20_000  # 40,000 bytes
    out = ds.OutgoingStream(_fields(total_length=40_000, attributes={"k": "v"}, reply_to_stream_id="R"), ["bob"])
    header = out.header()
    h = header.stream_header
    assert header.WhichOneof("value") == "stream_header" and list(header.destination_identities) == ["bob"]
    assert (h.stream_id, h.topic, h.mime_type, h.timestamp, h.total_length, dict(h.attributes)) == (
        "S1", "t", "text/plain", 1700000000123, 40_000, {"k": "v"})
    assert h.WhichOneof("content_header") == "text_header" and h.text_header.reply_to_stream_id == "R"
    assert not h.HasField("inline_content") and h.compression == proto.models().DataStream.NONE
    chunks = out.chunks(text)
    assert [c.stream_chunk.chunk_index for c in chunks] == [0, 1, 2]
    assert all(len(c.stream_chunk.content) <= ds.STREAM_CHUNK_SIZE for c in chunks)
    assert [c.stream_chunk.chunk_index for c in out.chunks("more")] == [3]
    trailer = out.trailer(attributes={"done": "1"})
    assert trailer.stream_trailer.stream_id == "S1" and dict(trailer.stream_trailer.attributes) == {"done": "1"}
    with pytest.raises(ds.StreamFailure):
        out.chunks("late")


def test_a_byte_stream_round_trip_keeps_every_byte_in_order():
    data = random.Random(1).randbytes(5 * 15_000 + 123)
    out = ds.OutgoingStream(_fields(mime_type="application/pdf", name="f.pdf", total_length=len(data)))
    packets = _from("alice", [out.header(), *out.chunks(data), out.trailer()])
    events = _collect(ds.IncomingStreams(), packets)
    opened = events[0]
    assert isinstance(opened, ds.StreamOpened) and not opened.is_text and opened.sender_identity == "alice"
    assert opened.header.byte_header.name == "f.pdf"
    assert hashlib.sha256(_payload(events)).digest() == hashlib.sha256(data).digest()
    received = [e.received for e in events if isinstance(e, ds.StreamData)]
    assert received == sorted(received) and received[-1] == len(data)
    assert events[-1] == ds.StreamClosed("S1", {}, None, None)


def test_no_handler_no_stream():
    out = ds.OutgoingStream(_fields())
    incoming = ds.IncomingStreams()
    seen = []
    events = _collect(incoming, _from("a", [out.header(), *out.chunks("x"), out.trailer()]),
                      lambda is_text, topic: seen.append((is_text, topic)) or False)
    assert events == [] and seen == [(True, "t")] and incoming.open_stream_ids == []


def test_duplicates_are_dropped_and_a_gap_fails_the_stream():
    out = ds.OutgoingStream(_fields())
    header, (c0, c1, c2) = out.header(), out.chunks("a" * 45_000)
    incoming = ds.IncomingStreams()
    events = _collect(incoming, _from("a", [header, c0, c0, c1]))
    assert _payload(events) == "a" * 30_000
    (failed,) = _collect(incoming, [out.chunks("b")[0]])  # index 3 while 2 is missing
    assert isinstance(failed, ds.StreamClosed) and failed.reason == ds.INCOMPLETE and "missing chunk(s) 2..2" in failed.error
    assert incoming.open_stream_ids == [] and _collect(incoming, [c2, out.trailer()]) == []


def test_lengths_are_checked_against_total_length():
    out = ds.OutgoingStream(_fields(total_length=3))
    events = _collect(ds.IncomingStreams(), _from("a", [out.header(), *out.chunks("abcd")]))
    assert events[-1].reason == ds.LENGTH_EXCEEDED
    out = ds.OutgoingStream(_fields(total_length=10))
    events = _collect(ds.IncomingStreams(), _from("a", [out.header(), *out.chunks("abc"), out.trailer()]))
    assert events[-1].reason == ds.INCOMPLETE and "expected 10 bytes" in events[-1].error


def test_a_trailer_reason_fails_the_stream_and_its_attributes_are_kept():
    out = ds.OutgoingStream(_fields())
    events = _collect(ds.IncomingStreams(), _from("a", [out.header(), *out.chunks("x"),
                                                        out.trailer("user cancelled", {"why": "cancel"})]))
    assert events[-1].reason == ds.ABNORMAL_END and "user cancelled" in events[-1].error
    assert events[-1].attributes == {"why": "cancel"}


def test_a_sender_leaving_or_our_disconnect_fails_its_open_streams():
    incoming = ds.IncomingStreams()
    a = ds.OutgoingStream(_fields(stream_id="A"))
    b = ds.OutgoingStream(_fields(stream_id="B"))
    _collect(incoming, _from("alice", [a.header()]) + _from("bob", [b.header()]))
    (left,) = incoming.sender_left("alice")
    assert left.stream_id == "A" and left.reason == ds.ABNORMAL_END
    assert incoming.open_stream_ids == ["B"]
    (gone,) = incoming.clear()
    assert gone.stream_id == "B" and gone.reason == ds.ABNORMAL_END and incoming.open_stream_ids == []


def test_single_packet_streams_plain_and_compressed():
    text = "hello " * 1000
    out = ds.OutgoingStream(_fields(total_length=len(text)))
    compressed = ds.deflate_raw(text.encode())
    assert len(compressed) < len(text)
    packet = out.inline_header(compressed, compressed=True)
    assert packet is not None and packet.stream_header.compression == proto.models().DataStream.DEFLATE_RAW
    events = _collect(ds.IncomingStreams(), _from("a", [packet]))
    assert [type(e).__name__ for e in events] == ["StreamOpened", "StreamData", "StreamClosed"]
    assert _payload(events) == text and events[-1].error is None
    big = random.Random(2).randbytes(ds.STREAM_CHUNK_SIZE)  # does not fit one packet with its header
    assert ds.OutgoingStream(_fields(name="b")).inline_header(big, compressed=False) is None
    events = _collect(ds.IncomingStreams(), _from("a", [ds.OutgoingStream(_fields(name="b", total_length=3))
                                                         .inline_header(b"abc", compressed=False)]))
    assert _payload(events) == b"abc" and events[-1].error is None


def test_a_compressed_chunked_text_stream_decodes_across_chunk_boundaries():
    rng = random.Random(3)
    text = "".join(rng.choice("aé€😀 ") for _ in range(60_000))
    payload = text.encode()
    out = ds.OutgoingStream(_fields(total_length=len(payload)))
    body = ds.deflate_raw(payload)
    packets = _from("a", [out.header(compressed=True), *[c for i in range(0, len(body), 4999)
                                                        for c in out.chunks(body[i:i + 4999])], out.trailer()])
    events = _collect(ds.IncomingStreams(), packets)
    assert _payload(events) == text and events[-1].error is None
    assert all(isinstance(e.content, str) for e in events if isinstance(e, ds.StreamData))


def test_inflating_beyond_the_limit_fails_with_payload_too_large():
    bomb = ds.deflate_raw(b"\0" * 1_000_000)
    out = ds.OutgoingStream(_fields(name="z"))
    events = _collect(ds.IncomingStreams(max_payload_length=100_000),
                      _from("a", [out.header(compressed=True), *out.chunks(bomb), out.trailer()]))
    assert events[-1].reason == ds.PAYLOAD_TOO_LARGE


def test_an_uncompressed_stream_beyond_the_limit_fails_too():
    out = ds.OutgoingStream(_fields(name="z"))
    incoming = ds.IncomingStreams(max_payload_length=20_000)
    events = _collect(incoming, _from("a", [out.header(), *out.chunks(b"x" * 30_000), out.trailer()]))
    assert events[-1].reason == ds.PAYLOAD_TOO_LARGE and incoming.open_stream_ids == []
    assert sum(len(e.content) for e in events if isinstance(e, ds.StreamData)) == 15_000  # the first chunk only


def test_garbage_text_fails_with_decode_failed():
    out = ds.OutgoingStream(_fields())
    events = _collect(ds.IncomingStreams(), _from("a", [out.header(), *out.chunks(b"\xff\xfe"), out.trailer()]))
    assert events[-1].reason == ds.DECODE_FAILED


def test_a_header_with_huge_attributes_is_refused():
    with pytest.raises(ds.StreamFailure) as err:
        ds.OutgoingStream(_fields(attributes={"k": "v" * 20_000})).header()
    assert err.value.reason == ds.HEADER_TOO_LARGE


def test_who_reads_single_packet_and_compressed_streams():
    m = proto.models()
    v2 = ds.Recipient.from_info(m.ParticipantInfo(identity="js", client_protocol=2, capabilities=[
        m.ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW]))
    v2_plain = ds.Recipient(2, False)
    old = ds.Recipient.from_info(m.ParticipantInfo(identity="old"))
    everyone = {"js": v2, "plain": v2_plain, "old": old}
    assert v2 == ds.Recipient(2, True) and old == ds.Recipient(0, False)
    assert ds.all_support_v2([]) and ds.all_support_compression([])  # nobody to receive: eligible
    assert not ds.all_support_v2(ds.recipients_of([], everyone))  # a broadcast reaches "old" too
    assert ds.all_support_v2(ds.recipients_of(["js", "plain"], everyone))
    assert not ds.all_support_compression(ds.recipients_of(["js", "plain"], everyone))
    assert ds.all_support_compression(ds.recipients_of(["js"], everyone))
    assert ds.recipients_of(["nobody"], everyone) == [ds.Recipient()]


@pytest.mark.parametrize("compress", [False, True])
def test_a_file_read_in_pieces_is_cut_into_full_chunks(compress):
    data = random.Random(4).randbytes(100_000)
    r = ds.Rechunker(compress)
    chunks = [c for i in range(0, len(data), 7_000) for c in r.feed(data[i:i + 7_000])] + r.finish()
    assert all(len(c) == ds.STREAM_CHUNK_SIZE for c in chunks[:-1]) and 0 < len(chunks[-1]) <= ds.STREAM_CHUNK_SIZE
    body = b"".join(chunks)
    assert (zlib.decompress(body, wbits=-15) if compress else body) == data


def test_a_transcription_packet():
    m = proto.models()
    packet = m.DataPacket(transcription=m.Transcription(
        transcribed_participant_identity="alice", track_id="TR_a",
        segments=[m.TranscriptionSegment(id="s1", text="hi", start_time=1, end_time=2, final=True, language="en")]))
    t = ds.parse_transcription(packet)
    assert (t.participant_identity, t.track_sid, [s.text for s in t.segments]) == ("alice", "TR_a", ["hi"])
