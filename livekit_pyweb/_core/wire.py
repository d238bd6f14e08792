"""A fast, read-only protobuf decoder for the server messages on the join path, driven by ``livekit-protocol``.

Pyodide has only the pure-Python protobuf runtime, and there a JoinResponse costs about 1 ms per KB to parse
(every message object is a full mutable protobuf with listeners and a field dict). The room model only *reads*
what the server sends, so for the big, frequent messages (``join``, ``update``) this module parses the same bytes
into light read-only objects: one class per message type, built at first use from the descriptors of the installed
``livekit-protocol`` (field names, numbers, types and defaults all come from there; nothing is hand-written).

A :class:`View` reads like the protobuf message it stands for: every field is an attribute (unset fields give
the protobuf default: ``0``, ``""``, ``b""``, ``False``, an empty message, ``()`` for a repeated field, ``{}`` for a
map), enums are ints, repeated fields are lists, maps are dicts; ``HasField``, ``WhichOneof`` and ``==`` behave as
protobuf's. It keeps its own bytes: :func:`to_proto` gives the real protobuf message (for a public API that
returns one, or to copy it into a request).
"""

from __future__ import annotations

import struct
from typing import Any

from ..errors import SignalProtocolError

# kind codes, one per wire decoding
_VARINT, _SIGNED, _BOOL, _ZIGZAG, _FIXED32, _FIXED64, _SFIXED32, _SFIXED64, _FLOAT, _DOUBLE = range(10)
_STRING, _BYTES, _MESSAGE, _MAP, _PACKED = 10, 11, 12, 13, 14  # length-delimited: every op >= _STRING

# FieldDescriptorProto.Type numbers (google/protobuf/descriptor.proto; a unit test checks them against the
# runtime's FieldDescriptor.TYPE_*): spelled here so importing this module does not import the protobuf runtime.
TYPE_DOUBLE, TYPE_FLOAT, TYPE_INT64, TYPE_UINT64, TYPE_INT32, TYPE_FIXED64, TYPE_FIXED32, TYPE_BOOL = range(1, 9)
TYPE_STRING, TYPE_GROUP, TYPE_MESSAGE, TYPE_BYTES, TYPE_UINT32, TYPE_ENUM = range(9, 15)
TYPE_SFIXED32, TYPE_SFIXED64, TYPE_SINT32, TYPE_SINT64 = range(15, 19)

_KINDS = {
    TYPE_INT32: _SIGNED, TYPE_INT64: _SIGNED, TYPE_ENUM: _SIGNED,
    TYPE_UINT32: _VARINT, TYPE_UINT64: _VARINT, TYPE_BOOL: _BOOL,
    TYPE_SINT32: _ZIGZAG, TYPE_SINT64: _ZIGZAG,
    TYPE_FIXED32: _FIXED32, TYPE_FIXED64: _FIXED64,
    TYPE_SFIXED32: _SFIXED32, TYPE_SFIXED64: _SFIXED64,
    TYPE_FLOAT: _FLOAT, TYPE_DOUBLE: _DOUBLE,
    TYPE_STRING: _STRING, TYPE_BYTES: _BYTES, TYPE_MESSAGE: _MESSAGE,
}
_WIRE_OF = {_VARINT: 0, _SIGNED: 0, _BOOL: 0, _ZIGZAG: 0, _FIXED64: 1, _SFIXED64: 1, _DOUBLE: 1,
            _STRING: 2, _BYTES: 2, _MESSAGE: 2, _MAP: 2, _FIXED32: 5, _SFIXED32: 5, _FLOAT: 5}
_new = object.__new__
_U32 = struct.Struct("<I").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_I32 = struct.Struct("<i").unpack_from
_I64 = struct.Struct("<q").unpack_from
_F32 = struct.Struct("<f").unpack_from
_F64 = struct.Struct("<d").unpack_from


