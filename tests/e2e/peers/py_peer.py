#!/usr/bin/env python3
"""Native reference peer for end-to-end tests: the official LiveKit Python SDK (livekit.rtc, libwebrtc).

Run with the venv python (${LKPW_CACHE:-~/.cache/livekit-pyweb}/venv/bin/python), inside the same
network namespace as the server (see build/netns.sh):

    py_peer.py --url ws://127.0.0.1:7880 --token JWT [--publish-video] [--publish-audio] [--duration S]
    py_peer.py --identity alice --room r1 ...      # mints a token itself with devkey/secret

Prints one JSON object per line on stdout (flushed), e.g.
    {"event": "connected", "identity": "alice", "room": "r1", "t": 0.41}
    {"event": "participant_connected", "identity": "bob", "t": ...}
    {"event": "track_published", "kind": "video", "sid": "TR_..", "source": "camera", "t": ...}
    {"event": "track_subscribed", "participant": "bob", "kind": "video", "sid": "TR_..", "source": "camera", "t": ...}
    {"event": "frames", "participant": "bob", "kind": "video", "sid": "TR_..", "count": 42, "width": 320, "height": 240, "t": ...}
    {"event": "track_unsubscribed", "participant": "bob", "kind": "video", "sid": "TR_..", "t": ...}
    {"event": "participant_disconnected", "identity": "bob", "t": ...}
    {"event": "disconnected", "reason": "...", "t": ...}
    {"event": "first_frame", "participant": "bob", "kind": "video", "sid": "TR_..", "width": 320, "height": 240, "t": ...}
    {"event": "audio_level", "participant": "bob", "sid": "TR_..", "frames": 50, "peak": 0.41, "rms": 0.05, "t": ...}
    {"event": "track_muted", "participant": "bob", "kind": "audio", "sid": "TR_..", "t": ...}   (and track_unmuted)
    {"event": "track_unpublished", "participant": "bob", "kind": "audio", "sid": "TR_..", "t": ...}
    {"event": "participant_metadata_changed", "identity": "bob", "old": "", "metadata": "x", "t": ...}
    {"event": "room_metadata_changed", "old": "", "metadata": "x", "t": ...}
    {"event": "data", "participant": "bob", "kind": "reliable", "topic": "t", "size": 12, "sha256": "..",
     "head": "first 48 bytes as text", "t": ...}      a data packet (publish_data) arrived; participant null: server
`t` is seconds since the process started. "first_frame" is emitted the moment the first frame of a
subscribed track arrives; "frames" about every 0.5 s for each subscribed track whose count changed.
For audio, width/height are sample_rate/num_channels.

Audio by content: the SDK's AudioStream hands out about 100 frames a second even when no packet arrives
(silent filler), so a frame count proves nothing about sound. "audio_level" is emitted every 0.5 s for each
subscribed audio track and describes the samples of that window: "peak" (max |sample|) and "rms", both as
fractions of full scale (0..1); silence and filler are 0.

Commands: one JSON object per line on stdin, answered by an event line carrying the same "id":
    {"id": 1, "cmd": "mute", "kind": "audio"}         mute our own published audio/video track
    {"id": 2, "cmd": "unmute", "kind": "video"}
    {"id": 3, "cmd": "unpublish", "kind": "audio"}
    {"id": 4, "cmd": "video_quality", "participant": "bob", "quality": "low"}   low/medium/high layer of bob's video
    {"id": 5, "cmd": "permissions", "allow_all": false, "allow": ["bob"]}   who may subscribe to our tracks
    {"id": 6, "cmd": "publish_data", "payload": "text", "reliable": true, "topic": "t", "destinations": ["bob"],
     "count": 1, "size": 0}   publish_data; with count > 1: payloads "<payload>#<i>|" padded with "." to size bytes
    {"id": 7, "cmd": "rpc_register"}      register the RPC test methods (RPC_METHODS below), each invocation
                                          reported as {"event": "rpc_invoked", "method", "request_id",
                                          "caller_identity", "payload", "response_timeout"}
    {"id": 8, "cmd": "rpc_call", "destination": "bob", "method": "echo", "payload": "x", "response_timeout": 8}
      → done with "result" (the response) or "error": {"code", "message", "data"}, and "ms" (round trip)
    {"id": 10, "cmd": "set_state", "metadata": "m", "name": "N", "attributes": {"k": "v"}}   our own state
    {"id": 9, "cmd": "rpc_bench", "destination": "bob", "method": "echo", "count": 100}
      → done with "ms": the round trip of each of count sequential calls
  → {"event": "done", "id": 1, "cmd": "mute", ...} or {"event": "command_failed", "id": 1, "cmd": ..., "message": ...}

Data streams (livekit.rtc's own calls; "to" = destination identities, optional):
    {"cmd": "listen_streams", "text_topics": ["lk.chat"], "byte_topics": ["files"]}   register stream handlers:
        each stream read whole → {"event": "text_stream", "participant", "topic", "stream_id", "mime_type", "size",
        "attributes", "attachments", "text", "chunks"} or {"event": "byte_stream", ..., "name", "length", "sha256"},
        or {"event": "stream_error", "topic", "stream_id", "message"}
    {"cmd": "send_text", "text": "hi", "topic": "lk.chat", "attributes": {...}}              → done + "stream_id"
    {"cmd": "stream_text", "chunks": ["a", "b"], "topic": ..., "attributes": {...}, "trailer_attributes": {...}}
    {"cmd": "send_bytes", "size": 5000000, "seed": 1, "topic": ..., "name": ..., "mime_type": ..., "attributes": ...}
    {"cmd": "send_file", "size": 40000, "seed": 2, "name": "notes.txt", "topic": ..., "attributes": ...}
        send_bytes/send_file send random.Random(seed).randbytes(size) → done + "sha256" (+ "name", "mime_type")
    {"cmd": "publish_transcription", "participant_identity": ..., "track_sid": ..., "segments": [{id, text,
        start_time, end_time, language, final}]}
Transcriptions received: {"event": "transcription_received", "participant", "track_sid", "segments": [...]}.

Errors: {"event": "error", "message": ...} and exit code 1. The peer exits cleanly on SIGTERM/SIGINT, on stdin
EOF (unless --no-stdin), or after --duration seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import signal
import sys
import tempfile
import time
import warnings

import numpy as np
from livekit import rtc

warnings.filterwarnings("ignore", message=".*HMAC key.*")  # devkey/secret is short on purpose

T0 = time.monotonic()

WIDTH, HEIGHT = 320, 240
SAMPLE_RATE = 48000
AUDIO_FRAME_MS = 10


RPC_METHODS = """
  echo   returns "echo:<caller>:<payload>"
  fail   raises rtc.RpcError(2001, "custom failure", '{"why": "test"}')
  crash  raises ValueError (the caller gets APPLICATION_ERROR 1500)
  slow   sleeps <payload> seconds, then returns "slept"
  big    returns "y" * int(<payload>)
