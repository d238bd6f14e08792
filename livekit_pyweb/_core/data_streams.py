"""Data streams on the wire, sans-IO: building the packets of an outgoing stream and reassembling incoming ones.

The wire format is livekit-client 2.23's (``data-stream/``) and the protocol's ``DataStream`` messages:

* a stream is a ``stream_header`` packet (id, topic, mime type, timestamp in ms, ``total_length``, attributes and a
  ``text_header`` or ``byte_header{name}``), ``stream_chunk`` packets (``chunk_index`` 0, 1, 2... with at most
  :data:`STREAM_CHUNK_SIZE` bytes of content each) and a ``stream_trailer`` (its ``attributes`` are merged into the
  reader's info; a non-empty ``reason`` means the sender gave up: the reader fails), all on the reliable channel;
* text chunks are cut on UTF-8 character boundaries, so every chunk decodes on its own;
* data streams v2 (a recipient announcing ``client_protocol`` >= 2): a whole payload that fits one packet rides in the
  header's ``inline_content`` (no chunk, no trailer); and, when every recipient also announces
  ``CAP_COMPRESSION_DEFLATE_RAW``, ``send_text``/``send_bytes``/``send_file`` payloads are compressed with raw deflate
  (``compression`` DEFLATE_RAW; the inline form only when it is smaller). ``total_length`` is always the size before
  compression. Incremental writers (``stream_text``/``stream_bytes``) are never compressed nor inlined.

Receiving follows livekit-client's rules: a stream without a handler for its topic is ignored (its chunks dropped);
a duplicate chunk index is dropped, a gap fails the stream (``Incomplete``), more bytes than ``total_length`` fail it
(``LengthExceeded``), fewer at the trailer fail it (``Incomplete``), a stream (inflated, if compressed) beyond
``max_payload_length`` fails it (``PayloadTooLarge``), and a sender leaving mid-stream fails its streams
(``AbnormalEnd``). Nothing here does I/O or reads a clock; the caller passes timestamps and ids in.
"""

from __future__ import annotations

import codecs
import dataclasses
import uuid
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import proto

STREAM_CHUNK_SIZE = 15_000
"""Bytes of content per chunk, and the size budget of a single-packet (inline) stream (livekit-client
``STREAM_CHUNK_SIZE_BYTES``)."""

DEFAULT_MAX_PAYLOAD_LENGTH = 5_000_000_000
"""How many bytes (decompressed) one incoming stream may bring (livekit-client's default guard, for compressed
streams; livekit.rtc's ``DataStreamOptions.max_payload_byte_length`` bounds every stream)."""

CLIENT_PROTOCOL_DATA_STREAM_RPC = 1
CLIENT_PROTOCOL_DATA_STREAM_V2 = 2

CHAT_TOPIC = "lk.chat"
TRANSCRIPTION_TOPIC = "lk.transcription"

# livekit-client's DataStreamErrorReason names (its values are in errors.DataStreamErrorReason)
ABNORMAL_END = "AbnormalEnd"
DECODE_FAILED = "DecodeFailed"
LENGTH_EXCEEDED = "LengthExceeded"
INCOMPLETE = "Incomplete"
HEADER_TOO_LARGE = "HeaderTooLarge"
PAYLOAD_TOO_LARGE = "PayloadTooLarge"
ALREADY_OPENED = "AlreadyOpened"


class StreamFailure(Exception):
    """A stream cannot go on: ``reason`` is one of livekit-client's DataStreamErrorReason names."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def new_stream_id() -> str:
    """A fresh stream id: a random UUID, as livekit-client's ``crypto.randomUUID()``."""
    return str(uuid.uuid4())


