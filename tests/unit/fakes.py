"""An in-memory Platform for the engine and Room: the test plays the server, frame by frame."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import types
import urllib.parse
from collections.abc import Iterator
from typing import Any

from livekit_pyweb._core import proto
from livekit_pyweb._core.ports import TransportClosed
from livekit_pyweb._core.signal_url import decode_join_request
from livekit_pyweb.errors import ConnectionError, ConnectionErrorReason, DeviceError, DeviceErrorReason

# What Chromium's fake devices look like once capture is allowed (two cameras with device-count=2).
FAKE_DEVICES: list[dict[str, str]] = [
    {"device_id": "default", "kind": "audioinput", "label": "Default", "group_id": "g-mic"},
    {"device_id": "mic-a", "kind": "audioinput", "label": "Fake Audio Input 1", "group_id": "g-mic"},
    {"device_id": "mic-b", "kind": "audioinput", "label": "Fake Audio Input 2", "group_id": "g-mic2"},
    {"device_id": "cam-a", "kind": "videoinput", "label": "fake_device_0", "group_id": "g-cam"},
    {"device_id": "cam-b", "kind": "videoinput", "label": "fake_device_1", "group_id": "g-cam2"},
    {"device_id": "default", "kind": "audiooutput", "label": "Default", "group_id": "g-out"},
    {"device_id": "out-b", "kind": "audiooutput", "label": "Fake Audio Output 2", "group_id": "g-out2"},
]


class FakeSocket:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sent: list[Any] = []
        self.incoming: asyncio.Queue[bytes | TransportClosed] = asyncio.Queue()
        self.closed_with: int | None = None
        self.goodbyes: list[bytes | None] = []  # set_goodbye() calls, in order

    # server side
    def push(self, **message: Any) -> None:
        self.incoming.put_nowait(proto.rtc().SignalResponse(**message).SerializeToString())

    def drop(self, code: int = 1006) -> None:
        self.incoming.put_nowait(TransportClosed(code))

    def requests(self, kind: str | None = None) -> list[Any]:
        out = []
        for frame in self.sent:
            req = proto.rtc().SignalRequest()
            req.ParseFromString(frame)
            if kind is None or req.WhichOneof("message") == kind:
                out.append(req)
        return out

    @property
    def join_request(self) -> Any:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query))
        return decode_join_request(query["join_request"])

    # client side
    async def recv(self) -> bytes:
        item = await self.incoming.get()
        if isinstance(item, TransportClosed):
            self.incoming.put_nowait(item)
            raise item
        return item

    def send(self, data: bytes) -> None:
        if self.closed_with is None:
            self.sent.append(data)

    def set_goodbye(self, frame: bytes | None) -> None:
        self.goodbyes.append(frame)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed_with is None:
            self.closed_with = code
            self.incoming.put_nowait(TransportClosed(code))


class FakePC:
    """A PeerConnectionPort: records the calls; ``connect()`` plays ICE succeeding."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.calls: list[tuple[str, ...]] = []
        self.on_ice_candidate: Any = None
        self.on_track: Any = None
        self.on_connection_state: Any = None
        self.on_data_channel: Any = None
        self.has_remote_description = False  # test side: the engine set one
        self._offers = 0
        self.closed = False
        self.recv_transceivers: list[str] = []
        self.channels: list[str] = []
        self.data_channels: dict[str, FakeChannel] = {}  # the ones we created, by label
        self.send_encodings: list[Any] = []
        self.codecs: list[str | None] = []  # the codec (mime type) preferred for each send transceiver
        self.senders: list[FakeSender] = []
        self.connection_state = "new"

    async def set_configuration(self, config: dict[str, Any]) -> None:
        self.config = config
        self.calls.append(("set_configuration",))

    async def create_offer(self, ice_restart: bool = False) -> str:
        self._offers += 1
        return f"offer-{self._offers}"

    async def create_answer(self) -> str:
        return "answer-sdp"

    async def set_local_description(self, type_: str, sdp: str) -> None:
        self.calls.append(("local", type_, sdp))

    async def set_remote_description(self, type_: str, sdp: str) -> None:
        self.calls.append(("remote", type_, sdp))
        self.has_remote_description = True

    async def add_ice_candidate(self, candidate: dict[str, Any] | None) -> None:
        self.calls.append(("candidate", str(candidate and candidate.get("candidate"))))

    async def add_recv_transceiver(self, kind: str) -> None:
        self.recv_transceivers.append(kind)

    async def add_send_transceiver(self, track: Any, send_encodings: Any = None, codec: str | None = None) -> FakeSender:
        self.calls.append(("send_transceiver", track.id))
        self.send_encodings.append(send_encodings)
        self.codecs.append(codec)
        sender = FakeSender(track, len(send_encodings or [None]), send_encodings, codec, self)
        self.senders.append(sender)
        return sender

    async def remove_sender(self, sender: FakeSender) -> None:
        self.calls.append(("remove_sender", sender.track.id))
        sender.removed = True

    async def create_data_channel(self, label: str, *, ordered: bool, max_retransmits: int | None = None) -> Any:
        self.channels.append(label)
        channel = FakeChannel(label, ordered=ordered, max_retransmits=max_retransmits)
        self.data_channels[label] = channel
        return channel

    async def get_stats(self) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        self.closed = True

    # test side
    def connect(self) -> None:
        """ICE and DTLS up: the connection is connected, its data channels open."""
        self.connection_state = "connected"
        if self.on_connection_state:
            self.on_connection_state("connected")
        for channel in self.data_channels.values():
            channel.open()

    def remote_channel(self, label: str) -> FakeChannel:
        """The server opens a data channel on this connection (``datachannel`` event): returns it, open."""
        channel = FakeChannel(label)
        channel.ready_state = "open"
        if self.on_data_channel:
            self.on_data_channel(channel)
        return channel


