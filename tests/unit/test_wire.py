"""The fast read-only decoder (_core/wire.py) against the real protobuf runtime, field by field.

Frames in data/ are the server's own (livekit-server 1.13.5, captured by bench/frames.py): a JoinResponse listing a
publisher with a simulcast video track, and the ParticipantUpdate announcing that track.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor as FD

from livekit_pyweb._core import codec, proto, wire
from livekit_pyweb.errors import SignalProtocolError

DATA = Path(__file__).parent / "data"


def assert_same(view: Any, real: Any, path: str = "") -> None:
    """Every field of ``real`` (a protobuf message) reads the same on ``view``: values, types, presence, oneofs."""
    for f in real.DESCRIPTOR.fields:
        a, b, p = getattr(view, f.name), getattr(real, f.name), f"{path}.{f.name}"
        if f.type == FD.TYPE_MESSAGE and f.message_type.GetOptions().map_entry:
            assert set(a) == set(b), p
            for key in b:
                if f.message_type.fields_by_number[2].type == FD.TYPE_MESSAGE:
                    assert_same(a[key], b[key], f"{p}[{key!r}]")
                else:
                    assert a[key] == b[key] and type(a[key]) is type(b[key]), p
        elif f.is_repeated:
            assert len(a) == len(b), p
            for i, (x, y) in enumerate(zip(a, b)):
                if f.type == FD.TYPE_MESSAGE:
                    assert_same(x, y, f"{p}[{i}]")
                else:
                    assert x == y and type(x) is type(y), (p, x, y)
        elif f.type == FD.TYPE_MESSAGE:
            assert view.HasField(f.name) == real.HasField(f.name), p
            assert_same(a, b, p)
        else:
            assert a == b and type(a) is type(b), (p, a, b)
            if f.has_presence:
                assert view.HasField(f.name) == real.HasField(f.name), p
    for o in real.DESCRIPTOR.oneofs:
        assert view.WhichOneof(o.name) == real.WhichOneof(o.name), (path, o.name)


@pytest.mark.parametrize("name", ["join", "update"])
def test_the_servers_frames_read_the_same_as_protobuf(name: str) -> None:
    data = (DATA / f"signal_{name}.bin").read_bytes()
    real = proto.rtc().SignalResponse()
    real.ParseFromString(data)
    kind, view = codec.decode_response(data)
    assert kind == name and isinstance(view, wire.View)
    assert_same(view, getattr(real, name))
    assert wire.to_proto(view) == getattr(real, name) and view == getattr(real, name)
    whole = wire.parse(real.DESCRIPTOR, data)
    assert_same(whole, real)


_TRICKY: dict[int, list[Any]] = {
    FD.TYPE_INT32: [-5, 2**31 - 1], FD.TYPE_INT64: [-(2**63), 2**40], FD.TYPE_SINT32: [-7, 3],
    FD.TYPE_SINT64: [-(2**62), 2**62], FD.TYPE_UINT32: [2**32 - 1, 1], FD.TYPE_UINT64: [2**64 - 1, 300],
    FD.TYPE_FIXED32: [2**32 - 1, 9], FD.TYPE_FIXED64: [2**64 - 1, 9], FD.TYPE_SFIXED32: [-(2**31), 1],
    FD.TYPE_SFIXED64: [-(2**63), 1], FD.TYPE_BOOL: [True, True], FD.TYPE_FLOAT: [1.5, -0.25],
    FD.TYPE_DOUBLE: [-1e300, 0.1], FD.TYPE_STRING: ["héllo ✓", "x" * 200], FD.TYPE_BYTES: [b"\x00\xff", b"ab" * 90],
}


def _fill(msg: Any, depth: int) -> None:
    """Set every field of ``msg`` (nested ``depth`` levels) to values that stress the wire format."""
    for f in msg.DESCRIPTOR.fields:
        if f.containing_oneof is not None and not f.has_presence and msg.WhichOneof(f.containing_oneof.name):
            continue  # one member per oneof
        if f.type == FD.TYPE_MESSAGE and f.message_type.GetOptions().map_entry:
            key_f, value_f = f.message_type.fields_by_number[1], f.message_type.fields_by_number[2]
            target = getattr(msg, f.name)
            for key in _TRICKY[key_f.type]:
                if value_f.type == FD.TYPE_MESSAGE:
                    if depth:
                        _fill(target[key], depth - 1)
                else:
                    target[key] = _value(value_f, 1)
        elif f.type == FD.TYPE_MESSAGE:
            if depth:
                if f.is_repeated:
                    for _ in range(2):
                        _fill(getattr(msg, f.name).add(), depth - 1)
                else:
                    _fill(getattr(msg, f.name), depth - 1)
        elif f.is_repeated:
            getattr(msg, f.name).extend([_value(f, 0), _value(f, 1)])
        else:
            setattr(msg, f.name, _value(f, 0))


def _value(f: Any, i: int) -> Any:
    if f.type == FD.TYPE_ENUM:
        return f.enum_type.values[-1].number if i == 0 else 77  # an unknown value stays an int, as in protobuf
    return _TRICKY[f.type][i]


@pytest.mark.parametrize("kind", codec.FAST_KINDS)
def test_every_field_type_round_trips(kind: str) -> None:
    descriptor = proto.rtc().SignalResponse.DESCRIPTOR.fields_by_name[kind].message_type
    real = proto.rtc().SignalResponse()
    _fill(getattr(real, kind), depth=4)
    data = real.SerializeToString()
    assert len(data) > 2000
    got, view = codec.decode_response(data)
    assert got == kind
    assert_same(view, getattr(real, kind))
    assert_same(wire.parse(descriptor, getattr(real, kind).SerializeToString()), getattr(real, kind))


def test_unset_fields_read_as_protobuf_defaults() -> None:
    view = wire.parse(proto.models().ParticipantInfo.DESCRIPTOR, b"")
    real = proto.models().ParticipantInfo()
    assert_same(view, real)
    assert view.tracks == () and view.attributes == {} and not view.HasField("permission")
    assert view.permission.can_publish is False
    with pytest.raises(AttributeError):
        view.no_such_field  # noqa: B018


def test_views_compare_like_messages() -> None:
    m = proto.models()
    a = m.ParticipantPermission(can_publish=True, can_publish_sources=[1, 2])
    b = m.ParticipantPermission(can_publish=True)
    va = wire.parse(a.DESCRIPTOR, a.SerializeToString())
    vb = wire.parse(b.DESCRIPTOR, b.SerializeToString())
    assert va == wire.parse(a.DESCRIPTOR, a.SerializeToString()) and va != vb
    assert va == a and a == va and vb != a
    assert wire.to_proto(a) is a


@pytest.mark.parametrize("cut", [1, 2, 10, 100, 400])
def test_a_truncated_frame_is_a_protocol_error(cut: int) -> None:
    data = (DATA / "signal_join.bin").read_bytes()
    with pytest.raises(SignalProtocolError):
        codec.decode_response(data[:-cut])


def test_garbage_is_a_protocol_error_on_both_paths() -> None:
    for data in (b"\x0a\x05\xff\xff\xff\xff\xff", b"\x0a\x03\x0a\x05ab", b"\x22\x02\x0b\x00"):
        with pytest.raises(SignalProtocolError):
            codec.decode_response(data)


def test_type_numbers_are_the_runtimes() -> None:
    for name in ("DOUBLE", "FLOAT", "INT64", "UINT64", "INT32", "FIXED64", "FIXED32", "BOOL", "STRING", "GROUP",
                 "MESSAGE", "BYTES", "UINT32", "ENUM", "SFIXED32", "SFIXED64", "SINT32", "SINT64"):
        assert getattr(wire, f"TYPE_{name}") == getattr(FD, f"TYPE_{name}"), name
