"""API parity of livekit_pyweb with the official Python SDK ``livekit.rtc`` (PyPI ``livekit``, pinned in
build/requirements-dev.txt), computed from the installed livekit.rtc: no list of its names is copied here.

Run (a report: the exit code is always 0; tests/unit/test_parity.py turns it into assertions):

    ~/.cache/livekit-pyweb/venv/bin/python build/parity.py           # text
    ~/.cache/livekit-pyweb/venv/bin/python build/parity.py --json    # machine-readable

What is compared (keys as printed):

* classes    ``Room``: each class of CLASS_NAMES exists in livekit_pyweb's top-level namespace.
* members    ``Room.connect``: the public names of those classes: ``dir()`` of the class, dataclass fields and
             annotations, and ``self.x = ...`` attributes assigned in its methods (found with ``ast``); protobuf
             messages (``TrackPublishOptions``) contribute their fields, not the message machinery (``CopyFrom``,
             ``*_FIELD_NUMBER``, ...). Names every object or exception has (``args``, ``with_traceback``, ...) do
             not count. ``LocalTrack``, ``RemoteTrack``, ``AudioTrack`` and ``VideoTrack`` are ``Union`` aliases in
             livekit.rtc: their members are the names common to every arm.
* enums      ``TrackKind.KIND_AUDIO``: the members of the module-level enums of livekit.rtc (protobuf wrappers:
             ``.keys()``, Python enums: ``__members__``) that concern rooms, participants, tracks or publishing:
             the ones named in REQUIRED_ENUMS, plus every other one that the modules defining the classes above
             mention, or that is the type of a field of one of their protobuf messages.
* top-level  ``RpcError``: every name in ``livekit.rtc.__all__``.
* events     ``event:track_subscribed``: the names of room.py's ``EventTypes``; livekit_pyweb must accept the name,
             and where it has a ``RoomEvent`` dataclass for it, the dataclass must have as many fields as livekit.rtc
             passes arguments to ``self.emit(...)`` (read with ``ast`` from room.py and participant.py).

A name is present when it exists and is not a stub: a function (method, property getter, or a class's own
``__init__``) whose body is only ``raise NotImplementedError``/``raise UnsupportedError`` counts as missing.
Missing names that EXCEPTIONS matches are counted as "excepted", each with its owner; an exception that matches a
present name is stale and must be removed.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import enum
import fnmatch
import functools
import importlib
import inspect
import json
import re
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The livekit.rtc classes whose members livekit_pyweb mirrors (the selection; their names are read from livekit.rtc).
CLASS_NAMES: tuple[str, ...] = (
    "Room", "RoomOptions", "RtcConfiguration",
    "Participant", "LocalParticipant", "RemoteParticipant",
    "Track", "LocalTrack", "RemoteTrack", "AudioTrack", "VideoTrack",
    "LocalAudioTrack", "LocalVideoTrack", "RemoteAudioTrack", "RemoteVideoTrack",
    "TrackPublication", "LocalTrackPublication", "RemoteTrackPublication", "TrackPublishOptions",
    "DataPacket", "RpcError", "RpcInvocationData", "RpcCallInfo", "RpcInterceptor",
    "TextStreamReader", "TextStreamWriter", "ByteStreamReader", "ByteStreamWriter", "TextStreamInfo", "ByteStreamInfo",
    "Transcription", "TranscriptionSegment", "EventEmitter",
)  # fmt: skip

# Enums always compared; other module-level enums of livekit.rtc join when the room/participant/track modules use them.
REQUIRED_ENUMS: tuple[str, ...] = (
    "TrackKind", "TrackSource", "ConnectionState", "DisconnectReason", "ConnectionQuality", "StreamState",
    "DataPacketKind", "ParticipantKind", "VideoCodec",
)  # fmt: skip

# Where livekit.rtc emits room events.
EVENT_MODULES: tuple[str, ...] = ("livekit.rtc.room", "livekit.rtc.participant")

# A function whose whole body (after the docstring) raises one of these is a stub.
STUB_ERRORS: frozenset[str] = frozenset({"NotImplementedError", "UnsupportedError"})

# Where livekit_pyweb may publish the event names it accepts (first found wins; `_KNOWN` is the fallback).
PUBLIC_EVENT_NAME_SETS: tuple[str, ...] = ("EVENT_NAMES", "KNOWN_EVENTS", "EVENTS")

Category = Literal["classes", "members", "enums", "top-level", "events"]
CATEGORIES: tuple[Category, ...] = ("classes", "members", "enums", "top-level", "events")


# ---------------------------------------------------------------------------------------------------------------
# Exceptions: missing names that are allowed, each with its owner. Patterns are fnmatch globs (case-sensitive) over
# the keys printed by the report: "Class", "Class.member", "Enum.MEMBER", "top_level_name", "event:name".
# ---------------------------------------------------------------------------------------------------------------
ExceptionKind = Literal["later issue", "browser cannot"]

DATA = "issue #10 (data)"
RECONNECT = "reconnect issue (not yet filed)"
FRAMES = "frames-in-Python issue (not yet filed)"
E2EE = "E2EE issue (not yet filed)"
SIP = "SIP DTMF issue (not yet filed)"
DATA_TRACKS = "data tracks issue (not yet filed)"
MEDIA = "issue #9 (media)"
BROWSER = "browser cannot"


@dataclasses.dataclass(frozen=True)
class Rule:
    kind: ExceptionKind
    owner: str
    reason: str
    patterns: tuple[str, ...]

    def matches(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, p) for p in self.patterns)


EXCEPTIONS: tuple[Rule, ...] = (
    # -- (i) later issues ---------------------------------------------------------------------------------------
    Rule("later issue", DATA, "the pre-connect audio buffer (sent as a data stream)", (
        "TrackPublishOptions.preconnect_buffer",
    )),
    Rule("later issue", RECONNECT, "reconnect/resume and the server-side scenarios that exercise it", (
        "SimulateScenarioKind", "SimulateScenarioKind.*", "Room.simulate_scenario",
    )),
    Rule("later issue", FRAMES, "raw/encoded frames in Python: streams, sources, frames, audio processing", (
        "VideoStream", "AudioStream", "VideoSource", "AudioSource", "VideoFrame", "AudioFrame", "*FrameEvent",
        "NoiseCancellationOptions", "AudioFilter", "Encoded*", "VideoBufferType", "VideoRotation",
        "FrameMetadata", "FrameMetadataFeature", "FrameMetadataFeature.*", "*.frame_metadata_features",
        "AudioResampler", "AudioResamplerQuality", "AudioMixer", "AudioProcessingModule", "combine_audio_frames",
        "AVSynchronizer", "FrameProcessor",
        "LocalAudioTrack.create_audio_track", "LocalVideoTrack.create_video_track",  # they take an Audio/VideoSource
    )),
    Rule("later issue", E2EE, "end-to-end encryption", (
        "E2EE*", "KeyProvider*", "FrameCryptor", "KeyDerivationFunction", "Encryption*", "*.encryption_type",
        "Room.e2ee_manager", "RoomOptions.e2ee", "RoomOptions.encryption",
    )),
    Rule("later issue", SIP, "SIP DTMF", ("SipDTMF", "LocalParticipant.publish_dtmf")),
    Rule("later issue", DATA_TRACKS, "data tracks", (
        "*DataTrack*", "PushFrameError", "SubscribeDataTrackError", "LocalParticipant.publish_data_track",
    )),
    # -- (ii) names that make no sense in a browser ---------------------------------------------------------------
    Rule("browser cannot", BROWSER,
         "the browser picks its own video encoder; WebRTC in a page cannot choose NVENC/VAAPI/VideoToolbox/software",
         ("VideoEncoderBackend", "VideoEncoderBackend.*", "TrackPublishOptions.video_encoder")),
    Rule("browser cannot", BROWSER,
         "process-level audio devices (the native audio device module; MediaDevices via sounddevice): a page "
         "reaches devices only through getUserMedia and <audio>",
         ("PlatformAudio*", "AudioDeviceInfo", "MediaDevices")),
    Rule("browser cannot", BROWSER,
         "livekit.rtc.stats is the FFI's protobuf stats module; a page has the browser's own RTCStats, which "
         "Room.get_rtc_stats (RtcStats) and Track.get_stats return as dicts with the W3C names",
         ("stats",)),
    Rule("browser cannot", BROWSER,
         "a native peer-connection setting; RTCConfiguration has no continual-gathering option",
         ("ContinualGatheringPolicy", "ContinualGatheringPolicy.*", "RtcConfiguration.continual_gathering_policy")),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# The reference, from livekit.rtc
# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EmitSite:
    where: str  # "room.py:931"
    args: tuple[str, ...]  # source expressions


@dataclasses.dataclass
class EventRef:
    name: str
    emits: list[EmitSite]
    documented: list[str] | None  # handler-side names from Room.on's docstring, None when undocumented

    @property
    def arg_counts(self) -> set[int]:
        """How many arguments handlers get: from the emit calls, else from the documentation."""
        if self.emits:
            return {len(e.args) for e in self.emits}
        return {len(self.documented)} if self.documented is not None else set()


@dataclasses.dataclass
class Reference:
    version: str
    classes: dict[str, frozenset[str]]  # class name -> public member names
    enums: dict[str, list[str]]  # enum name -> member names (compared)
    enum_reasons: dict[str, str]  # enum name -> why it is compared
    enums_not_compared: list[str]  # module-level enums of livekit.rtc left out (not room/participant/track)
    top_level: list[str]
    events: dict[str, EventRef]
    emitted_not_declared: list[str]  # emitted names missing from EventTypes (a livekit.rtc inconsistency)


_BUILTIN_MODULES = frozenset({"builtins", "typing", "abc"})


def _is_proto_message(obj: Any) -> bool:
    from google.protobuf.message import Message

    return isinstance(obj, type) and issubclass(obj, Message)


def _is_enum(obj: Any) -> bool:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

    return isinstance(obj, EnumTypeWrapper) or (isinstance(obj, type) and issubclass(obj, enum.Enum))


def _enum_members(obj: Any) -> list[str]:
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return list(obj.__members__)
    return [str(k) for k in obj.keys()]


def _union_arms(obj: Any) -> tuple[Any, ...]:
    return typing.get_args(obj) if typing.get_origin(obj) in (typing.Union, types.UnionType) else ()


def _class_source_tree(cls: type) -> ast.ClassDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
        node = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):  # no source, or a file edited since it was imported
        return None
    return node if isinstance(node, ast.ClassDef) else None


@functools.cache
def _self_assigned(cls: type) -> frozenset[str]:
    """Public ``self.x = ...`` / ``self.x: T = ...`` attributes assigned in the methods of ``cls`` (not its bases)."""
    tree = _class_source_tree(cls)
    if tree is None:
        return frozenset()
    names: set[str] = set()
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not fn.args.args:
            continue
        me = fn.args.args[0].arg
        for node in ast.walk(fn):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me:
                    names.add(t.attr)
    return frozenset(n for n in names if not n.startswith("_"))


@functools.cache
def public_members(obj: Any) -> frozenset[str]:
    """The public member names of a class (or the names common to every arm of a ``Union`` alias)."""
    arms = _union_arms(obj)
    if arms:
        return frozenset.intersection(*(public_members(a) for a in arms))
    if not isinstance(obj, type):
        return frozenset()
    if _is_proto_message(obj):
        return frozenset(f.name for f in getattr(obj, "DESCRIPTOR").fields)
    names = {n for n in dir(obj) if not n.startswith("_")}
    own = [k for k in obj.__mro__ if k.__module__ not in _BUILTIN_MODULES]
    if dataclasses.is_dataclass(obj):
        names |= {f.name for f in dataclasses.fields(obj)}
    for k in own:
        names |= set(vars(k).get("__annotations__", {}))
        names |= _self_assigned(k)
    inherited = set().union(*(dir(k) for k in obj.__mro__ if k.__module__ in _BUILTIN_MODULES))
    return frozenset(n for n in names if not n.startswith("_") and n not in inherited)


def _identifiers(module: ModuleType) -> set[str]:
    """Every name a module's source defines as a class or mentions (names and attribute names)."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def _select_enums(rtc: ModuleType, classes: Iterable[Any]) -> tuple[dict[str, str], list[str]]:
    """Which module-level enums of livekit.rtc are compared, and why; and which are left out."""
    classes = list(classes)
    modules: dict[str, ModuleType] = {}
    protos: list[Any] = []
    for obj in classes:
        for cls in _union_arms(obj) or (obj,):
            if _is_proto_message(cls):
                protos.append(cls)
            elif isinstance(cls, type) and cls.__module__.startswith("livekit.rtc."):
                modules[cls.__module__] = sys.modules[cls.__module__]
    mentioned = {name: _identifiers(m) for name, m in sorted(modules.items())}
    reasons: dict[str, str] = {}
    left_out: list[str] = []
    for name, value in vars(rtc).items():
        if name.startswith("_") or not _is_enum(value):
            continue
        why = ""
        if name in REQUIRED_ENUMS:
            why = "required"
        else:
            users = [m.removeprefix("livekit.rtc.") + ".py" for m, ids in mentioned.items() if name in ids]
            # A protobuf enum by its descriptor; a Python enum mirroring a protobuf one by its name.
            descriptor = getattr(value, "DESCRIPTOR", None)
            fields = [
                f"{p.__name__}.{f.name}" for p in protos for f in p.DESCRIPTOR.fields
                if f.enum_type is not None and (f.enum_type.name == name or (
                    descriptor is not None and f.enum_type.full_name == descriptor.full_name))
            ]  # fmt: skip
            if users:
                why = "mentioned in " + ", ".join(users)
            elif fields:
                why = "type of " + ", ".join(fields)
        if why:
            reasons[name] = why
        else:
            left_out.append(name)
    missing_required = [e for e in REQUIRED_ENUMS if e not in reasons]
    if missing_required:
        raise RuntimeError(f"livekit.rtc no longer has the enums {missing_required}")
    return reasons, sorted(left_out)


