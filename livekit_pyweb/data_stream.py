"""Data streams: text and bytes of any size between participants, with livekit.rtc's names.

Sending (on :class:`~livekit_pyweb.participant.LocalParticipant`): ``send_text``, ``stream_text`` (a
:class:`TextStreamWriter`), ``send_bytes``, ``stream_bytes`` (a :class:`ByteStreamWriter`) and ``send_file`` (a path
in Pyodide's file system, or a browser ``File``/``Blob``). Receiving (on :class:`~livekit_pyweb.room.Room`):
``register_text_stream_handler(topic, handler)`` / ``register_byte_stream_handler``; the handler gets a
:class:`TextStreamReader` or :class:`ByteStreamReader` and the sender's identity::

    def on_chat(reader: TextStreamReader, participant_identity: str) -> None:
        async def read() -> None:
            text = await reader.read_all()           # or: async for chunk in reader: ...
            print(participant_identity, reader.info.topic, reader.info.attributes, text)
        asyncio.ensure_future(read())

    room.register_text_stream_handler("lk.chat", on_chat)
    await room.local_participant.send_text("hello", topic="lk.chat")

A handler may also be a coroutine function: it is then run as a task. The wire format and the choices (chunk size,
inline single-packet streams, compression) are livekit-client 2.23's: see ``_core/data_streams.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._core import data_streams as core
from ._core.data_streams import CHAT_TOPIC, STREAM_CHUNK_SIZE, TRANSCRIPTION_TOPIC
from .errors import DataStreamErrorReason, StreamError

if TYPE_CHECKING:
    from .participant import LocalParticipant
    from .room import Room

__all__ = [
    "BaseStreamInfo", "TextStreamInfo", "ByteStreamInfo", "TextStreamReader", "ByteStreamReader",
    "TextStreamWriter", "ByteStreamWriter", "StreamError", "TextStreamHandler", "ByteStreamHandler",
    "STREAM_CHUNK_SIZE", "CHAT_TOPIC", "TRANSCRIPTION_TOPIC",
]

logger = logging.getLogger("livekit_pyweb.data_stream")

ProgressCallback = Callable[[float], None]


def _reason(name: str | None) -> DataStreamErrorReason | None:
    return DataStreamErrorReason[name] if name else None


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclasses.dataclass
class BaseStreamInfo:
    stream_id: str
    mime_type: str
    topic: str
    timestamp: int
    """When the sender opened the stream, in ms since the epoch."""
    size: int | None
    """Total bytes (before compression) as the header announced them; None (or 0) when unknown."""
    attributes: dict[str, str] | None
    """The header's attributes, updated with the trailer's when the stream ends."""


@dataclasses.dataclass
class TextStreamInfo(BaseStreamInfo):
    attachments: list[str]
    """Ids of byte streams sent along with this text (livekit-client ``attachedStreamIds``)."""


@dataclasses.dataclass
class ByteStreamInfo(BaseStreamInfo):
    name: str


def _text_info(header: Any) -> TextStreamInfo:
    return TextStreamInfo(
        stream_id=header.stream_id, mime_type=header.mime_type, topic=header.topic, timestamp=int(header.timestamp),
        size=int(header.total_length) if header.HasField("total_length") else 0, attributes=dict(header.attributes),
        attachments=list(header.text_header.attached_stream_ids))


def _byte_info(header: Any) -> ByteStreamInfo:
    return ByteStreamInfo(
        stream_id=header.stream_id, mime_type=header.mime_type, topic=header.topic, timestamp=int(header.timestamp),
        size=int(header.total_length) if header.HasField("total_length") else 0, attributes=dict(header.attributes),
        name=header.byte_header.name)


# -- readers -------------------------------------------------------------------------------------------------
C = TypeVar("C", str, bytes)
I = TypeVar("I", bound=BaseStreamInfo)

_END = object()


class _Reader(Generic[C, I]):
    def __init__(self, info: I, on_close: Callable[[], None] | None = None) -> None:
        self._info = info
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False  # the consumer is done (end reached, or close())
        self._ended = False  # the stream ended (trailer, failure, disconnect): nothing more will be queued
        self._on_close = on_close
        self.bytes_received = 0
        self.on_progress: Callable[[float | None], None] | None = None
        """Called after each chunk with the fraction received (0..1), or None when the size is unknown
        (livekit-client ``onProgress``); 1.0 at a complete end when the size is known."""

    @property
    def info(self) -> I:
        return self._info

    def __aiter__(self) -> AsyncIterator[C]:
        return self

    async def __anext__(self) -> C:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            self._close()
            if self._info.size:
                self._progress(1.0)
            raise StopAsyncIteration
        if isinstance(item, StreamError):
            self._close()
            raise item
        content, received = item
        self.bytes_received = received
        self._progress(received / self._info.size if self._info.size else None)
        return content  # type: ignore[no-any-return]

    def _progress(self, value: float | None) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(value)
            except Exception:
                logger.exception("a data stream progress callback raised")

    def _push(self, content: C, received: int) -> None:
        if not self._ended:
            self._queue.put_nowait((content, received))

    def _end(self, error: StreamError | None, attributes: Mapping[str, str] | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if attributes:
            self._info.attributes = {**(self._info.attributes or {}), **attributes}
        self._queue.put_nowait(error if error is not None else _END)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._on_close is not None:
                self._on_close()

    def close(self) -> None:
        """Stop reading: chunks already queued stay readable, later ones are dropped. Reading a reader to its end
        closes it by itself."""
        self._close()
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(_END)

    async def aclose(self) -> None:
        self.close()


class TextStreamReader(_Reader[str, TextStreamInfo]):
    """An incoming text stream: ``async for chunk in reader`` gives the text as it arrives (each chunk whole
    characters), :meth:`read_all` all of it. A stream that ends abnormally raises :class:`StreamError`."""

    async def read_all(self) -> str:
        return "".join([chunk async for chunk in self])


class ByteStreamReader(_Reader[bytes, ByteStreamInfo]):
    """An incoming byte stream: ``async for chunk in reader`` gives the bytes as they arrive; :meth:`read_all`
    (livekit-client's ``readAll``) all of them as one ``bytes``."""

    async def read_all(self) -> bytes:
        return b"".join([chunk async for chunk in self])


TextStreamHandler = Callable[[TextStreamReader, str], None]
ByteStreamHandler = Callable[[ByteStreamReader, str], None]


# -- writers -------------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, manager: StreamManager, stream: core.OutgoingStream) -> None:
        self._manager = manager
        self._stream = stream
        self._lock = asyncio.Lock()
        self._closed = False

    async def _send_all(self, packets: list[Any]) -> None:
        for packet in packets:
            await self._manager.send(packet)

    async def _write(self, data: str | bytes) -> None:
        async with self._lock:
            if self._closed:
                raise StreamError("cannot write after the stream is closed")
            await self._send_all(self._stream.chunks(data))

    async def aclose(self, *, reason: str = "", attributes: dict[str, str] | None = None) -> None:
        """End the stream: its trailer carries ``attributes`` (merged into the readers' info) and ``reason`` (a
        non-empty reason makes the readers fail with it: an aborted send).

        Raises:
            StreamError: already closed.
        """
        async with self._lock:
            if self._closed:
                raise StreamError("the stream is already closed")
            self._closed = True
            self._manager._writers.discard(self)
            await self._manager.send(self._stream.trailer(reason, attributes))


class TextStreamWriter(_Writer):
    """An open outgoing text stream (:meth:`LocalParticipant.stream_text`): :meth:`write` as often as needed, then
    :meth:`aclose`."""

    def __init__(self, manager: StreamManager, stream: core.OutgoingStream, info: TextStreamInfo) -> None:
        super().__init__(manager, stream)
        self._info = info

    @property
    def info(self) -> TextStreamInfo:
        return self._info

    async def write(self, text: str) -> None:
        """Send ``text`` (cut into chunks of at most 15,000 bytes on character boundaries).

        Raises:
            StreamError: the stream is closed. PublishDataError (from the data channel): it could not be sent.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        await self._write(text)


class ByteStreamWriter(_Writer):
    """An open outgoing byte stream (:meth:`LocalParticipant.stream_bytes`)."""

    def __init__(self, manager: StreamManager, stream: core.OutgoingStream, info: ByteStreamInfo) -> None:
        super().__init__(manager, stream)
        self._info = info

    @property
    def info(self) -> ByteStreamInfo:
        return self._info

    async def write(self, data: bytes) -> None:
        """Send ``data`` (in chunks of at most 15,000 bytes)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        await self._write(bytes(data))


# -- the room's manager --------------------------------------------------------------------------------------
class StreamManager:
    """A room's data streams: handlers by topic, readers being fed, writers open; building and sending outgoing
    streams. Created by the Room; its ``_on_data_packet`` hands stream and transcription packets to
    :meth:`handle_packet`."""

    def __init__(self, room: Room) -> None:
        self._room = room
        self._incoming = core.IncomingStreams()
        self._text_handlers: dict[str, TextStreamHandler] = {}
        self._byte_handlers: dict[str, ByteStreamHandler] = {}
        self._readers: dict[str, TextStreamReader | ByteStreamReader] = {}
        self._writers: set[_Writer] = set()
        self._tasks: set[asyncio.Future[Any]] = set()

    # -- registration --
    def register_text_stream_handler(self, topic: str, handler: TextStreamHandler) -> None:
        if topic in self._text_handlers:
            raise ValueError("text stream handler for topic '%s' already set" % topic)
        self._text_handlers[topic] = handler

    def unregister_text_stream_handler(self, topic: str) -> None:
        self._text_handlers.pop(topic, None)

    def register_byte_stream_handler(self, topic: str, handler: ByteStreamHandler) -> None:
        if topic in self._byte_handlers:
            raise ValueError("byte stream handler for topic '%s' already set" % topic)
        self._byte_handlers[topic] = handler

    def unregister_byte_stream_handler(self, topic: str) -> None:
        self._byte_handlers.pop(topic, None)

    # -- receiving --
    def _wants(self, is_text: bool, topic: str) -> bool:
        wanted = topic in (self._text_handlers if is_text else self._byte_handlers)
        if not wanted:
            logger.debug("ignoring an incoming %s stream: no handler for topic %r", "text" if is_text else "byte",
                         topic)
        return wanted

    def handle_packet(self, packet: Any) -> None:
        """A ``stream_header``/``stream_chunk``/``stream_trailer`` (or ``transcription``) data packet."""
        if packet.WhichOneof("value") == "transcription":
            self._room._on_transcription(core.parse_transcription(packet))
            return
        limits = self._room.options.data_stream
        self._incoming.max_payload_length = (
            limits.max_payload_byte_length if limits is not None and limits.max_payload_byte_length is not None
            else core.DEFAULT_MAX_PAYLOAD_LENGTH)
        self._apply(self._incoming.handle(packet, self._wants))

    def participant_left(self, identity: str) -> None:
        self._apply(self._incoming.sender_left(identity))

    def _apply(self, events: list[core.StreamEvent]) -> None:
        for event in events:
            if isinstance(event, core.StreamOpened):
                self._open(event)
                continue
            reader = self._readers.get(event.stream_id)
            if reader is None:
                continue
            if isinstance(event, core.StreamData):
                reader._push(event.content, event.received)  # type: ignore[arg-type]
            else:
                self._readers.pop(event.stream_id, None)
                error = None if event.error is None else StreamError(event.error, _reason(event.reason))
                reader._end(error, event.attributes)

    def _open(self, event: core.StreamOpened) -> None:
        stream_id = event.stream_id
        reader: TextStreamReader | ByteStreamReader
        handler: Callable[[Any, str], Any] | None
        if event.is_text:
            reader = TextStreamReader(_text_info(event.header))
            handler = cast("Callable[[Any, str], Any] | None", self._text_handlers.get(event.header.topic))
        else:
            reader = ByteStreamReader(_byte_info(event.header))
            handler = cast("Callable[[Any, str], Any] | None", self._byte_handlers.get(event.header.topic))
        if handler is None:  # unregistered between the check and now: cannot happen in one call, but be safe
            return
        self._readers[stream_id] = reader
        try:
            result = handler(reader, event.sender_identity)
        except Exception:
            logger.exception("a %s stream handler for topic %r raised", "text" if event.is_text else "byte",
                             event.header.topic)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a data stream handler failed", exc_info=task.exception())

    def close(self) -> None:
        """The room disconnected: readers still being fed fail (AbnormalEnd), writers are done."""
        self._incoming.clear()
        for stream_id, reader in list(self._readers.items()):
            reader._end(StreamError("room disconnected in the middle of receiving data",
                                    DataStreamErrorReason.AbnormalEnd))
        self._readers.clear()
        for writer in self._writers:
            writer._closed = True
        self._writers.clear()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    # -- sending --
    async def send(self, packet: Any) -> None:
        engine = self._room._require_connected()
        await engine.send_data(packet, reliable=True)

    def _recipients(self, destinations: list[str]) -> list[core.Recipient]:
        everyone = {info.identity: core.Recipient.from_info(info) for info in self._room._model.participants.values()}
        return core.recipients_of(destinations, everyone)

    @staticmethod
    def _stream(fields: core.HeaderFields, destinations: list[str]) -> core.OutgoingStream:
        return core.OutgoingStream(fields, destinations)

    async def _send_stream(self, stream: core.OutgoingStream, payload: bytes, *, allow_inline: bool, compress: bool,
                           on_progress: ProgressCallback | None) -> None:
        """Send a payload known in full: inline when every recipient reads v2 and it fits, else header + chunks +
        trailer, compressed when every recipient can inflate (livekit-client's sendText/sendBytes/sendFile)."""
        recipients = self._recipients(stream.destination_identities)
        compress = compress and core.all_support_compression(recipients)
        compressed = core.deflate_raw(payload) if compress else None
        if allow_inline and core.all_support_v2(recipients):
            smaller = compressed is not None and len(compressed) < len(payload)
            packet = stream.inline_header(compressed if smaller else payload, compressed=smaller)  # type: ignore[arg-type]
            if packet is not None:
                await self.send(packet)
                _report(on_progress, 1.0)
                return
        await self.send(stream.header(compressed=compressed is not None))
        body = compressed if compressed is not None else payload
        total, sent = len(body), 0
        for packet in stream.chunks(body):
            await self.send(packet)
            sent += len(packet.stream_chunk.content)
            _report(on_progress, min(sent / total, 1.0))
        await self.send(stream.trailer())
        if not body:
            _report(on_progress, 1.0)

    def _fields(self, *, stream_id: str | None, topic: str, mime_type: str, total: int | None,
                attributes: Mapping[str, str] | None, name: str | None = None, reply_to_id: str | None = None,
                attachments: list[str] | None = None) -> core.HeaderFields:
        _check_str("topic", topic)
        attrs = dict(attributes or {})
        for key, value in attrs.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("attributes must map str to str")
        return core.HeaderFields(
            stream_id=stream_id or core.new_stream_id(), topic=topic, mime_type=mime_type, timestamp_ms=_now_ms(),
            total_length=total, attributes=attrs, name=name, reply_to_stream_id=reply_to_id or "",
            attached_stream_ids=tuple(attachments or ()))

    async def send_text(self, text: str, *, destination_identities: list[str] | None, topic: str,
                        attributes: Mapping[str, str] | None, reply_to_id: str | None, compress: bool,
                        stream_id: str | None = None,
                        on_progress: ProgressCallback | None = None) -> TextStreamInfo:
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        self._room._require_connected()
        payload = text.encode()
        fields = self._fields(stream_id=stream_id, topic=topic, mime_type="text/plain", total=len(payload),
                              attributes=attributes, reply_to_id=reply_to_id)
        stream = self._stream(fields, list(destination_identities or ()))
        await self._run_send(self._send_stream(stream, payload, allow_inline=True, compress=compress,
                                               on_progress=on_progress))
        return TextStreamInfo(stream_id=fields.stream_id, mime_type=fields.mime_type, topic=topic,
                              timestamp=fields.timestamp_ms, size=len(payload), attributes=dict(fields.attributes),
                              attachments=[])

    async def send_bytes(self, data: bytes, *, destination_identities: list[str] | None, topic: str, name: str,
                         mime_type: str, attributes: Mapping[str, str] | None, stream_id: str | None, compress: bool,
                         allow_inline: bool = True, on_progress: ProgressCallback | None = None) -> ByteStreamInfo:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        self._room._require_connected()
        payload = bytes(data)
        fields = self._fields(stream_id=stream_id, topic=topic, mime_type=mime_type, total=len(payload),
                              attributes=attributes, name=name)
        stream = self._stream(fields, list(destination_identities or ()))
        await self._run_send(self._send_stream(stream, payload, allow_inline=allow_inline, compress=compress,
                                               on_progress=on_progress))
        return ByteStreamInfo(stream_id=fields.stream_id, mime_type=mime_type, topic=topic,
                              timestamp=fields.timestamp_ms, size=len(payload), attributes=dict(fields.attributes),
                              name=name)

    async def stream_text(self, *, destination_identities: list[str] | None, topic: str,
                          attributes: Mapping[str, str] | None, stream_id: str | None, reply_to_id: str | None,
                          total_size: int | None) -> TextStreamWriter:
        self._room._require_connected()
        fields = self._fields(stream_id=stream_id, topic=topic, mime_type="text/plain", total=total_size,
                              attributes=attributes, reply_to_id=reply_to_id)
        stream = self._stream(fields, list(destination_identities or ()))
        await self._run_send(self.send(stream.header()))
        writer = TextStreamWriter(self, stream, TextStreamInfo(
            stream_id=fields.stream_id, mime_type="text/plain", topic=topic, timestamp=fields.timestamp_ms,
            size=total_size, attributes=dict(fields.attributes), attachments=[]))
        self._writers.add(writer)
        return writer

    async def stream_bytes(self, name: str, *, total_size: int | None, mime_type: str,
                           attributes: Mapping[str, str] | None, stream_id: str | None,
                           destination_identities: list[str] | None, topic: str) -> ByteStreamWriter:
        _check_str("name", name)
        self._room._require_connected()
        fields = self._fields(stream_id=stream_id, topic=topic, mime_type=mime_type, total=total_size,
                              attributes=attributes, name=name)
        stream = self._stream(fields, list(destination_identities or ()))
        await self._run_send(self.send(stream.header()))
        writer = ByteStreamWriter(self, stream, ByteStreamInfo(
            stream_id=fields.stream_id, mime_type=mime_type, topic=topic, timestamp=fields.timestamp_ms,
            size=total_size, attributes=dict(fields.attributes), name=name))
        self._writers.add(writer)
        return writer

    async def send_file(self, file: Any, *, topic: str, destination_identities: list[str] | None,
                        attributes: Mapping[str, str] | None, stream_id: str | None, compress: bool,
                        on_progress: ProgressCallback | None) -> ByteStreamInfo:
        self._room._require_connected()
        source = await _open_file(file, self._room)
        fields = self._fields(stream_id=stream_id, topic=topic, mime_type=source.mime_type, total=source.size,
                              attributes=attributes, name=source.name)
        stream = self._stream(fields, list(destination_identities or ()))
        compress = compress and core.all_support_compression(self._recipients(stream.destination_identities))
        await self._run_send(self._send_chunked(stream, source, compress, on_progress))
        return ByteStreamInfo(stream_id=fields.stream_id, mime_type=source.mime_type, topic=topic,
                              timestamp=fields.timestamp_ms, size=source.size, attributes=dict(fields.attributes),
                              name=source.name)

    async def _send_chunked(self, stream: core.OutgoingStream, source: _FileSource, compress: bool,
                            on_progress: ProgressCallback | None) -> None:
        """Header, then the file read piece by piece (deflated on the way when ``compress``) in 15,000-byte chunks,
        then the trailer: the file is never held whole (livekit-client's sendFile)."""
        await self.send(stream.header(compressed=compress))
        rechunker = core.Rechunker(compress)
        read = 0
        async for piece in source.pieces():
            read += len(piece)
            for content in rechunker.feed(piece):
                for packet in stream.chunks(content):
                    await self.send(packet)
            if source.size:
                _report(on_progress, min(read / source.size, 1.0))
        for content in rechunker.finish():
            for packet in stream.chunks(content):
                await self.send(packet)
        await self.send(stream.trailer())
        if not source.size:
            _report(on_progress, 1.0)

    @staticmethod
    async def _run_send(coro: Awaitable[None]) -> None:
        try:
            await coro
        except core.StreamFailure as failure:
            raise StreamError(str(failure), _reason(failure.reason)) from None


@dataclasses.dataclass(frozen=True)
class PageFile:
    """A file the user picked in an ``<input type=file>`` of the page, for :meth:`LocalParticipant.send_file`:
    ``selector`` finds the input (``document.querySelector``), ``index`` the file in its ``files``. Python in a Web
    Worker cannot hold the page's ``File`` objects, so the page host reads it (in chunks, across the bridge); on the
    main thread the page's own input is read directly."""

    selector: str
    index: int = 0


_FILE_PIECE = 256 * 1024  # bytes read from a file at a time


@dataclasses.dataclass
class _FileSource:
    name: str
    size: int
    mime_type: str
    read: Callable[[int, int], Awaitable[bytes]]  # (offset, length) -> bytes

    async def pieces(self) -> AsyncIterator[bytes]:
        offset = 0
        while offset < self.size:
            piece = await self.read(offset, min(_FILE_PIECE, self.size - offset))
            if not piece:
                raise StreamError(f"the file {self.name!r} ended at {offset} of {self.size} bytes")
            offset += len(piece)
            yield piece


async def _open_file(file: Any, room: Room) -> _FileSource:
    """A path in Pyodide's file system; else a File/Blob or a :class:`PageFile`, read through the platform."""
    import mimetypes
    import os

    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        size = os.path.getsize(path)  # FileNotFoundError as livekit.rtc's os-level failures
        name = os.path.basename(path)

        async def read_path(offset: int, length: int) -> bytes:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(length)

        return _FileSource(name, size, mimetypes.guess_type(path)[0] or "application/octet-stream", read_path)
    platform = room._platform_required()
    ref: Any = {"selector": file.selector, "index": file.index} if isinstance(file, PageFile) else file
    info = await platform.file_info(ref)
    name = str(info.get("name") or "unknown")
    mime = str(info.get("type") or mimetypes.guess_type(name)[0] or "application/octet-stream")

    async def read_blob(offset: int, length: int) -> bytes:
        return bytes(await platform.read_file(ref, offset, length))

    return _FileSource(name, int(info["size"]), mime, read_blob)


def _report(on_progress: ProgressCallback | None, value: float) -> None:
    if on_progress is not None:
        try:
            on_progress(value)
        except Exception:
            logger.exception("a data stream progress callback raised")


def _check_str(what: str, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")