class FakeSender:
    def __init__(self, track: Any, encodings: int = 1, send_encodings: Any = None, codec: str | None = None,
                 pc: Any = None) -> None:
        self.track = track
        self.send_encodings = send_encodings
        self.codec = codec
        self.degradation_preference: str | None = None
        self.degradation_error: Exception | None = None  # set: set_degradation_preference raises it
        self.pc = pc
        self.replaced: list[Any] = []  # replace_track() calls: the tracks, in order
        self.removed = False
        self.active = [True] * encodings  # encodings[i].active, as the browser starts them
        self.active_calls: list[list[bool]] = []
        self.stats: list[dict[str, Any]] = []  # what getStats() gives

    async def get_stats(self) -> list[dict[str, Any]]:
        return [dict(e) for e in self.stats]

    async def set_encodings_active(self, active: list[bool]) -> None:
        if len(active) != len(self.active):
            raise ValueError(f"the sender has {len(self.active)} encodings, {len(active)} active flags given")
        self.active_calls.append(list(active))
        self.active = list(active)

    async def set_degradation_preference(self, preference: str) -> None:
        if self.degradation_error is not None:
            raise self.degradation_error
        self.degradation_preference = preference

    async def get_parameters(self) -> dict[str, Any]:
        encodings = [dict(e, active=a) for e, a in zip(self.send_encodings or [{}], self.active)]
        return {"encodings": encodings, "degradationPreference": self.degradation_preference,
                "codecs": [{"mimeType": self.codec}] if self.codec else []}

    async def set_encodings(self, encodings: list[dict[str, Any]]) -> bool:
        current = self.send_encodings or [{}]
        if len(encodings) != len(current):
            return False
        self.send_encodings = [dict(e, **{k: n[k] for k in ("scaleResolutionDownBy", "maxBitrate", "maxFramerate",
                                                            "priority", "networkPriority") if k in n})
                               if a else dict(e) for e, n, a in zip(current, encodings, self.active)]
        self.encodings_set = getattr(self, "encodings_set", 0) + 1
        return True

    async def replace_track(self, track: Any) -> None:
        if self.pc is not None:
            self.pc.calls.append(("replace_track", track.id))
        self.replaced.append(track)
        self.track = track