def split_utf8(text: str, limit: int = STREAM_CHUNK_SIZE) -> Iterator[bytes]:
    """``text`` as UTF-8 pieces of at most ``limit`` bytes, each cut on a character boundary."""
    data = text.encode()
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        if end < len(data):
            while end > start and data[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
                end -= 1
        yield data[start:end]
        start = end


def deflate_raw(data: bytes) -> bytes:
    """Raw deflate (no zlib header or checksum), what ``CompressionStream("deflate-raw")`` produces."""
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


class Rechunker:
    """Pieces of a payload read one after another (a file) -> chunk contents of :data:`STREAM_CHUNK_SIZE` bytes,
    raw-deflated on the way when ``compress`` (one deflate stream for the whole payload, as livekit-client pipes
    ``file.stream()`` through ``CompressionStream``)."""

    def __init__(self, compress: bool) -> None:
        self._compressor: Any = zlib.compressobj(wbits=-15) if compress else None
        self._pending = b""

    def _cut(self, final: bool) -> list[bytes]:
        out = []
        while len(self._pending) >= STREAM_CHUNK_SIZE or (final and self._pending):
            out.append(self._pending[:STREAM_CHUNK_SIZE])
            self._pending = self._pending[STREAM_CHUNK_SIZE:]
        return out

    def feed(self, piece: bytes) -> list[bytes]:
        self._pending += self._compressor.compress(piece) if self._compressor is not None else piece
        return self._cut(False)

    def finish(self) -> list[bytes]:
        if self._compressor is not None:
            self._pending += self._compressor.flush()
        return self._cut(True)


# -- recipients ----------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class Recipient:
    """What a remote participant announced in its ClientInfo (the server copies it into ``ParticipantInfo``)."""

    client_protocol: int = 0
    deflate_raw: bool = False

    @classmethod
    def from_info(cls, info: Any) -> Recipient:
        cap = proto.models().ClientInfo.Capability.CAP_COMPRESSION_DEFLATE_RAW
        return cls(int(info.client_protocol), cap in list(info.capabilities))


def recipients_of(destinations: Iterable[str], everyone: Mapping[str, Recipient]) -> list[Recipient]:
    """The recipients of a send: the named destinations, or every remote participant for a broadcast. An identity
    not in the room counts as a client of protocol 0 (livekit-client's default)."""
    named = list(destinations)
    if not named:
        return list(everyone.values())
    return [everyone.get(identity, Recipient()) for identity in named]


def all_support_v2(recipients: Iterable[Recipient]) -> bool:
    """Every recipient reads single-packet (inline) streams; an empty room is eligible (livekit-client)."""
    return all(r.client_protocol >= CLIENT_PROTOCOL_DATA_STREAM_V2 for r in recipients)


def all_support_compression(recipients: Iterable[Recipient]) -> bool:
    return all(r.client_protocol >= CLIENT_PROTOCOL_DATA_STREAM_V2 and r.deflate_raw for r in recipients)


# -- outgoing ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class HeaderFields:
    """One stream's header, as the writer's info says it."""

    stream_id: str
    topic: str
    mime_type: str
    timestamp_ms: int
    total_length: int | None = None
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    name: str | None = None  # a byte stream's name; None for a text stream
    reply_to_stream_id: str = ""
    attached_stream_ids: tuple[str, ...] = ()
    version: int = 0
    generated: bool = False

    @property
    def is_text(self) -> bool:
        return self.name is None


class OutgoingStream:
    """The packets of one outgoing stream, in order: :meth:`header`, :meth:`chunks` (as many calls as writes),
    :meth:`trailer`. Keeps the next chunk index and the bytes sent."""

    def __init__(self, fields: HeaderFields, destination_identities: Iterable[str] = ()) -> None:
        self.fields = fields
        self.destination_identities = list(destination_identities)
        self.next_index = 0
        self.bytes_sent = 0
        self.closed = False

    @property
    def stream_id(self) -> str:
        return self.fields.stream_id

    def _packet(self, **value: Any) -> Any:
        m = proto.models()
        return m.DataPacket(kind=m.DataPacket.Kind.RELIABLE, destination_identities=self.destination_identities, **value)

    def header(self, *, compressed: bool = False, inline_content: bytes | None = None, check_size: bool = True) -> Any:
        """The ``stream_header`` packet.

        Raises:
            StreamFailure: ``HeaderTooLarge``: serialized, it exceeds :data:`STREAM_CHUNK_SIZE` (large attributes),
                unless ``check_size`` is False (the inline attempt measures and falls back itself).
        """
        m = proto.models()
        f = self.fields
        header = m.DataStream.Header(
            stream_id=f.stream_id,
            timestamp=f.timestamp_ms,
            topic=f.topic,
            mime_type=f.mime_type,
            attributes=dict(f.attributes),
            compression=m.DataStream.DEFLATE_RAW if compressed else m.DataStream.NONE,
        )
        if f.total_length is not None:
            header.total_length = f.total_length
        if inline_content is not None:
            header.inline_content = inline_content
        if f.is_text:
            header.text_header.CopyFrom(m.DataStream.TextHeader(
                operation_type=m.DataStream.CREATE,
                version=f.version,
                reply_to_stream_id=f.reply_to_stream_id,
                attached_stream_ids=list(f.attached_stream_ids),
                generated=f.generated,
            ))
        else:
            header.byte_header.CopyFrom(m.DataStream.ByteHeader(name=f.name or ""))
        packet = self._packet(stream_header=header)
        if check_size and packet.ByteSize() > STREAM_CHUNK_SIZE:
            raise StreamFailure(
                f"data stream header exceeds the {STREAM_CHUNK_SIZE}-byte limit; reduce attribute size", HEADER_TOO_LARGE)
        return packet

    def inline_header(self, payload: bytes, *, compressed: bool) -> Any | None:
        """The single-packet form of the whole payload, or None when that packet would exceed the budget."""
        packet = self.header(compressed=compressed, inline_content=payload, check_size=False)
        return packet if packet.ByteSize() <= STREAM_CHUNK_SIZE else None

    def chunks(self, data: bytes | str) -> list[Any]:
        """``stream_chunk`` packets for one write: text cut on character boundaries, bytes in slices."""
        if self.closed:
            raise StreamFailure("cannot write after the stream is closed", ABNORMAL_END)
        m = proto.models()
        pieces: Iterable[bytes]
        if isinstance(data, str):
            pieces = split_utf8(data)
        else:
            view = bytes(data)
            pieces = (view[i:i + STREAM_CHUNK_SIZE] for i in range(0, len(view), STREAM_CHUNK_SIZE))
        packets = []
        for piece in pieces:
            packets.append(self._packet(stream_chunk=m.DataStream.Chunk(
                stream_id=self.stream_id, chunk_index=self.next_index, content=piece)))
            self.next_index += 1
            self.bytes_sent += len(piece)
        return packets

    def trailer(self, reason: str = "", attributes: Mapping[str, str] | None = None) -> Any:
        """The ``stream_trailer`` packet; the stream takes no more writes."""
        self.closed = True
        m = proto.models()
        return self._packet(stream_trailer=m.DataStream.Trailer(
            stream_id=self.stream_id, reason=reason, attributes=dict(attributes or {})))


# -- incoming ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class StreamOpened:
    """A stream some handler wants began: its header, who sends it. The payload follows as :class:`StreamData`
    (for an inline stream, at once, followed by :class:`StreamClosed`)."""

    stream_id: str
    header: Any
    sender_identity: str

    @property
    def is_text(self) -> bool:
        return bool(self.header.WhichOneof("content_header") == "text_header")


@dataclasses.dataclass(frozen=True, slots=True)
class StreamData:
    """Content, in order: ``str`` for a text stream (whole characters), ``bytes`` for a byte stream;
    ``received``/``total`` in bytes before compression (``total`` None when the header gave none)."""

    stream_id: str
    content: str | bytes
    received: int
    total: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class StreamClosed:
    """The stream ended: ``error`` None when complete, else why (``reason`` a DataStreamErrorReason name);
    ``attributes`` the trailer's, to merge into the info."""

    stream_id: str
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    error: str | None = None
    reason: str | None = None


StreamEvent = StreamOpened | StreamData | StreamClosed


@dataclasses.dataclass(frozen=True, slots=True)
class TranscriptionReceived:
    """A ``transcription`` data packet: segments for ``participant_identity``'s track ``track_sid``."""

    participant_identity: str
    track_sid: str
    segments: tuple[Any, ...]


def parse_transcription(packet: Any) -> TranscriptionReceived:
    t = packet.transcription
    return TranscriptionReceived(t.transcribed_participant_identity, t.track_id, tuple(t.segments))


class _Incoming:
    def __init__(self, opened: StreamOpened, max_payload: int) -> None:
        header = opened.header
        self.sender = opened.sender_identity
        self.is_text = opened.is_text
        self.total: int | None = int(header.total_length) if header.HasField("total_length") and header.total_length else None
        self.last_index = -1
        self.received = 0
        self.max_payload = max_payload
        self.inflater: Any = None
        if header.compression == proto.models().DataStream.DEFLATE_RAW:
            self.inflater = zlib.decompressobj(wbits=-15)
        self.decoder = codecs.getincrementaldecoder("utf-8")() if self.is_text else None

    def feed(self, stream_id: str, content: bytes, final: bool = False) -> StreamData | None:
        """Decompress/decode ``content``; count it; None when nothing came out yet (partial input)."""
        data = content
        if self.inflater is not None:
            try:
                # max_length is a C ssize_t: 32-bit in Pyodide (wasm32), where the default limit (5e9) overflows
                data = self.inflater.decompress(content, min(self.max_payload - self.received + 1, sys.maxsize))
                if final:
                    data += self.inflater.flush()
            except zlib.error as exc:
                raise StreamFailure(f"cannot inflate data stream {stream_id}: {exc}", DECODE_FAILED) from None
        # (an inflater that kept input back stopped at the limit it was given: more output was coming)
        if self.received + len(data) > self.max_payload or (self.inflater is not None and self.inflater.unconsumed_tail):
            raise StreamFailure(
                f"data stream {stream_id} exceeds the maximum payload size of {self.max_payload} bytes",
                PAYLOAD_TOO_LARGE)
        self.received += len(data)
        if self.total is not None and self.received > self.total:
            raise StreamFailure(
                f"extra chunk(s) received - expected {self.total} bytes of data total, received {self.received} bytes",
                LENGTH_EXCEEDED)
        out: str | bytes = data
        if self.decoder is not None:
            try:
                out = self.decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                raise StreamFailure(f"cannot decode data stream {stream_id} as text: {exc}", DECODE_FAILED) from None
        if not out:
            return None
        return StreamData(stream_id, out, self.received, self.total)

    def finish(self, stream_id: str) -> StreamData | None:
        """The end: what the decoders still hold, then the length check."""
        tail: StreamData | None = None
        if self.inflater is not None or self.decoder is not None:
            tail = self.feed(stream_id, b"", final=True)
        if self.total is not None and self.received < self.total:
            raise StreamFailure(
                f"not enough chunk(s) received - expected {self.total} bytes of data total, only received "
                f"{self.received} bytes", INCOMPLETE)
        return tail


class IncomingStreams:
    """Reassembles incoming streams from ``stream_header``/``stream_chunk``/``stream_trailer`` packets.

    :meth:`handle` takes a DataPacket and whether a handler wants a stream of that kind and topic, and returns
    what happened as :class:`StreamOpened`, :class:`StreamData` and :class:`StreamClosed` events, in order.
    """

    def __init__(self, max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH) -> None:
        self.max_payload_length = max_payload_length
        self._open: dict[str, _Incoming] = {}

    @property
    def open_stream_ids(self) -> list[str]:
        return list(self._open)

    def handle(self, packet: Any, wants: Any) -> list[StreamEvent]:
        """``wants(is_text: bool, topic: str) -> bool``. Packets of other kinds: []."""
        which = packet.WhichOneof("value")
        if which == "stream_header":
            return self._header(packet.stream_header, packet.participant_identity, wants)
        if which == "stream_chunk":
            return self._chunk(packet.stream_chunk)
        if which == "stream_trailer":
            return self._trailer(packet.stream_trailer)
        return []

    def _fail(self, stream_id: str, failure: StreamFailure) -> list[StreamEvent]:
        self._open.pop(stream_id, None)
        return [StreamClosed(stream_id, error=str(failure), reason=failure.reason)]

    def _header(self, header: Any, sender: str, wants: Any) -> list[StreamEvent]:
        kind = header.WhichOneof("content_header")
        if kind not in ("text_header", "byte_header") or not wants(kind == "text_header", header.topic):
            return []
        m = proto.models()
        if header.compression not in (m.DataStream.NONE, m.DataStream.DEFLATE_RAW):
            return []  # a compression we do not know (livekit-client drops the stream too)
        stream_id = header.stream_id
        if stream_id in self._open:
            return []  # a second header for a stream being read (livekit-client: AlreadyOpened, the first goes on)
        opened = StreamOpened(stream_id, header, sender)
        state = _Incoming(opened, self.max_payload_length)
        events: list[StreamEvent] = [opened]
        if header.HasField("inline_content"):
            try:
                data = state.feed(stream_id, header.inline_content)
                if data is not None:
                    events.append(data)
                tail = state.finish(stream_id)
                if tail is not None:
                    events.append(tail)
            except StreamFailure as failure:
                return events + [StreamClosed(stream_id, error=str(failure), reason=failure.reason)]
            events.append(StreamClosed(stream_id))
            return events
        self._open[stream_id] = state
        return events

    def _chunk(self, chunk: Any) -> list[StreamEvent]:
        state = self._open.get(chunk.stream_id)
        if state is None:
            return []
        index = int(chunk.chunk_index)
        if index <= state.last_index:
            return []  # a duplicate (a replay after a resume): already delivered
        if index > state.last_index + 1:
            return self._fail(chunk.stream_id, StreamFailure(
                f"missing chunk(s) {state.last_index + 1}..{index - 1} for data stream {chunk.stream_id} - cannot "
                f"reassemble payload", INCOMPLETE))
        state.last_index = index
        try:
            data = state.feed(chunk.stream_id, chunk.content)
        except StreamFailure as failure:
            return self._fail(chunk.stream_id, failure)
        return [data] if data is not None else []

    def _trailer(self, trailer: Any) -> list[StreamEvent]:
        state = self._open.pop(trailer.stream_id, None)
        if state is None:
            return []
        attributes = dict(trailer.attributes)
        if trailer.reason:
            return [StreamClosed(trailer.stream_id, attributes, f"data stream {trailer.stream_id} closed abnormally: "
                                 f"{trailer.reason}", ABNORMAL_END)]
        try:
            tail = state.finish(trailer.stream_id)
        except StreamFailure as failure:
            return [StreamClosed(trailer.stream_id, attributes, str(failure), failure.reason)]
        events: list[StreamEvent] = [tail] if tail is not None else []
        return events + [StreamClosed(trailer.stream_id, attributes)]

    def sender_left(self, identity: str) -> list[StreamEvent]:
        """``identity`` left the room: its streams being read fail."""
        gone = [sid for sid, state in self._open.items() if state.sender == identity]
        return [event for sid in gone for event in self._fail(sid, StreamFailure(
            f"participant {identity} unexpectedly disconnected in the middle of sending data", ABNORMAL_END))]

    def clear(self) -> list[StreamEvent]:
        """We left the room: every stream being read fails."""
        gone, self._open = list(self._open), {}
        return [StreamClosed(sid, error="room disconnected in the middle of receiving data", reason=ABNORMAL_END)
                for sid in gone]