"""


def register_rpc_methods(local: rtc.LocalParticipant) -> None:
    def report(data: rtc.RpcInvocationData) -> None:
        emit("rpc_invoked", method=data.method, request_id=data.request_id, caller_identity=data.caller_identity,
             payload=data.payload[:200], response_timeout=data.response_timeout)

    @local.register_rpc_method("echo")
    async def echo(data: rtc.RpcInvocationData) -> str:
        report(data)
        return f"echo:{data.caller_identity}:{data.payload}"

    @local.register_rpc_method("fail")
    async def fail(data: rtc.RpcInvocationData) -> str:
        report(data)
        raise rtc.RpcError(2001, "custom failure", '{"why": "test"}')

    @local.register_rpc_method("crash")
    async def crash(data: rtc.RpcInvocationData) -> str:
        report(data)
        raise ValueError("py_peer crash handler")

    @local.register_rpc_method("slow")
    async def slow(data: rtc.RpcInvocationData) -> str:
        report(data)
        await asyncio.sleep(float(data.payload))
        return "slept"

    @local.register_rpc_method("big")
    async def big(data: rtc.RpcInvocationData) -> str:
        report(data)
        return "y" * int(data.payload)


async def rpc_call(local: rtc.LocalParticipant, cmd: dict) -> dict:
    t0 = time.perf_counter()
    try:
        result = await local.perform_rpc(destination_identity=cmd["destination"], method=cmd["method"],
                                         payload=cmd.get("payload", ""), response_timeout=cmd.get("response_timeout"))
        out: dict = {"result": result}
    except rtc.RpcError as e:
        out = {"error": {"code": e.code, "message": e.message, "data": e.data}}
    out["ms"] = round((time.perf_counter() - t0) * 1000, 3)
    return out


def emit(event: str, **fields) -> None:
    fields = {"event": event, **fields, "t": round(time.monotonic() - T0, 3)}
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def kind_name(kind) -> str:
    return {rtc.TrackKind.KIND_VIDEO: "video", rtc.TrackKind.KIND_AUDIO: "audio"}.get(kind, str(kind))


def source_name(source) -> str:
    try:
        name = rtc.TrackSource.Name(source)
    except ValueError:
        return str(source)
    return name.removeprefix("SOURCE_").lower()


def mint_token(identity: str, room: str, key: str, secret: str) -> str:
    from livekit import api  # livekit-api; only needed for manual runs

    grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                             can_publish_data=True)
    return api.AccessToken(key, secret).with_identity(identity).with_name(identity) \
        .with_grants(grants).to_jwt()


class Counter:
    def __init__(self, participant: str, kind: str, sid: str) -> None:
        self.participant, self.kind, self.sid = participant, kind, sid
        self.count = 0
        self.reported = 0
        self.width = self.height = 0
        # audio content of the current 0.5 s window (see report_level)
        self.window_frames = 0
        self.window_peak = 0
        self.window_sumsq = 0.0
        self.window_samples = 0

    def report(self) -> None:
        if self.count == self.reported:
            return
        self.reported = self.count
        emit("frames", participant=self.participant, kind=self.kind, sid=self.sid,
             count=self.count, width=self.width, height=self.height)

    def add_samples(self, samples: np.ndarray) -> None:
        self.window_frames += 1
        if samples.size:
            wide = samples.astype(np.int64)
            self.window_peak = max(self.window_peak, int(np.abs(wide).max()))
            self.window_sumsq += float((wide * wide).sum())
            self.window_samples += int(samples.size)

    def report_level(self) -> None:
        """One "audio_level" line for the window since the last one, then a new window."""
        rms = math.sqrt(self.window_sumsq / self.window_samples) / 32768 if self.window_samples else 0.0
        emit("audio_level", participant=self.participant, sid=self.sid, frames=self.window_frames,
             peak=round(self.window_peak / 32768, 5), rms=round(rms, 5))
        self.window_frames = self.window_peak = self.window_samples = 0
        self.window_sumsq = 0.0

    def add(self, width: int, height: int) -> None:
        self.count += 1
        self.width, self.height = width, height
        if self.count == 1:
            emit("first_frame", participant=self.participant, kind=self.kind, sid=self.sid,
                 width=width, height=height)


async def count_video(track: rtc.Track, counter: Counter) -> None:
    stream = rtc.VideoStream(track)
    try:
        async for ev in stream:
            counter.add(ev.frame.width, ev.frame.height)
    finally:
        await stream.aclose()


async def count_audio(track: rtc.Track, counter: Counter) -> None:
    stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
    try:
        async for ev in stream:
            counter.add(ev.frame.sample_rate, ev.frame.num_channels)
            counter.add_samples(np.frombuffer(ev.frame.data, dtype=np.int16))
    finally:
        await stream.aclose()


async def produce_video(source: rtc.VideoSource, fps: float) -> None:
    """320x240 RGBA: a white bar sweeping over a colour gradient that shifts every frame."""
    base = bytearray(WIDTH * HEIGHT * 4)
    for y in range(HEIGHT):
        for x in range(WIDTH):
            i = (y * WIDTH + x) * 4
            base[i:i + 4] = bytes((x * 255 // WIDTH, y * 255 // HEIGHT, 128, 255))
    row = WIDTH * 4
    white_bar = b"\xff" * (16 * 4)
    n = 0
    period = 1.0 / fps
    next_t = time.monotonic()
    while True:
        shift = (n * 4) % HEIGHT
        buf = bytearray(base[shift * row:] + base[:shift * row])
        bx = (n * 6) % (WIDTH - 16)
        for y in range(HEIGHT):
            i = (y * WIDTH + bx) * 4
            buf[i:i + len(white_bar)] = white_bar
        source.capture_frame(rtc.VideoFrame(WIDTH, HEIGHT, rtc.VideoBufferType.RGBA, buf))
        n += 1
        next_t += period
        await asyncio.sleep(max(0.0, next_t - time.monotonic()))


async def produce_audio(source: rtc.AudioSource, freq: float) -> None:
    """440 Hz (default) sine, 48 kHz mono, 10 ms frames; capture_frame paces it in real time."""
    spf = SAMPLE_RATE * AUDIO_FRAME_MS // 1000
    phase = 0
    amp = 0.3 * 32767
    while True:
        samples = [int(amp * math.sin(2 * math.pi * freq * (phase + i) / SAMPLE_RATE))
                   for i in range(spf)]
        phase = (phase + spf) % SAMPLE_RATE
        frame = rtc.AudioFrame.create(SAMPLE_RATE, 1, spf)
        mv = frame.data  # memoryview of int16
        for i, s in enumerate(samples):
            mv[i] = s
        await source.capture_frame(frame)


async def run(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    token = args.token or mint_token(args.identity, args.room, args.api_key, args.api_secret)
    room = rtc.Room(loop=loop)
    tasks: list[asyncio.Task] = []
    counters: dict[str, Counter] = {}
    readers: dict[str, asyncio.Task] = {}
    local_tracks: dict[str, rtc.LocalAudioTrack | rtc.LocalVideoTrack] = {}  # "audio"/"video" -> our track
    local_pubs: dict[str, rtc.LocalTrackPublication] = {}
    connected = asyncio.Event()
    pending_lines: list[bytes] = []

    async def command(line: bytes) -> None:
        await connected.wait()  # commands act on the joined room
        try:
            cmd = json.loads(line)
        except ValueError:
            emit("command_failed", id=None, cmd=None, message=f"not JSON: {line[:200]!r}")
            return
        name, cid = cmd.get("cmd"), cmd.get("id")
        try:
            if name in ("mute", "unmute"):
                track = local_tracks[cmd["kind"]]
                track.mute() if name == "mute" else track.unmute()
                emit("done", id=cid, cmd=name, kind=cmd["kind"], sid=local_pubs[cmd["kind"]].sid)
            elif name == "set_state":  # our own metadata, name and attributes (livekit.rtc's calls)
                lp = room.local_participant
                if "metadata" in cmd:
                    await lp.set_metadata(cmd["metadata"])
                if "name" in cmd:
                    await lp.set_name(cmd["name"])
                if "attributes" in cmd:
                    await lp.set_attributes(cmd["attributes"])
                emit("done", id=cid, cmd=name, metadata=lp.metadata, name=lp.name, attributes=dict(lp.attributes))
            elif name == "video_quality":  # the simulcast layer we want of a remote video track
                pub = next(pub for p in room.remote_participants.values() if p.identity == cmd["participant"]
                           for pub in p.track_publications.values() if pub.kind == rtc.TrackKind.KIND_VIDEO)
                pub.set_video_quality(getattr(rtc.VideoQuality, "VIDEO_QUALITY_" + cmd["quality"].upper()))
                emit("done", id=cid, cmd=name, sid=pub.sid, quality=cmd["quality"])
            elif name == "unpublish":
                pub = local_pubs.pop(cmd["kind"])
                local_tracks.pop(cmd["kind"])
                await room.local_participant.unpublish_track(pub.sid)
                emit("done", id=cid, cmd=name, kind=cmd["kind"], sid=pub.sid)
            elif name == "permissions":  # who may subscribe to our tracks (livekit.rtc's own call)
                room.local_participant.set_track_subscription_permissions(
                    allow_all_participants=bool(cmd["allow_all"]),
                    participant_permissions=[rtc.ParticipantTrackPermission(participant_identity=i, allow_all=True)
                                             for i in cmd.get("allow", [])])
                emit("done", id=cid, cmd=name)
            elif name == "publish_data":  # livekit.rtc's publish_data, count times, not awaiting each delivery
                count, size = int(cmd.get("count", 1)), int(cmd.get("size", 0))
                for i in range(count):
                    payload = cmd["payload"].encode() if count == 1 else f"{cmd['payload']}#{i}|".encode()
                    payload += b"." * max(0, size - len(payload))
                    await room.local_participant.publish_data(
                        payload, reliable=bool(cmd.get("reliable", True)), topic=cmd.get("topic", ""),
                        destination_identities=list(cmd.get("destinations", [])))
                emit("done", id=cid, cmd=name, count=count)
            elif name == "rpc_register":
                register_rpc_methods(room.local_participant)
                emit("done", id=cid, cmd=name)
            elif name == "rpc_call":
                emit("done", id=cid, cmd=name, **await rpc_call(room.local_participant, cmd))
            elif name == "rpc_bench":
                times = []
                for _ in range(int(cmd["count"])):
                    out = await rpc_call(room.local_participant, cmd)
                    if "error" in out:
                        raise RuntimeError(f"rpc_bench call failed: {out}")
                    times.append(out["ms"])
                emit("done", id=cid, cmd=name, ms=times)
            elif name == "listen_streams":
                for topic in cmd.get("text_topics", []):
                    room.register_text_stream_handler(topic, lambda r, who: tasks.append(
                        asyncio.ensure_future(read_text(r, who))))
                for topic in cmd.get("byte_topics", []):
                    room.register_byte_stream_handler(topic, lambda r, who: tasks.append(
                        asyncio.ensure_future(read_bytes(r, who))))
                emit("done", id=cid, cmd=name)
            elif name == "send_text":
                info = await room.local_participant.send_text(
                    cmd["text"], topic=cmd.get("topic", ""), attributes=cmd.get("attributes"),
                    destination_identities=cmd.get("to"))
                emit("done", id=cid, cmd=name, stream_id=info.stream_id)
            elif name == "stream_text":
                writer = await room.local_participant.stream_text(
                    topic=cmd.get("topic", ""), attributes=cmd.get("attributes"), destination_identities=cmd.get("to"))
                for chunk in cmd["chunks"]:
                    await writer.write(chunk)
                await writer.aclose(attributes=cmd.get("trailer_attributes"))
                emit("done", id=cid, cmd=name, stream_id=writer.info.stream_id)
            elif name in ("send_bytes", "send_file"):
                data = random.Random(cmd.get("seed", 0)).randbytes(int(cmd["size"]))
                if name == "send_bytes":
                    info = await room.local_participant.send_bytes(
                        data, topic=cmd.get("topic", ""), name=cmd.get("name"), mime_type=cmd.get("mime_type"),
                        attributes=cmd.get("attributes"), destination_identities=cmd.get("to"))
                else:
                    with tempfile.TemporaryDirectory() as tmp:
                        path = os.path.join(tmp, cmd["name"])
                        with open(path, "wb") as f:
                            f.write(data)
                        info = await room.local_participant.send_file(
                            path, topic=cmd.get("topic", ""), attributes=cmd.get("attributes"),
                            destination_identities=cmd.get("to"))
                emit("done", id=cid, cmd=name, stream_id=info.stream_id, name=info.name, mime_type=info.mime_type,
                     sha256=hashlib.sha256(data).hexdigest())
            elif name == "publish_transcription":
                await room.local_participant.publish_transcription(rtc.Transcription(
                    participant_identity=cmd["participant_identity"], track_sid=cmd.get("track_sid", ""),
                    segments=[rtc.TranscriptionSegment(**seg) for seg in cmd["segments"]]))
                emit("done", id=cid, cmd=name)
            else:
                raise ValueError(f"unknown command {name!r}")
        except Exception as e:
            emit("command_failed", id=cid, cmd=name, message=repr(e))

    def stream_fields(reader, who: str) -> dict:
        info = reader.info
        return {"participant": who, "topic": info.topic, "stream_id": info.stream_id, "mime_type": info.mime_type,
                "size": info.size, "timestamp": info.timestamp}

    async def read_text(reader: rtc.TextStreamReader, who: str) -> None:
        try:
            chunks = [chunk async for chunk in reader]
        except Exception as e:
            emit("stream_error", **stream_fields(reader, who), message=repr(e))
            return
        text = "".join(chunks)
        emit("text_stream", **stream_fields(reader, who), attributes=dict(reader.info.attributes or {}),
             attachments=list(reader.info.attachments), text=text if len(text) <= 4096 else None,
             length=len(text), sha256=hashlib.sha256(text.encode()).hexdigest(), chunks=len(chunks))

    async def read_bytes(reader: rtc.ByteStreamReader, who: str) -> None:
        digest, length = hashlib.sha256(), 0
        try:
            async for chunk in reader:
                digest.update(chunk)
                length += len(chunk)
        except Exception as e:
            emit("stream_error", **stream_fields(reader, who), message=repr(e))
            return
        emit("byte_stream", **stream_fields(reader, who), name=reader.info.name,
             attributes=dict(reader.info.attributes or {}), length=length, sha256=digest.hexdigest())

    if not args.no_stdin:
        def _stdin_readable() -> None:
            try:
                data = os.read(sys.stdin.fileno(), 65536)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(sys.stdin.fileno())
                stop.set()
                return
            pending_lines.append(data)
            *lines, rest = b"".join(pending_lines).split(b"\n")
            pending_lines[:] = [rest]
            for line in lines:
                if line.strip():
                    tasks.append(asyncio.ensure_future(command(line)))
        try:
            loop.add_reader(sys.stdin.fileno(), _stdin_readable)
        except (ValueError, OSError, NotImplementedError):
            pass  # stdin not pollable (e.g. a regular file): rely on signals/--duration
    if args.duration:
        loop.call_later(args.duration, stop.set)

    @room.on("participant_connected")
    def _pc(p: rtc.RemoteParticipant) -> None:
        emit("participant_connected", identity=p.identity)

    @room.on("participant_disconnected")
    def _pd(p: rtc.RemoteParticipant) -> None:
        emit("participant_disconnected", identity=p.identity)

    @room.on("track_subscribed")
    def _ts(track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        kind = kind_name(track.kind)
        emit("track_subscribed", participant=p.identity, kind=kind, sid=pub.sid,
             source=source_name(pub.source))
        c = counters[pub.sid] = Counter(p.identity, kind, pub.sid)
        fn = count_video if track.kind == rtc.TrackKind.KIND_VIDEO else count_audio
        readers[pub.sid] = asyncio.ensure_future(fn(track, c))

    @room.on("track_unsubscribed")
    def _tu(track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        c = counters.pop(pub.sid, None)
        if c:
            c.report()
        r = readers.pop(pub.sid, None)
        if r:
            r.cancel()
        emit("track_unsubscribed", participant=p.identity, kind=kind_name(track.kind), sid=pub.sid)

    @room.on("track_unpublished")
    def _tun(pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        emit("track_unpublished", participant=p.identity, kind=kind_name(pub.kind), sid=pub.sid)

    @room.on("track_muted")
    def _tm(p: rtc.Participant, pub: rtc.TrackPublication) -> None:
        emit("track_muted", participant=p.identity, kind=kind_name(pub.kind), sid=pub.sid)

    @room.on("track_unmuted")
    def _tum(p: rtc.Participant, pub: rtc.TrackPublication) -> None:
        emit("track_unmuted", participant=p.identity, kind=kind_name(pub.kind), sid=pub.sid)

    @room.on("participant_metadata_changed")
    def _pmc(p: rtc.Participant, old: str, new: str) -> None:
        emit("participant_metadata_changed", identity=p.identity, old=old, metadata=new)

    @room.on("participant_name_changed")
    def _pnc(p: rtc.Participant, old: str, new: str) -> None:
        emit("participant_name_changed", identity=p.identity, old=old, name=new)

    @room.on("participant_attributes_changed")
    def _pac(changed: dict[str, str], p: rtc.Participant) -> None:
        emit("participant_attributes_changed", identity=p.identity, changed=dict(changed),
             attributes=dict(p.attributes))

    @room.on("room_metadata_changed")
    def _rmc(old: str, new: str) -> None:
        emit("room_metadata_changed", old=old, metadata=new)

    @room.on("data_received")
    def _data(packet: rtc.DataPacket) -> None:
        emit("data", participant=packet.participant.identity if packet.participant else None,
             kind="reliable" if packet.kind == rtc.DataPacketKind.KIND_RELIABLE else "lossy", topic=packet.topic,
             size=len(packet.data), sha256=hashlib.sha256(packet.data).hexdigest(),
             head=packet.data[:48].decode("utf-8", "replace"))

    @room.on("transcription_received")
    def _tr(segments, participant, publication) -> None:
        emit("transcription_received", participant=participant.identity if participant else None,
             track_sid=publication.sid if publication else None,
             segments=[{"id": s.id, "text": s.text, "start_time": s.start_time, "end_time": s.end_time,
                        "language": s.language, "final": s.final} for s in segments])

    @room.on("disconnected")
    def _dc(reason) -> None:
        try:
            reason = rtc.DisconnectReason.Name(reason)
        except Exception:
            reason = str(reason)
        emit("disconnected", reason=reason)
        stop.set()

    opts = rtc.RoomOptions(auto_subscribe=True)
    if args.connect_timeout:
        opts.connect_timeout = args.connect_timeout
    connecting = asyncio.ensure_future(room.connect(args.url, token, opts))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        # SIGTERM / EOF / --duration while the SDK is still trying (it retries for up to ~60 s).
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        emit("error", message="connect aborted: stopped before the room connected")
        return 1
    stopping.cancel()
    if connecting.exception() is not None:  # ConnectError and friends
        emit("error", message=f"connect failed: {connecting.exception()}")
        return 1
    emit("connected", identity=room.local_participant.identity, room=room.name)
    for p in room.remote_participants.values():
        emit("participant_connected", identity=p.identity)

    if args.publish_video:
        vsrc = rtc.VideoSource(WIDTH, HEIGHT)
        vtrack = rtc.LocalVideoTrack.create_video_track("py-video", vsrc)
        tasks.append(asyncio.ensure_future(produce_video(vsrc, args.fps)))
        pub = await room.local_participant.publish_track(
            vtrack, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA, simulcast=False))
        local_tracks["video"], local_pubs["video"] = vtrack, pub
        emit("track_published", kind="video", sid=pub.sid, source="camera")
    if args.publish_audio:
        asrc = rtc.AudioSource(SAMPLE_RATE, 1)
        atrack = rtc.LocalAudioTrack.create_audio_track("py-audio", asrc)
        tasks.append(asyncio.ensure_future(produce_audio(asrc, args.tone)))
        pub = await room.local_participant.publish_track(
            atrack, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        local_tracks["audio"], local_pubs["audio"] = atrack, pub
        emit("track_published", kind="audio", sid=pub.sid, source="microphone")
    connected.set()

    async def reporter() -> None:
        while True:
            await asyncio.sleep(0.5)
            for c in list(counters.values()):
                c.report()
                if c.kind == "audio":
                    c.report_level()

    tasks.append(asyncio.ensure_future(reporter()))
    await stop.wait()

    for c in counters.values():
        c.report()
    for t in tasks + list(readers.values()):
        t.cancel()
    await asyncio.gather(*tasks, *readers.values(), return_exceptions=True)
    if room.isconnected():
        try:
            await asyncio.wait_for(room.disconnect(), 5)
        except Exception as e:
            emit("error", message=f"disconnect: {e!r}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="ws://127.0.0.1:7880")
    ap.add_argument("--token", help="access token (JWT); else one is minted from --identity/--room")
    ap.add_argument("--identity", default=f"py-{os.getpid()}")
    ap.add_argument("--room", default="e2e")
    ap.add_argument("--api-key", default="devkey")
    ap.add_argument("--api-secret", default="secret")
    ap.add_argument("--publish-video", action="store_true")
    ap.add_argument("--publish-audio", action="store_true")
    ap.add_argument("--fps", type=float, default=20.0)
    ap.add_argument("--tone", type=float, default=440.0, help="sine frequency in Hz")
    ap.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = until signal/EOF")
    ap.add_argument("--no-stdin", action="store_true", help="do not exit on stdin EOF")
    ap.add_argument("--connect-timeout", type=float, default=0.0,
                    help="seconds per signal connection attempt (SDK default 5)")
    args = ap.parse_args()
    try:
        return asyncio.run(run(args))
    except Exception as e:
        emit("error", message=repr(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