class FakeChannel:
    """A DataChannelPort. ``auto_drain`` (default): sent bytes leave the buffer at once; without it they stay in
    ``buffered_amount`` until the test calls :meth:`drain`, which fires ``bufferedamountlow`` when the buffer
    crosses the threshold, as browsers do."""

    def __init__(self, label: str = "", *, ordered: bool = True, max_retransmits: int | None = None) -> None:
        self.label = label
        self.ordered = ordered
        self.max_retransmits = max_retransmits
        self.ready_state = "connecting"
        self.on_message: Any = None
        self.on_open: Any = None
        self.on_close: Any = None
        self.on_buffered_amount_low: Any = None
        self.buffered_amount = 0
        self.buffered_amount_low_threshold = 0
        self.auto_drain = True
        self.sent: list[bytes] = []
        self.max_buffered = 0  # the highest buffered_amount a send left
        self.closed = False

    def send(self, data: bytes) -> None:
        from livekit_pyweb.errors import PublishDataError

        if self.ready_state != "open":
            raise PublishDataError(f"RTCDataChannel.send on {self.label!r} failed: InvalidStateError")
        self.sent.append(bytes(data))
        if not self.auto_drain:
            self.buffered_amount += len(data)
            self.max_buffered = max(self.max_buffered, self.buffered_amount)

    def close(self) -> None:
        self.closed = True
        self.ready_state = "closed"

    # test side
    def open(self) -> None:
        if self.ready_state == "connecting":
            self.ready_state = "open"
            if self.on_open:
                self.on_open()

    def drain(self, nbytes: int | None = None) -> None:
        before = self.buffered_amount
        self.buffered_amount = 0 if nbytes is None else max(0, before - nbytes)
        if before > self.buffered_amount_low_threshold >= self.buffered_amount and self.on_buffered_amount_low:
            self.on_buffered_amount_low()

    def deliver(self, data: bytes) -> None:
        if self.on_message:
            self.on_message(bytes(data))

    def remote_close(self) -> None:
        self.ready_state = "closed"
        if self.on_close:
            self.on_close()

    def packets(self) -> list[Any]:
        out = []
        for frame in self.sent:
            packet = proto.models().DataPacket()
            packet.ParseFromString(frame)
            out.append(packet)
        return out