class View:
    """A decoded message, read-only by convention. Set fields live in the instance ``__dict__``; the class holds
    the defaults."""

    _descriptor: Any = None
    _fields: dict[int, tuple[str, int, bool, Any, tuple[str, ...]]] = {}  # by tag
    _lazy_defaults: dict[str, Any] = {}
    _oneofs: dict[str, tuple[str, ...]] = {}
    _raw: bytes = b""

    def __getattr__(self, name: str) -> Any:  # only for fields not set: message, repeated and map defaults
        try:
            make = type(self)._lazy_defaults[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None
        return make()

    def HasField(self, name: str) -> bool:  # noqa: N802 (protobuf's name)
        if name in self._oneofs:
            return self.WhichOneof(name) is not None
        return name in self.__dict__

    def WhichOneof(self, oneof: str) -> str | None:  # noqa: N802
        for name in self._oneofs[oneof]:
            if name in self.__dict__:
                return name
        return None

    def _values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_raw"}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, View):
            return type(other) is type(self) and self._values() == other._values()
        if getattr(other, "DESCRIPTOR", None) is self._descriptor:  # the real protobuf message of our type
            return bool(to_proto(self) == other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like protobuf messages

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._values().items())})"


_classes: dict[str, type[View]] = {}


def view_class(descriptor: Any) -> type[View]:
    """The :class:`View` class for a message descriptor (built once, lazily for nested types)."""
    cls = _classes.get(descriptor.full_name)
    if cls is not None:
        return cls
    cls = _classes[descriptor.full_name] = type(descriptor.name, (View,), {"_descriptor": descriptor})
    fields: dict[int, tuple[str, int, bool, Any, tuple[str, ...]]] = {}
    lazy: dict[str, Any] = {}
    for field in descriptor.fields:
        repeated = field.is_repeated
        sub: Any = None
        if field.type == TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            kind = _MAP
            entry = field.message_type
            key, value = entry.fields_by_number[1], entry.fields_by_number[2]
            sub = (_KINDS[key.type], _KINDS[value.type],
                   view_class(value.message_type) if value.type == TYPE_MESSAGE else None, _default(value))
            lazy[field.name] = dict
        elif field.type == TYPE_GROUP:
            raise TypeError(f"{descriptor.full_name}.{field.name}: groups are not supported")
        else:
            kind = _KINDS[field.type]
            if kind == _MESSAGE:
                sub = view_class(field.message_type)  # registered before its fields: recursion ends
            if repeated:
                lazy[field.name] = tuple
            elif kind == _MESSAGE:
                lazy[field.name] = sub
            else:
                setattr(cls, field.name, _default(field))
        oneof = field.containing_oneof
        siblings = tuple(f.name for f in oneof.fields if f is not field) if oneof is not None else ()
        # keyed by the whole tag (number and wire type): one dict lookup finds the field and how to read it
        fields[field.number << 3 | _WIRE_OF[kind]] = (field.name, kind, repeated and kind != _MAP, sub, siblings)
        if repeated and _WIRE_OF[kind] != 2:  # a packed run of scalars
            fields[field.number << 3 | 2] = (field.name, _PACKED, True, kind, ())
    cls._fields = fields
    cls._lazy_defaults = lazy
    cls._oneofs = {o.name: tuple(f.name for f in o.fields) for o in descriptor.oneofs}
    return cls


def _default(field: Any) -> Any:
    if field.type == TYPE_ENUM:
        return field.enum_type.values[0].number
    if field.type == TYPE_MESSAGE:
        return None
    return field.default_value


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


def _scalar(kind: int, buf: bytes, pos: int) -> tuple[Any, int]:
    if kind <= _ZIGZAG:
        b = buf[pos]
        if b < 0x80:
            v, pos = b, pos + 1
        else:
            v, pos = _varint(buf, pos)
        if kind == _SIGNED:
            if v >= 1 << 63:
                v -= 1 << 64
        elif kind == _BOOL:
            return v != 0, pos
        elif kind == _ZIGZAG:
            v = (v >> 1) ^ -(v & 1)
        return v, pos
    if kind == _FIXED32:
        return _U32(buf, pos)[0], pos + 4
    if kind == _FIXED64:
        return _U64(buf, pos)[0], pos + 8
    if kind == _SFIXED32:
        return _I32(buf, pos)[0], pos + 4
    if kind == _SFIXED64:
        return _I64(buf, pos)[0], pos + 8
    if kind == _FLOAT:
        return _F32(buf, pos)[0], pos + 4
    return _F64(buf, pos)[0], pos + 8


