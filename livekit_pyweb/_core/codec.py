"""SignalRequest / SignalResponse framing: one binary protobuf message per WebSocket frame."""

from __future__ import annotations

import functools
from typing import Any

from ..errors import SignalProtocolError
from . import proto, wire

# The SignalResponse kinds read through the fast read-only decoder (_core/wire.py): the big ones on the join path,
# whose contents only the room model reads. Every other kind is a real protobuf message.
FAST_KINDS = ("join", "update")


def encode_request(request: Any) -> bytes:
    """Serialize a ``livekit.SignalRequest`` (it must have its ``message`` oneof set)."""
    if request.WhichOneof("message") is None:
        raise SignalProtocolError("refusing to send an empty SignalRequest")
    return bytes(request.SerializeToString())


def decode_response(data: bytes | bytearray | memoryview) -> tuple[str, Any]:
    """Parse one frame into ``(kind, message)``: ``kind`` is the oneof field name (``"join"``, ``"answer"``...).

    Raises:
        SignalProtocolError: the bytes are not a SignalResponse, or carry no message we know.
    """
    data = bytes(data)
    fast = _fast_kinds().get(data[0]) if data else None  # the oneof's tag: one byte for field numbers < 16
    if fast is not None:
        size, start = data[1] if len(data) > 1 else 0x80, 2
        if size >= 0x80:  # a multi-byte length: read the varint
            size, start = _varint(data, 1)
        if start + size == len(data):  # exactly that one field (else: the general path sorts it out)
            kind, descriptor = fast
            return kind, wire.parse(descriptor, data, start)
    response = proto.rtc().SignalResponse()
    try:
        response.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError; keep its text, not its type
        raise SignalProtocolError(f"undecodable signal frame ({len(data)} bytes): {exc}") from exc
    kind = response.WhichOneof("message")
    if kind is None:
        raise SignalProtocolError(f"signal frame of {len(data)} bytes carries no known message")
    return kind, getattr(response, kind)


def request(**field: Any) -> Any:
    """``request(offer=sd)`` → a SignalRequest with exactly that oneof field set."""
    if len(field) != 1:
        raise ValueError("a SignalRequest carries exactly one message")
    ((name, value),) = field.items()
    req = proto.rtc().SignalRequest()
    target = getattr(req, name)
    if isinstance(value, int) and not isinstance(value, bool):
        setattr(req, name, value)
    else:
        target.CopyFrom(value)
    return req


@functools.cache
def _fast_kinds() -> dict[int, tuple[str, Any]]:
    """``{first byte of the frame: (kind, message descriptor)}`` for :data:`FAST_KINDS` (length-delimited tags)."""
    fields = proto.rtc().SignalResponse.DESCRIPTOR.fields_by_name
    return {fields[k].number << 3 | 2: (k, fields[k].message_type) for k in FAST_KINDS if fields[k].number < 16}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while pos < len(data):
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    return -1, pos  # truncated: matches no frame length