class _Handle:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakePlatform:
    """Hands out FakeSockets and FakePCs and remembers them. ``v1_missing`` plays a server older than /rtc/v1."""

    CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
    FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"

    def __init__(self, *, v1_missing: bool = False, refuse: ConnectionError | None = None, ua: str = CHROME,
                 hang_open: bool = False) -> None:
        self.ua = ua
        self.v1_missing = v1_missing
        self.refuse = refuse
        self.hang_open = hang_open
        self.open_timeouts: list[float] = []
        self.sockets: list[FakeSocket] = []
        self.pcs: list[FakePC] = []
        self.page_hide: list[Any] = []
        self.page_hide_handles: list[_Handle] = []
        self.socket_ready = asyncio.Event()
        self.started = 0
        self.closed = False
        self.lost: list[Any] = []
        self.captures: list[dict[str, Any]] = []
        self.display_captures: list[dict[str, Any]] = []
        self.capture_error: Exception | None = None
        self.started_audio: list[list[Any]] = []
        self.autoplay_refused = False
        self.started_video: list[list[Any]] = []
        self.silent_microphone = False  # the captured audio tracks' detect_silence answer
        self.video_autoplay_refused = False
        self.caps = {"RTCPeerConnection": True, "addTransceiver": True, "addTrack": True, "ResizeObserver": True,
                     "IntersectionObserver": True}
        # RTCRtpSender.getCapabilities(kind) mime types (None: the browser has no getCapabilities)
        self.codecs: dict[str, list[str] | None] = {
            "video": ["video/VP8", "video/rtx", "video/VP9", "video/H264", "video/AV1", "video/red", "video/ulpfec"],
            "audio": ["audio/opus", "audio/red"]}
        self.prepared: list[str] = []  # prepare_connection() URLs
        self.prepare_error: Exception | None = None
        self.video_size = (1280, 720)  # what the camera captures (a test may change it between captures)
        self.devices: list[dict[str, str]] = [dict(d) for d in FAKE_DEVICES]
        self.granted = False  # labels are empty until a capture succeeded (as browsers do)
        self.device_listeners: list[Any] = []
        self.device_handles: list[_Handle] = []
        # send_file: the page's <input type=file> files by (selector, index): (name, type, content)
        self.page_files: dict[tuple[str, int], tuple[str, str, bytes]] = {}
        self.file_reads: list[tuple[int, int]] = []  # (offset, length) of each read_file
        self.visibility_listeners: list[tuple[Any, _Handle]] = []
        self.silent_calls: list[str] = []  # silent_audio(state) calls, in order
        self.silent_element: Any = None  # what silent_audio("create") handed out (while on the page)

    name = "fake"

    def on_visibility_changed(self, fn: Any) -> _Handle:
        handle = _Handle()
        self.visibility_listeners.append((fn, handle))
        return handle

    def set_hidden(self, hidden: bool) -> None:
        """The page's document fired visibilitychange (what the port pushes)."""
        for fn, handle in list(self.visibility_listeners):
            if not handle.closed:
                fn(hidden)

    def silent_audio(self, state: str) -> Any:
        self.silent_calls.append(state)
        if state == "create":
            if self.silent_element is None:
                self.silent_element = {"silent": True}
            return self.silent_element
        if state == "remove":
            self.silent_element = None
        return None

    async def start(self) -> None:
        self.started += 1

    async def open_signal(self, url: str, timeout: float) -> FakeSocket:
        self.open_timeouts.append(timeout)
        if self.hang_open:  # a server that accepts TCP and never finishes the WebSocket handshake
            await asyncio.Event().wait()
        if self.refuse is not None:
            raise self.refuse
        if self.v1_missing and "/rtc/v1" in url:
            raise ConnectionError("no v1", ConnectionErrorReason.ServiceNotFound, 404)
        socket = FakeSocket(url)
        self.sockets.append(socket)
        self.socket_ready.set()
        return socket

    async def create_peer_connection(self, config: dict[str, Any]) -> FakePC:
        pc = FakePC(config)
        self.pcs.append(pc)
        return pc

    async def get_user_media(self, constraints: dict[str, Any]) -> list[FakeTrackPort]:
        self.captures.append(constraints)
        if self.capture_error is not None:
            raise self.capture_error
        n = len(self.captures)
        tracks = []
        if "video" in constraints:
            device = self._device("videoinput", constraints["video"])
            width, height = self.video_size
            tracks.append(FakeTrackPort(f"cam-{n}", "video",
                                        {"width": width, "height": height, "frameRate": 30, "deviceId": device}))
        if "audio" in constraints:
            tracks.append(FakeTrackPort(f"mic-{n}", "audio", {"deviceId": self._device("audioinput", constraints["audio"])}))
            tracks[-1].silent = self.silent_microphone
        self.granted = True
        return tracks

    async def get_display_media(self, options: dict[str, Any]) -> list[FakeTrackPort]:
        """A screen capture: 1920x1080 video, plus audio when ``options["audio"]`` asks (as Chromium's fake
        capture with a tab picked). Recorded in ``display_captures``; ``capture_error`` fails it too."""
        self.display_captures.append(options)
        if self.capture_error is not None:
            raise self.capture_error
        n = len(self.display_captures)
        tracks = [FakeTrackPort(f"screen-{n}", "video", {"width": 1920, "height": 1080, "frameRate": 30})]
        if options.get("audio"):
            tracks.append(FakeTrackPort(f"screen-audio-{n}", "audio"))
        return tracks

    def _device(self, kind: str, constraint: Any) -> str:
        """The device a capture uses: an exact deviceId must exist (else OverconstrainedError, as Chromium); an
        ideal/bare one is used when it exists; else the first of the kind."""
        ids = [d["device_id"] for d in self.devices if d["kind"] == kind and d["device_id"] != "default"]
        wanted = constraint.get("deviceId") if isinstance(constraint, dict) else None
        if isinstance(wanted, dict) and "exact" in wanted:
            if wanted["exact"] not in ids:
                raise DeviceError("getUserMedia failed: OverconstrainedError", DeviceErrorReason.NotFound,
                                  "OverconstrainedError")
            return str(wanted["exact"])
        ideal = wanted.get("ideal") if isinstance(wanted, dict) else wanted
        if ideal in ids:
            return str(ideal)
        if not ids:
            raise DeviceError("getUserMedia failed: NotFoundError", DeviceErrorReason.NotFound, "NotFoundError")
        return ids[0]

    async def enumerate_devices(self) -> list[dict[str, str]]:
        return [dict(d, label=d["label"] if self.granted else "") for d in self.devices]

    def on_devices_changed(self, fn: Any) -> _Handle:
        self.device_listeners.append(fn)
        handle = _Handle()
        self.device_handles.append(handle)
        return handle

    def devicechange(self) -> None:
        """The page's navigator.mediaDevices fired devicechange (what the port pushes)."""
        for fn, handle in zip(self.device_listeners, self.device_handles):
            if not handle.closed:
                fn()

    def on_lost(self, fn: Any) -> _Handle:
        self.lost.append(fn)
        return _Handle()

    def close(self) -> None:
        self.closed = True

    def on_page_hide(self, fn: Any) -> _Handle:
        self.page_hide.append(fn)
        handle = _Handle()
        self.page_hide_handles.append(handle)
        return handle

    def user_agent(self) -> str:
        return self.ua

    async def capabilities(self) -> dict[str, bool]:
        self.started += 1
        return dict(self.caps)

    def _page_file(self, file: Any) -> tuple[str, str, bytes]:
        found = self.page_files.get((file["selector"], int(file.get("index", 0))))
        if found is None:
            raise FileNotFoundError(f"no file in {file['selector']!r}")
        return found

    async def file_info(self, file: Any) -> dict[str, Any]:
        name, type_, content = self._page_file(file)
        return {"name": name, "size": len(content), "type": type_}

    async def read_file(self, file: Any, offset: int, length: int) -> bytes:
        self.file_reads.append((offset, length))
        return self._page_file(file)[2][offset:offset + length]

    async def send_codecs(self, kind: str) -> list[str] | None:
        codecs = self.codecs.get(kind)
        return None if codecs is None else list(codecs)

    async def prepare_connection(self, url: str) -> None:
        self.prepared.append(url)
        if self.prepare_error is not None:
            raise self.prepare_error

    def start_audio(self, elements: list[Any]) -> Any:
        """Plays happen now (recorded); refused with NotAllowedError while ``autoplay_refused`` is set."""
        self.started_audio.append(list(elements))
        future = asyncio.get_running_loop().create_future()
        future.set_result(["NotAllowedError"] * len(elements) if self.autoplay_refused else [])
        return future

    def start_video(self, elements: list[Any]) -> Any:
        """Plays happen now (recorded); refused with NotAllowedError while ``video_autoplay_refused`` is set."""
        self.started_video.append(list(elements))
        future = asyncio.get_running_loop().create_future()
        future.set_result(["NotAllowedError"] * len(elements) if self.video_autoplay_refused else [])
        return future