def _skip(buf: bytes, pos: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 2:
        n, pos = _varint(buf, pos)
        return pos + n
    if wire == 5:
        return pos + 4
    raise ValueError(f"unsupported wire type {wire}")


def _parse(cls: type[View], buf: bytes, pos: int, end: int) -> View:
    obj = _new(cls)
    d = obj.__dict__
    d["_raw"] = buf[pos:end]
    fields = cls._fields
    while pos < end:
        tag = buf[pos]
        if tag < 0x80:
            pos += 1
        else:
            tag, pos = _varint(buf, pos)
        spec = fields.get(tag)
        if spec is None:  # unknown field, or a known one with a wire type its type never has: skipped, as protobuf
            pos = _skip(buf, pos, tag & 7)
            continue
        name, op, repeated, sub, siblings = spec
        if op >= _STRING:  # length-delimited
            n = buf[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = _varint(buf, pos)
            stop = pos + n
            if stop > end:
                raise ValueError("truncated field")
            if op == _STRING:
                value: Any = buf[pos:stop].decode("utf-8")
            elif op == _MESSAGE:
                value = _parse(sub, buf, pos, stop)
            elif op == _BYTES:
                value = buf[pos:stop]
            elif op == _MAP:
                key, val = _map_entry(sub, buf, pos, stop)
                entries = d.get(name)
                if entries is None:
                    entries = d[name] = {}
                entries[key] = val
                pos = stop
                continue
            else:  # packed repeated scalars; ``sub`` is their kind
                items = d.get(name)
                if items is None:
                    items = d[name] = []
                while pos < stop:
                    value, pos = _scalar(sub, buf, pos)
                    items.append(value)
                if pos != stop:
                    raise ValueError("packed field overruns its length")
                continue
            pos = stop
        elif op <= _ZIGZAG:
            value = buf[pos]
            pos += 1
            if value >= 0x80:  # inline varint: timestamps, ssrcs and bitrates take 3-10 bytes
                value &= 0x7F
                shift = 7
                while True:
                    b = buf[pos]
                    pos += 1
                    value |= (b & 0x7F) << shift
                    if b < 0x80:
                        break
                    shift += 7
                    if shift >= 70:
                        raise ValueError("varint too long")
            if op == _SIGNED:
                if value >= 1 << 63:
                    value -= 1 << 64
            elif op == _BOOL:
                value = value != 0
            elif op == _ZIGZAG:
                value = (value >> 1) ^ -(value & 1)
        else:
            value, pos = _scalar(op, buf, pos)
            if pos > end:
                raise ValueError("truncated field")
        if repeated:
            items = d.get(name)
            if items is None:
                d[name] = [value]
            else:
                items.append(value)
        else:
            d[name] = value
            if siblings:
                for other in siblings:
                    d.pop(other, None)
    if pos != end:
        raise ValueError("message overruns its length")
    return obj


def _map_entry(sub: tuple[int, int, Any, Any], buf: bytes, pos: int, end: int) -> tuple[Any, Any]:
    key_kind, value_kind, value_type, value_default = sub
    key: Any = "" if key_kind == _STRING else 0
    value: Any = value_default
    while pos < end:
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        kind = key_kind if number == 1 else value_kind if number == 2 else -1
        if kind < 0:
            pos = _skip(buf, pos, wire)
            continue
        if wire == 2 and kind >= _STRING:
            n, pos = _varint(buf, pos)
            stop = pos + n
            if stop > end:
                raise ValueError("truncated map entry")
            if kind == _STRING:
                item: Any = buf[pos:stop].decode("utf-8")
            elif kind == _MESSAGE:
                item = _parse(value_type, buf, pos, stop)
            else:
                item = buf[pos:stop]
            pos = stop
        else:
            item, pos = _scalar(kind, buf, pos)
        if number == 1:
            key = item
        else:
            value = item
    if value is None and value_type is not None:
        value = value_type()
    return key, value


def parse(descriptor: Any, data: bytes, start: int = 0) -> View:
    """``data[start:]`` (one serialized message of type ``descriptor``) as a :class:`View`.

    Raises:
        SignalProtocolError: the bytes are not such a message.
    """
    try:
        return _parse(view_class(descriptor), data, start, len(data))
    except (ValueError, IndexError, UnicodeDecodeError, struct.error) as exc:
        raise SignalProtocolError(f"undecodable {descriptor.name} ({len(data) - start} bytes): {exc}") from exc


def to_proto(message: Any) -> Any:
    """The real protobuf message for a :class:`View` (parsed from its bytes); a protobuf message is returned as is."""
    if not isinstance(message, View):
        return message
    from google.protobuf import message_factory

    real = message_factory.GetMessageClass(message._descriptor)()
    real.ParseFromString(message._raw)
    return real