def _event_types(room_module: ModuleType) -> list[str]:
    tree = ast.parse(Path(inspect.getfile(room_module)).read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "EventTypes" for t in node.targets)
            and isinstance(node.value, ast.Subscript)
        ):
            elts = node.value.slice.elts if isinstance(node.value.slice, ast.Tuple) else [node.value.slice]
            return [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    raise RuntimeError("livekit.rtc.room has no EventTypes Literal")


def _emit_sites(module: ModuleType) -> dict[str, list[EmitSite]]:
    path = Path(inspect.getfile(module))
    sites: dict[str, list[EmitSite]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "emit"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            site = EmitSite(f"{path.name}:{node.lineno}", tuple(ast.unparse(a) for a in node.args[1:]))
            sites.setdefault(node.args[0].value, []).append(site)
    return sites


def _documented_handlers(on: Callable[..., Any]) -> dict[str, list[str]]:
    """``Room.on``'s docstring: '- **"name"**: ...' then '- Arguments: `a` (T), `b` (T)' (or 'None')."""
    documented: dict[str, list[str]] = {}
    current: str | None = None
    for line in (inspect.getdoc(on) or "").splitlines():
        head = re.match(r'\s*- \*\*"(\w+)"\*\*', line)
        if head:
            current = head.group(1)
            continue
        args = re.match(r"\s*- Arguments:?\s*(.*)", line)
        if args and current is not None:
            documented[current] = re.findall(r"`(\w+)`", args.group(1))
            current = None
    return documented


def load_reference() -> Reference:
    rtc = importlib.import_module("livekit.rtc")
    classes = {name: getattr(rtc, name) for name in CLASS_NAMES}
    enum_reasons, left_out = _select_enums(rtc, classes.values())
    room_module = sys.modules["livekit.rtc.room"]
    declared = _event_types(room_module)
    sites: dict[str, list[EmitSite]] = {}
    for module_name in EVENT_MODULES:
        for name, found in _emit_sites(importlib.import_module(module_name)).items():
            sites.setdefault(name, []).extend(found)
    documented = _documented_handlers(rtc.Room.on)
    return Reference(
        version=str(rtc.__version__),
        classes={name: public_members(obj) for name, obj in classes.items()},
        enums={name: _enum_members(getattr(rtc, name)) for name in enum_reasons},
        enum_reasons=enum_reasons,
        enums_not_compared=left_out,
        top_level=list(rtc.__all__),
        events={n: EventRef(n, sites.get(n, []), documented.get(n)) for n in declared},
        emitted_not_declared=sorted(set(sites) - set(declared)),
    )


# ---------------------------------------------------------------------------------------------------------------
# livekit_pyweb
# ---------------------------------------------------------------------------------------------------------------
def stub_error(fn: Any) -> str | None:
    """The error a stub raises (its whole body, after the docstring, is ``raise X...``), or None."""
    fn = inspect.unwrap(fn)
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        node = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return None
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    name = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else ""
    return name if name in STUB_ERRORS else None


def _object_stub(obj: Any) -> str | None:
    """A stub error for a top-level object: a function that only raises, or a class whose own __init__ does."""
    if inspect.isfunction(obj):
        return stub_error(obj)
    if isinstance(obj, type) and "__init__" in vars(obj) and inspect.isfunction(vars(obj)["__init__"]):
        return stub_error(vars(obj)["__init__"])
    return None


def _member_stub(cls: type, name: str) -> str | None:
    try:
        attr = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    if isinstance(attr, (staticmethod, classmethod)):
        attr = attr.__func__
    if isinstance(attr, property):
        attr = attr.fget
    return stub_error(attr) if inspect.isfunction(attr) else None


@dataclasses.dataclass
class Found:
    present: bool
    note: str = ""


class Subject:
    """livekit_pyweb as the checker sees it: lookups that never raise (other people edit it while we run)."""

    def __init__(self) -> None:
        self.import_error: str | None = None
        try:
            self.package: ModuleType | None = importlib.import_module("livekit_pyweb")
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            self.package, self.import_error = None, f"import livekit_pyweb failed: {exc!r}"

    def lookup(self, name: str) -> tuple[Any, str]:
        """(object, "") or (None, why not)."""
        if self.package is None:
            return None, self.import_error or "no package"
        try:
            return getattr(self.package, name), ""
        except AttributeError:
            return None, "not in livekit_pyweb"
        except Exception as exc:  # noqa: BLE001 - a lazy import that fails mid-edit
            return None, f"import failed: {exc!r}"

    def top_level(self, name: str) -> Found:
        obj, why = self.lookup(name)
        if why:
            return Found(False, why)
        stub = _object_stub(obj)
        return Found(False, f"stub (raises {stub})") if stub else Found(True)

    def member(self, class_name: str, member: str) -> Found:
        obj, why = self.lookup(class_name)
        if why:
            return Found(False, f"class missing ({why})")
        classes = _union_arms(obj) or (obj,)
        for cls in classes:
            if not isinstance(cls, type):
                return Found(False, f"livekit_pyweb.{class_name} is not a class")
            if member not in public_members(cls) and not hasattr(cls, member):
                return Found(False, "not defined")
            stub = _member_stub(cls, member)
            if stub:
                return Found(False, f"stub (raises {stub})")
        return Found(True)

    def enum_member(self, enum_name: str, member: str) -> Found:
        obj, why = self.lookup(enum_name)
        if why:
            return Found(False, f"enum missing ({why})")
        if isinstance(obj, type) and issubclass(obj, enum.Enum):
            ok = member in obj.__members__
        elif _is_enum(obj):
            ok = member in obj.keys()
        else:
            ok = hasattr(obj, member)
        return Found(ok, "" if ok else "no such member")

    def accepted_events(self) -> tuple[set[str] | None, str]:
        """The event names livekit_pyweb accepts, and where they were read."""
        try:
            events = importlib.import_module("livekit_pyweb.events")
        except Exception as exc:  # noqa: BLE001
            return None, f"import livekit_pyweb.events failed: {exc!r}"
        for name in PUBLIC_EVENT_NAME_SETS:
            value = getattr(events, name, None)
            if isinstance(value, (set, frozenset, list, tuple, dict)):
                return {str(v) for v in value}, f"livekit_pyweb.events.{name}"
        known = getattr(events, "_KNOWN", None)
        if isinstance(known, (set, frozenset, list, tuple, dict)):
            return {str(v) for v in known}, "livekit_pyweb.events._KNOWN (no public set yet)"
        literal = getattr(events, "EventName", None)
        if literal is not None and typing.get_args(literal):
            return {str(v) for v in typing.get_args(literal)}, "livekit_pyweb.events.EventName (Literal)"
        return None, "livekit_pyweb.events publishes no event names"

    def event_classes(self) -> dict[str, type]:
        """livekit_pyweb's RoomEvent dataclasses by event name."""
        try:
            base = importlib.import_module("livekit_pyweb.events").RoomEvent
        except Exception:  # noqa: BLE001
            return {}
        found: dict[str, type] = {}
        todo: list[type] = list(base.__subclasses__())
        while todo:
            cls = todo.pop()
            todo.extend(cls.__subclasses__())
            name = vars(cls).get("name")
            if isinstance(name, str) and name and dataclasses.is_dataclass(cls) and isinstance(cls, type):
                found[name] = cls
        return found


# ---------------------------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Entry:
    category: Category
    key: str
    present: bool
    note: str = ""
    rule: Rule | None = None

    @property
    def status(self) -> Literal["present", "excepted", "missing", "stale exception"]:
        if self.rule is None:
            return "present" if self.present else "missing"
        return "stale exception" if self.present else "excepted"


@dataclasses.dataclass
class Report:
    reference: Reference
    entries: list[Entry]
    event_names_source: str
    overlaps: dict[str, list[str]]  # key -> owners of every rule that matches it, when more than one does
    unused_patterns: list[str]  # "owner: pattern" that match no reference name

    def by_status(self, status: str) -> list[Entry]:
        seen: set[str] = set()
        out: list[Entry] = []
        for e in self.entries:
            if e.status == status and e.key not in seen:
                seen.add(e.key)
                out.append(e)
        return out

    def missing(self) -> list[Entry]:
        return self.by_status("missing")

    def excepted(self) -> list[Entry]:
        return self.by_status("excepted")

    def stale(self) -> list[Entry]:
        return self.by_status("stale exception")

    def counts(self, category: Category | None = None) -> dict[str, int]:
        """present/excepted/missing/total; overall, a name in two categories (a class is a top-level name) counts once."""
        chosen = [e for e in self.entries if category is None or e.category == category]
        unique = {e.key: e for e in chosen}.values()
        c = {"present": 0, "excepted": 0, "missing": 0, "total": 0}
        for e in unique:
            c["total"] += 1
            c["present" if e.present else ("excepted" if e.rule else "missing")] += 1
        return c


def _rule_for(key: str) -> tuple[Rule | None, list[Rule]]:
    hits = [r for r in EXCEPTIONS if r.matches(key)]
    return (hits[0] if hits else None), hits


def check() -> Report:
    ref = load_reference()
    subject = Subject()
    entries: list[Entry] = []

    def add(category: Category, key: str, found: Found) -> None:
        entries.append(Entry(category, key, found.present, found.note))

    for name in CLASS_NAMES:
        add("classes", name, subject.top_level(name))
    for name in CLASS_NAMES:
        for member in sorted(ref.classes[name]):
            add("members", f"{name}.{member}", subject.member(name, member))
    for name, members in ref.enums.items():
        for member in members:
            add("enums", f"{name}.{member}", subject.enum_member(name, member))
    for name in ref.top_level:
        add("top-level", name, subject.top_level(name))

    accepted, source = subject.accepted_events()
    dataclasses_by_event = subject.event_classes()
    for name, event in ref.events.items():
        key = f"event:{name}"
        if accepted is None or name not in accepted:
            add("events", key, Found(False, "not accepted" if accepted is not None else source))
            continue
        cls = dataclasses_by_event.get(name)
        counts = event.arg_counts
        if cls is not None and counts:
            fields = [f.name for f in dataclasses.fields(cls)]
            if len(fields) not in counts:
                emitted = "; ".join(f"({', '.join(s.args)})" for s in event.emits) or f"documented {event.documented}"
                add("events", key, Found(False, f"livekit.rtc passes {'/'.join(map(str, sorted(counts)))} "
                                                f"{emitted}, livekit_pyweb {cls.__name__} has {len(fields)} {fields}"))
                continue
        add("events", key, Found(True))

    overlaps: dict[str, list[str]] = {}
    used: set[tuple[int, str]] = set()
    for e in entries:
        e.rule, hits = _rule_for(e.key)
        if len(hits) > 1:
            overlaps[e.key] = [f"{r.owner}: {r.reason}" for r in hits]
        for i, r in enumerate(EXCEPTIONS):
            for p in r.patterns:
                if fnmatch.fnmatchcase(e.key, p):
                    used.add((i, p))
    unused = [f"{r.owner}: {p}" for i, r in enumerate(EXCEPTIONS) for p in r.patterns if (i, p) not in used]
    return Report(ref, entries, source, overlaps, unused)


# ---------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------
def _group(key: str) -> str:
    if key.startswith("event:"):
        return "events"
    return key.split(".", 1)[0] if "." in key else "(top-level names)"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "n/a"


def render_text(report: Report) -> str:
    ref = report.reference
    lines = [f"API parity of livekit_pyweb with livekit.rtc {ref.version}", ""]
    for cat in CATEGORIES:
        c = report.counts(cat)
        lines.append(f"  {cat:<10} {c['present']:>4} / {c['total']:<4} present   "
                     f"({c['excepted']} excepted, {c['missing']} missing)")  # fmt: skip
    c = report.counts()
    lines += [
        "",
        f"overall: {c['present']} of {c['total']} names ({_percent(c['present'], c['total'])}), "
        f"{c['excepted']} excepted, {c['missing']} missing"
        f"  [without the excepted: {c['present']} of {c['total'] - c['excepted']}, "
        f"{_percent(c['present'], c['total'] - c['excepted'])}]",
        "  (a class name is also a top-level name: counted once overall)",
        f"  event names read from: {report.event_names_source}",
        "",
        "enums compared: " + ", ".join(f"{n} ({why})" for n, why in ref.enum_reasons.items()),
        "enums not compared (no room/participant/track/publishing class uses them): " + ", ".join(ref.enums_not_compared),
    ]
    missing = report.missing()
    lines += ["", f"MISSING, not excepted ({len(missing)}):"]
    groups: dict[str, list[Entry]] = {}
    for e in missing:
        groups.setdefault(_group(e.key), []).append(e)
    for group, items in groups.items():
        lines.append(f"  {group}:")
        for e in items:
            lines.append(f"    {e.key}" + (f"  -- {e.note}" if e.note and e.note != "not defined" else ""))
    if not missing:
        lines.append("  (none)")

    stale = report.stale()
    if stale:
        lines += ["", f"STALE EXCEPTIONS, present now: remove them from EXCEPTIONS ({len(stale)}):"]
        lines += [f"  {e.key}  ({e.rule.owner if e.rule else ''})" for e in stale]
    if report.overlaps:
        lines += ["", "names matched by more than one exception rule (the first wins):"]
        lines += [f"  {k}: {' | '.join(v)}" for k, v in report.overlaps.items()]
    if report.unused_patterns:
        lines += ["", "exception patterns that match no livekit.rtc name (remove them):"]
        lines += [f"  {p}" for p in report.unused_patterns]

    excepted = report.excepted()
    lines += ["", f"EXCEPTED ({len(excepted)}), by owner:"]
    for rule in EXCEPTIONS:
        keys = [e.key for e in excepted if e.rule is rule]
        lines.append(f"  [{rule.kind}] {rule.owner} -- {rule.reason} ({len(keys)}):")
        lines += textwrap.wrap(", ".join(keys), width=116, initial_indent="    ", subsequent_indent="    ")

    lines += ["", "room events (livekit.rtc EventTypes; arguments as emitted):"]
    for event in ref.events.values():
        emitted = "; ".join(f"({', '.join(s.args)}) @{s.where}" for s in event.emits) or "never emitted"
        doc = "undocumented" if event.documented is None else f"handler({', '.join(event.documented)})"
        counts = "/".join(map(str, sorted(event.arg_counts))) or "?"
        lines.append(f"  {event.name:<38} {counts} args  {emitted}  [{doc}]")
    if ref.emitted_not_declared:
        lines.append("  emitted but not in EventTypes: " + ", ".join(ref.emitted_not_declared))
    return "\n".join(lines)


def render_json(report: Report) -> dict[str, Any]:
    ref = report.reference
    return {
        "livekit_rtc_version": ref.version,
        "counts": {cat: report.counts(cat) for cat in CATEGORIES} | {"overall": report.counts()},
        "missing": [{"category": e.category, "name": e.key, "note": e.note} for e in report.missing()],
        "excepted": [
            {"category": e.category, "name": e.key, "kind": e.rule.kind, "owner": e.rule.owner, "reason": e.rule.reason}
            for e in report.excepted() if e.rule is not None
        ],
        "stale_exceptions": [e.key for e in report.stale()],
        "overlapping_exceptions": report.overlaps,
        "unused_exception_patterns": report.unused_patterns,
        "present": [e.key for e in report.by_status("present")],
        "enums": {"compared": ref.enum_reasons, "not_compared": ref.enums_not_compared},
        "event_names_source": report.event_names_source,
        "events": {
            name: {
                "arg_counts": sorted(ev.arg_counts),
                "emits": [{"where": s.where, "args": list(s.args)} for s in ev.emits],
                "documented_handler_args": ev.documented,
            }
            for name, ev in ref.events.items()
        },
        "events_emitted_not_declared": ref.emitted_not_declared,
        "exception_rules": [dataclasses.asdict(r) for r in EXCEPTIONS],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = check()
    print(json.dumps(render_json(report), indent=2) if args.json else render_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