def join_response(*, others: list[Any] = (), subscriber_primary: bool = False, **extra: Any) -> Any:
    rtc, m = proto.rtc(), proto.models()
    extra.setdefault("server_info", m.ServerInfo(version="1.13.5", protocol=16))
    return rtc.JoinResponse(
        **extra,
        room=m.Room(name="r", sid="RM_1"),
        participant=m.ParticipantInfo(sid="PA_me", identity="me", permission=m.ParticipantPermission(
            can_publish=True, can_subscribe=True, can_publish_data=True)),
        other_participants=list(others),
        ice_servers=[rtc.ICEServer(urls=["stun:127.0.0.1:3478"])],
        ping_interval=5,
        ping_timeout=15,
        subscriber_primary=subscriber_primary,
    )


def participant(sid: str, identity: str, tracks: list[tuple[str, int]] = (), version: int = 1) -> Any:
    m = proto.models()
    return m.ParticipantInfo(sid=sid, identity=identity, version=version, state=m.ParticipantInfo.ACTIVE,
                             tracks=[m.TrackInfo(sid=t, type=k, source=m.TrackSource.CAMERA if k else
                                                 m.TrackSource.MICROPHONE) for t, k in tracks])


class FakeTrackPort:
    """A MediaTrackPort: a MediaStreamTrack of the page as the public layer sees it through the port."""

    def __init__(self, track_id: str, kind: str, settings: dict[str, Any] | None = None) -> None:
        self.id = track_id
        self.kind = kind
        self.settings = settings or {}
        self.enabled = True
        self.stopped = False
        self.released = False
        self.ready_state = "live"
        self.attached: list[Any] = []
        self.mounted: list[tuple[Any, str]] = []
        self.on_play: Any = None
        self.watches: list[_Watch] = []
        self.cloned: list[FakeTrackPort] = []
        self.on_ended: Any = None
        self.on_removed: Any = None
        self.sinks: dict[Any, str] = {}  # element -> the audio output set_sink_id chose
        self.sink_error: Exception | None = None
        self.silent = False  # what detect_silence answers
        self.silence_checks: list[float] = []

    def end(self) -> None:
        """What the page pushes when the track ends by itself (the user stopped sharing the screen)."""
        self.ready_state = "ended"
        if self.on_ended is not None:
            self.on_ended()

    def removed(self) -> None:
        """What the page pushes when a received track leaves its stream (removetrack)."""
        if self.on_removed is not None:
            self.on_removed()

    async def detect_silence(self, window_ms: float) -> bool:
        self.silence_checks.append(window_ms)
        return self.silent

    def played(self, ok: bool, error: str = "") -> None:
        """What the page pushes once play() of an element holding this (audio) track settled."""
        if self.on_play is not None:
            self.on_play(ok, error)

    @property
    def native(self) -> Any:
        return None

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled

    def stop(self) -> None:
        self.stopped = True
        self.ready_state = "ended"

    def attach(self, element: Any = None) -> Any:
        element = element if element is not None else f"<{self.kind} of {self.id}>"
        self.attached.append(element)
        return element

    def detach(self, element: Any) -> None:
        self.attached.remove(element)

    def mount(self, element: Any, selector: str) -> None:
        if not selector.startswith("#"):
            raise ValueError(f"no element in the page matches {selector!r}")
        self.mounted.append((element, selector))

    def observe(self, element: Any, fn: Any) -> _Watch:
        """Adaptive stream: the test plays the page with :meth:`view` (nothing is reported until it does)."""
        watch = _Watch(element, fn)
        self.watches.append(watch)
        return watch

    def view(self, element: Any, width: float, height: float, visible: bool = True, page_hidden: bool = False,
             pixel_ratio: float = 1.0) -> None:
        """The page reports what it sees of ``element`` to every open watch of it."""
        from livekit_pyweb._core.ports import ElementView

        for watch in self.watches:
            if watch.element == element and not watch.closed:
                watch.fn(ElementView(width, height, visible, page_hidden, pixel_ratio))

    @property
    def open_watches(self) -> int:
        return sum(not w.closed for w in self.watches)

    async def set_sink_id(self, element: Any, device_id: str) -> None:
        if self.sink_error is not None:
            raise self.sink_error
        self.sinks[element] = device_id

    def release(self) -> None:
        self.released = True
        for watch in self.watches:
            watch.close()

    async def clone(self) -> FakeTrackPort:
        self.clones = getattr(self, "clones", 0) + 1
        clone = FakeTrackPort(f"{self.id}-clone{self.clones}", self.kind, dict(self.settings))
        self.cloned.append(clone)
        return clone


