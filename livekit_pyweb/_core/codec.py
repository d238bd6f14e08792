"""SignalRequest / SignalResponse framing: one binary protobuf message per WebSocket frame."""

from __future__ import annotations

from typing import Any

from ..errors import SignalProtocolError
from . import proto


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
    response = proto.rtc().SignalResponse()
    try:
        response.ParseFromString(bytes(data))
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