class _Watch:
    def __init__(self, element: Any, fn: Any) -> None:
        self.element = element
        self.fn = fn
        self.closed = False

    def close(self) -> None:
        self.closed = True


# The names older tests use: a captured track, a received one.
FakeMediaStreamTrack = FakeTrackPort
FakeTrack = FakeTrackPort


class FakeReceiver:
    def __init__(self, stats: list[dict[str, Any]] | None = None) -> None:
        self.stats = stats or []

    async def get_stats(self) -> list[dict[str, Any]]:
        return self.stats


class TrackEvent:
    def __init__(self, track: FakeTrackPort, stream_ids: list[str], mid: str = "") -> None:
        self.track = track
        self.stream_ids = stream_ids
        self.mid = mid
        self.receiver = FakeReceiver()


async def until(predicate: Any, timeout: float = 2.0) -> None:
    """Wait (fake clock) until ``predicate()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


async def connected_room(platform: FakePlatform | None = None, options: Any = None, **join_kw: Any) -> Any:
    """A Room joined on ``platform`` (single peer connection): returns ``(room, socket, pc)``."""
    from livekit_pyweb import Room

    platform = platform or FakePlatform()
    room = Room(options, platform=platform)
    task = asyncio.ensure_future(room.connect("ws://sfu.test", "TOKEN"))
    await asyncio.wait_for(platform.socket_ready.wait(), 1)
    socket = platform.sockets[-1]
    socket.push(join=join_response(**join_kw))
    socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="answer-1", id=1))
    await until(lambda: bool(platform.pcs) and platform.pcs[-1].has_remote_description)
    pc = platform.pcs[-1]
    pc.connect()
    await asyncio.wait_for(task, 1)
    return room, socket, pc


@contextlib.contextmanager
def browser_stand_ins() -> Iterator[None]:
    """``livekit_pyweb._browser`` importable on CPython inside the block: stand-ins for ``js`` (empty) and
    ``pyodide.ffi`` (``create_proxy``/``to_js`` hand the value through); afterwards every module the block imported is
    forgotten and the previous ones are back (so no later test sees a ``js`` module)."""
    prefixes = ("js", "pyodide", "livekit_pyweb._browser")
    owned = lambda name: any(name == p or name.startswith(p + ".") for p in prefixes)  # noqa: E731
    saved = {name: module for name, module in sys.modules.items() if owned(name)}
    package = importlib.import_module("livekit_pyweb")
    had_browser = "_browser" in vars(package)
    pyodide = types.ModuleType("pyodide")
    ffi = types.ModuleType("pyodide.ffi")
    for attr in ("JsException", "JsProxy"):
        setattr(ffi, attr, type(attr, (Exception,), {}))
    ffi.create_proxy = lambda fn: fn  # type: ignore[attr-defined]
    ffi.to_js = lambda value, **_: value  # type: ignore[attr-defined]
    pyodide.ffi = ffi  # type: ignore[attr-defined]
    for name in saved:
        del sys.modules[name]
    sys.modules.update({"js": types.ModuleType("js"), "pyodide": pyodide, "pyodide.ffi": ffi})
    try:
        yield
    finally:
        for name in [name for name in sys.modules if owned(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        if not had_browser:
            vars(package).pop("_browser", None)


def confirm_track(socket: Any, cid: str, sid: str, kind: int, source: int) -> None:
    """Play the server: the TrackPublishedResponse to the AddTrackRequest ``cid``."""
    m = proto.models()
    socket.push(track_published=proto.rtc().TrackPublishedResponse(
        cid=cid, track=m.TrackInfo(sid=sid, type=kind, source=source)))


async def answer_offers(socket: Any, done: asyncio.Event) -> None:
    """Play the server until ``done``: answer every publisher offer."""
    answered = 0
    while not done.is_set():
        offers = socket.requests("offer")
        for request in offers[answered:]:
            socket.push(answer=proto.rtc().SessionDescription(type="answer", sdp="a", id=request.offer.id))
        answered = len(offers)
        await asyncio.sleep(0.01)


async def room_with_remote_audio(platform: FakePlatform | None = None) -> Any:
    """A joined room whose remote participant alice's audio (TR_a) arrived: ``(room, socket, pc, port, track)``."""
    alice = participant("PA_a", "alice", [("TR_a", 0)])
    room, socket, pc = await connected_room(platform, others=[alice])
    port = FakeTrack("TR_a", "audio")
    pc.on_track(TrackEvent(port, ["PA_a|TR_a"], mid="1"))
    pub = room.remote_participants["alice"].track_publications["TR_a"]
    await until(lambda: pub.track is not None)
    return room, socket, pc, port, pub.track
