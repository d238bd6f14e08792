"""The worker bridge, sans-IO: wire protocol v1 between Python in a Web Worker and the page host (``lkpw-host.mjs``).

Why: in a dedicated Web Worker (JupyterLite's kernel, PyScript ``worker`` mode, a plain worker) there is no
RTCPeerConnection, no getUserMedia and no DOM, only WebSocket and BroadcastChannel. So the engine and the sans-IO
core stay in the worker, while the browser objects (peer connections, captured tracks, ``<video>``/``<audio>``
elements) and the signalling WebSocket live on the page's main thread, in a small JS module. The WebSocket lives
there although a worker could open its own: closing the page kills the worker before it runs anything (its
``pagehide`` callback never runs), so only the page can send the LeaveRequest in time (``ws.setGoodbye``). That module serves the
:class:`~livekit_pyweb._core.ports.Platform` port; this module is the Python half of the conversation, with no
``js`` import and the clock passed in, so it is tested on CPython (``tests/unit/test_bridge.py``). The browser side
of Python (the BroadcastChannel, proxies, the port objects) is ``livekit_pyweb/_browser/bridge.py``.

Channel
    One same-origin ``BroadcastChannel`` named ``"lkpw-"`` + 16 random hex digits. Python opens it first (a message
    posted before the other side listens is lost), then announces the name: by default a ``{t: "discover",
    channel, page?}`` message on the well-known channel ``"livekit-pyweb-hosts"``, where a page that called
    ``serveDiscovery()`` starts a host on that name. ``page`` scopes the announcement to one page (every tab of the
    origin hears the discovery channel): ``serveDiscovery()`` makes a random page id, sets it as
    ``document.documentElement.dataset.lkpwHost`` and answers only discovers carrying it, or carrying none.
    The worker learns it from its name (``new Worker(url, {name: workerName()})``: ``"lkpw-host:" + id``) or, in
    a PyScript worker, from the page's document (PyScript's synchronous proxy). A discover without ``page`` (a
    worker that could not learn it, an older SDK) is still answered by every page, as before: refusing it would
    break such workers outright, and the bind step keeps one host. Messages are plain objects (structured clone); bytes are
    ``Uint8Array`` both ways.

Handshake
    Python posts ``{t: "hello", v: 1, interval, nonce}`` every 0.25 s (the first three retries sooner, see
    :data:`HELLO_EARLY`) until a ``{t: "welcome", v: 1, nonce, hostId, userAgent}`` with its nonce comes back, then
    posts ``{t: "bind", hostId}``: several pages may answer one discovery, and every host whose id is not the bound one closes itself. No welcome within ``start_timeout``:
    the platform raises ``UnsupportedError`` naming what is missing.

Calls
    ``{t: "call", id, op, args}`` (ids are positive ints, one sequence per session) is answered by ``{t: "reply", id,
    ok: true, value}`` or ``{t: "reply", id, ok: false, error: {name, message}}``, ``name`` being the DOMException
    or Error name (``NotAllowedError`` ...). Error replies become typed errors (:func:`error_from_reply`):
    getUserMedia → ``DeviceError`` with the reason the direct path gives, SDP steps → ``NegotiationError``,
    the rest → ``BridgeError``. Commands the port declares synchronous (``set_enabled``, ``stop``, ``attach``,
    ``detach``, ``send``, ``close``) are *posted*: sent without awaiting; a failed reply is logged once on
    ``livekit_pyweb.bridge`` at WARNING. Every awaited call also has a deadline (:data:`DEFAULT_CALL_TIMEOUT`;
    getUserMedia has none: a permission prompt may wait on the user).

Events
    ``{t: "event", h, type, data}``, from the host: peer connection ``icecandidate`` / ``connectionstatechange`` /
    ``track`` / ``datachannel``, data channel ``open`` / ``message`` / ``close`` / ``bufferedamountlow``
    (``{buffered, sent}``: ``bufferedAmount`` and the bytes the host handed to the channel so far, which
    ``dc.state`` also answers), track ``ended``, WebSocket
    ``message`` (a Uint8Array; a text frame comes UTF-8 encoded) / ``close`` (``{code, reason}``; the socket's
    handle is released), received track ``removed`` (the stream it arrived in fired ``removetrack`` for it),
    media element ``play`` (``{ok, error, kind}``: how ``play()`` of an element went, ``kind``
    ``"audio"`` (the element holds audio; absent from older hosts) or ``"video"`` (an element with video and no
    audio), ``error`` the DOMException name or "", e.g. ``NotAllowedError`` for a refused autoplay; sent after
    every ``track.attach`` of audio, of video into an element without audio, ``media.startAudio``/``startVideo``
    and ``globalThis.livekitPyweb.startAudio()``/``startVideo()``), element watch
    ``view`` (``{w, h, v, hidden, dpr}``, see ``element.observe``), and ``h = 0``
    (the page) ``pagehide``, ``devicechange`` (``navigator.mediaDevices`` changed; no data) and
    ``visibilitychange`` (``{hidden}``: ``document.visibilityState == "hidden"``).

Handles
    Ints naming browser objects. Positive ones are allocated here: creation ops take the new handle as an argument
    (``pc.create``, ``pc.createDataChannel``, ``pc.addSendTransceiver``'s sender, element handles, ``ws.open``), so they can be
    posted and pipelined. Negative ones are allocated by the host (remote tracks, receivers, incoming data channels,
    captured tracks). ``0`` is the host itself.

Liveness
    Both sides post ``{t: "hb"}`` when they have sent nothing for ``interval`` seconds (default 1.0); any message
    counts as a sign of life. A side that hears nothing for two intervals considers the other gone: here every
    pending call fails at once with ``BridgeError`` (no future is left hanging) and the ``on_lost`` callbacks run
    (the engine then disconnects the room); the host releases every handle (a WebSocket with a goodbye frame
    sends it first: the worker is gone without having left) and closes the channel. A ``{t: "bye"}``
    (orderly close, either side) means gone at once. A timer that fires late (the worker's event loop was blocked,
    e.g. by a long computation in a notebook cell) does not judge by itself: it first lets the messages that queued
    meanwhile arrive.

Ops (args → value)
    ``host.ping()`` → null; ``host.counts()`` → ``{handles, pcs, elements}``; ``pc.create(h, config)``,
    ``pc.setConfiguration(h, config)``, ``pc.createOffer(h, {iceRestart})`` → sdp, ``pc.createAnswer(h)`` → sdp,
    ``pc.setLocalDescription(h, type, sdp)``, ``pc.setRemoteDescription(h, type, sdp)``, ``pc.addIceCandidate(h,
    init | null)``, ``pc.addRecvTransceiver(h, kind)``, ``pc.addSendTransceiver(h, senderH, trackH, encodings |
    null, codecMime | null)`` (the codec mime first in ``setCodecPreferences``, see the port), ``pc.removeSender(h, senderH)``, ``pc.createDataChannel(h, dcH, label, init)``, ``pc.getStats(h)`` →
    list of dicts, ``pc.close(h)`` (also releases the handles the connection created); ``dc.send(h, bytes)``,
    ``dc.close(h)``; ``media.getUserMedia(constraints)`` → ``[{h, id, kind, settings}]``;
    ``media.getDisplayMedia(options)`` → the same (a screen capture; the page's user activation must still hold
    when the host reads the call; a captured track's ``ended`` event says the user stopped sharing); ``track.setEnabled(h,
    bool)``, ``track.stop(h)``, ``track.attach(h, elH, kind)``, ``track.detach(h, elH)``; ``element.mount(elH,
    selector)``, ``element.release(elH)``; ``element.observe(elH, watchH)`` (adaptive stream: ResizeObserver,
    IntersectionObserver and ``visibilitychange`` on that element; ``view`` events ``{w, h, v, hidden, dpr}`` to
    ``watchH``, the first at once, until ``element.unobserve(watchH)`` or the element goes); ``media.startAudio(elHs | null)`` → the error names of the refused
    (``[]``: all play): unmutes and calls ``play()`` on those elements (null: every audio element of the host) in
    one synchronous step as the host reads the call, each result also a ``play`` event; sent at once
    (:meth:`BridgeSession.call_now`); ``media.startVideo(elHs | null)``: the same for video, not unmuting (null:
    every element of the host holding video); ``receiver.getStats(h)`` → list of dicts; ``sender.setActive(senderH,
    [bool])`` (dynacast: ``encodings[i].active`` through getParameters/setParameters; an error reply when the
    sender's encodings are not as many as the flags); ``sender.getStats(senderH)`` → list of dicts (the sender's
    ``RTCRtpSender.getStats()``); ``sender.setDegradationPreference(senderH, pref)``;
    ``sender.getParameters(senderH)`` → ``{encodings, degradationPreference, codecs}``; ``track.detectSilence(h, ms)`` → bool
    (livekit-client's detectSilence on that audio track, see the port); ``track.clone(h, newH)`` →
    ``{id, settings}`` (``MediaStreamTrack.clone()`` under the new handle); ``media.sendCodecs(kind)`` → mime types
    of ``RTCRtpSender.getCapabilities(kind)`` or null; ``net.prepare(url)`` (a no-cors ``HEAD`` fetch: warms DNS,
    TCP and TLS up for a connect); ``sender.replaceTrack(senderH, trackH)`` (replaceTrack: the sender sends that
    track from now on, no renegotiation); ``sender.setEncodings(senderH, [encoding])`` → bool (a restarted capture
    of another size: scale, bitrate, framerate, priority of the active encodings; false when the count differs);
    ``media.enumerateDevices()`` → ``[{deviceId, kind, label, groupId}]``; ``media.silentAudio(elH, state)``
    (livekit-client's iOS startAudio workaround, see the port's ``silent_audio``: ``"create"`` makes the silent
    ``<audio>`` as ``elH``, ``"unplug"``/``"plug"`` its ``srcObject``, ``"remove"``); ``element.setSinkId(elH, deviceId)``
    (audio output; errors typed as getUserMedia's); ``handle.release(h)``;
    ``ws.open(h, url)`` → null once open (binary frames), or an error reply ``{name: "WebSocketClosed", message,
    code, reason}`` if it closed first (→ :class:`~livekit_pyweb._core.ports.TransportClosed`); no deadline of its
    own, the caller's open timeout cancels it and posts ``ws.close``; ``ws.send(h, bytes)`` (dropped unless open),
    ``ws.close(h, code, reason)`` (forgets the goodbye), ``ws.setGoodbye(h, bytes | null)``: bytes the host sends
    on that socket, synchronously, in its own ``pagehide`` handler before closing it (the worker cannot: see above).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..errors import BridgeError, DeviceError, DeviceErrorReason, LiveKitError, NegotiationError, UnsupportedError
from .ports import TransportClosed

logger = logging.getLogger("livekit_pyweb.bridge")

PROTOCOL_VERSION = 1
DISCOVERY_CHANNEL = "livekit-pyweb-hosts"
CHANNEL_PREFIX = "lkpw-"
HELLO_EVERY = 0.25
"""Seconds between two hellos while no host has welcomed us."""
HELLO_EARLY = (0.02, 0.05, 0.1)
"""The first retries come sooner: a page host started by our announcement (serveDiscovery) opens the channel a
moment after our first hello, which it therefore never hears (measured: waiting the full 0.25 s for the second one
was most of the bridge's extra connect time)."""
DEFAULT_INTERVAL = 1.0
"""Seconds between heartbeats; two intervals of silence mean the other side is gone."""
DEFAULT_CALL_TIMEOUT = 30.0
"""Seconds an awaited call may wait for its reply while the host is alive."""
LATE_TICK_GRACE = 0.1
"""Seconds a late liveness timer waits for the messages queued while the loop was blocked."""

#: Commands sent without awaiting (the port's synchronous methods).
POSTED_OPS = frozenset(
    {"track.setEnabled", "track.stop", "track.attach", "track.detach", "dc.send", "dc.close", "pc.close",
     "element.mount", "element.release", "element.observe", "element.unobserve", "handle.release", "ws.send",
     "ws.close", "ws.setGoodbye", "dc.setThreshold", "media.silentAudio"}
)
#: Every op of protocol v1.
OPS = POSTED_OPS | frozenset(
    {"host.ping", "host.counts", "host.capabilities", "pc.create", "pc.setConfiguration", "pc.createOffer", "pc.createAnswer",
     "pc.setLocalDescription", "pc.setRemoteDescription", "pc.addIceCandidate", "pc.addRecvTransceiver",
     "pc.addSendTransceiver", "pc.removeSender", "pc.createDataChannel", "pc.getStats", "media.getUserMedia",
     "receiver.getStats", "sender.setActive", "sender.getStats", "ws.open", "media.startAudio", "media.startVideo",
     "sender.setDegradationPreference", "sender.getParameters", "track.clone", "media.sendCodecs", "net.prepare",
     "media.getDisplayMedia", "media.enumerateDevices", "element.setSinkId", "sender.replaceTrack",
     "sender.setEncodings", "dc.state", "track.detectSilence", "file.info", "file.read"}
)
FILE_OPS = frozenset({"file.info", "file.read"})
DEVICE_OPS = frozenset({"media.getUserMedia", "media.getDisplayMedia", "media.enumerateDevices", "element.setSinkId"})
WS_OPS = frozenset({"ws.open"})
NEGOTIATION_OPS = frozenset(
    {"pc.create", "pc.setConfiguration", "pc.createOffer", "pc.createAnswer", "pc.setLocalDescription",
     "pc.setRemoteDescription", "pc.addIceCandidate", "pc.addRecvTransceiver", "pc.addSendTransceiver",
     "pc.removeSender", "pc.createDataChannel", "sender.setDegradationPreference"}
)
#: Ops awaited with no deadline (they may wait on the user).
UNBOUNDED_OPS = frozenset({"media.getUserMedia", "media.getDisplayMedia"})
EVENT_TYPES = frozenset(
    {"icecandidate", "connectionstatechange", "track", "datachannel", "open", "message", "close", "ended",
     "pagehide", "play", "view", "devicechange", "bufferedamountlow", "visibilitychange", "removed"}
)
# Messages only the host reads: another Python tab on the same channel name (or our own echo) is not a host.
_FOR_HOST = frozenset({"hello", "bind", "call", "discover"})


def new_channel_name() -> str:
    """``"lkpw-"`` + 16 random hex digits: unguessable by other same-origin pages."""
    return CHANNEL_PREFIX + secrets.token_hex(8)


def new_nonce() -> str:
    return secrets.token_hex(8)


# --------------------------------------------------------------------------- building messages (py → host)


def hello(nonce: str, interval: float) -> dict[str, Any]:
    return {"t": "hello", "v": PROTOCOL_VERSION, "interval": interval, "nonce": nonce}


def bind(host_id: str) -> dict[str, Any]:
    return {"t": "bind", "hostId": host_id}


def call(id_: int, op: str, args: list[Any]) -> dict[str, Any]:
    if op not in OPS:
        raise ValueError(f"unknown bridge op {op!r}")
    if isinstance(id_, bool) or not isinstance(id_, int) or id_ < 1:
        raise ValueError(f"call ids are positive ints, not {id_!r}")
    return {"t": "call", "id": id_, "op": op, "args": list(args)}


def heartbeat() -> dict[str, Any]:
    return {"t": "hb"}


def bye() -> dict[str, Any]:
    return {"t": "bye"}


def discover(channel: str, page: str | None = None) -> dict[str, Any]:
    """The announcement; ``page`` (the page id ``serveDiscovery()`` made) scopes it to that page."""
    message: dict[str, Any] = {"t": "discover", "channel": channel}
    if page:
        message["page"] = page
    return message


WORKER_NAME_PREFIX = "lkpw-host:"
"""A worker named ``"lkpw-host:" + page id`` (host.mjs ``workerName()``) announces itself to that page only."""


def page_id_from_worker_name(name: Any) -> str | None:
    """The page id in a worker's name (``"lkpw-host:<id>"``), or None."""
    if isinstance(name, str) and name.startswith(WORKER_NAME_PREFIX) and len(name) > len(WORKER_NAME_PREFIX):
        return name[len(WORKER_NAME_PREFIX):]
    return None


# --------------------------------------------------------------------------- reading messages (host → py)


@dataclass(frozen=True)
class Welcome:
    nonce: str
    host_id: str
    user_agent: str


@dataclass(frozen=True)
class ReplyError:
    name: str
    message: str
    code: int | None = None
    """A WebSocket's close code (``ws.open`` failed), else None."""
    reason: str = ""


@dataclass(frozen=True)
class Reply:
    id: int
    ok: bool
    value: Any = None
    error: ReplyError | None = None


@dataclass(frozen=True)
class Event:
    h: int
    type: str
    data: Any = None


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class Bye:
    pass


@dataclass(frozen=True)
class Ignored:
    """A message we drop on purpose, and why."""

    reason: str


Incoming = Welcome | Reply | Event | Heartbeat | Bye | Ignored


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def parse(message: Any) -> Incoming:
    """Validate one message heard on the channel. Anything malformed comes back as :class:`Ignored`."""
    if not isinstance(message, Mapping):
        return Ignored(f"not an object: {type(message).__name__}")
    kind = message.get("t")
    if not isinstance(kind, str):
        return Ignored("no message type 't'")
    if kind in _FOR_HOST:
        return Ignored(f"a {kind!r} message is for the host")
    if kind == "hb":
        return Heartbeat()
    if kind == "bye":
        return Bye()
    if kind == "welcome":
        version = message.get("v")
        if version != PROTOCOL_VERSION:
            return Ignored(f"welcome for protocol version {version!r}, we speak {PROTOCOL_VERSION}")
        nonce, host_id, agent = message.get("nonce"), message.get("hostId"), message.get("userAgent", "")
        if not isinstance(nonce, str) or not isinstance(host_id, str) or not host_id:
            return Ignored("welcome without a nonce or hostId")
        return Welcome(nonce, host_id, agent if isinstance(agent, str) else "")
    if kind == "reply":
        id_, ok = message.get("id"), message.get("ok")
        if not _is_int(id_) or id_ < 1:
            return Ignored(f"reply with a bad id {id_!r}")
        if ok is True:
            return Reply(id_, True, message.get("value"))
        if ok is not False:
            return Ignored(f"reply {id_} with a bad 'ok' {ok!r}")
        error = message.get("error")
        if not isinstance(error, Mapping) or not isinstance(error.get("name"), str):
            return Ignored(f"error reply {id_} without error.name")
        text, code, reason = error.get("message"), error.get("code"), error.get("reason")
        return Reply(id_, False, None, ReplyError(error["name"], text if isinstance(text, str) else "",
                                                  code if _is_int(code) else None,
                                                  reason if isinstance(reason, str) else ""))
    if kind == "event":
        h, type_ = message.get("h"), message.get("type")
        if not _is_int(h):
            return Ignored(f"event with a bad handle {h!r}")
        if type_ not in EVENT_TYPES:
            return Ignored(f"unknown event type {type_!r}")
        return Event(h, type_, message.get("data"))
    return Ignored(f"unknown message type {kind!r}")


# --------------------------------------------------------------------------- errors


def error_from_reply(
    op: str, error: ReplyError, device_reasons: Mapping[str, DeviceErrorReason]
) -> LiveKitError | TransportClosed | OSError:
    """The typed error for a failed call: ``device_reasons`` maps DOMException names to DeviceErrorReason (the
    direct path's table, ``_browser/_errors.py``); a WebSocket that closed before it opened is
    :class:`TransportClosed`, as the worker's own socket would say; a page file that is not there
    ``FileNotFoundError``, as the direct path says."""
    if error.name == "WebSocketClosed" and op in WS_OPS:
        return TransportClosed(error.code if error.code is not None else 1006, error.reason)
    text = f"{op} failed on the page: {error.name}: {error.message}" if error.message else f"{op} failed: {error.name}"
    if error.name == "UnsupportedError":
        return UnsupportedError(text)
    if op in FILE_OPS and error.name == "NotFoundError":
        return FileNotFoundError(error.message or text)
    if op in DEVICE_OPS:
        return DeviceError(text, device_reasons.get(error.name, DeviceErrorReason.Other), error.name)
    if op in NEGOTIATION_OPS:
        return NegotiationError(text)
    return BridgeError(text)


# --------------------------------------------------------------------------- handles


class HandleAllocator:
    """Positive handles for objects Python creates (the host allocates negative ones, 0 is the host)."""

    def __init__(self) -> None:
        self._next = 1

    def new(self) -> int:
        h = self._next
        self._next += 1
        return h


def host_allocated(h: int) -> bool:
    return h < 0


# --------------------------------------------------------------------------- pending calls


@dataclass
class PendingCall:
    """One call waiting for its reply. ``waiter`` is whatever the I/O layer resolves (an asyncio future)."""

    id: int
    op: str
    deadline: float | None
    posted: bool
    waiter: Any = None
    timeout: float | None = None


class CallTable:
    """Ids for outgoing calls, and the calls still waiting for their reply."""

    def __init__(self) -> None:
        self._next_id = 1
        self._pending: dict[int, PendingCall] = {}

    def open(self, op: str, now: float, timeout: float | None, *, posted: bool = False) -> PendingCall:
        record = PendingCall(self._next_id, op, None if timeout is None else now + timeout, posted, timeout=timeout)
        self._next_id += 1
        self._pending[record.id] = record
        return record

    def settle(self, id_: int) -> PendingCall | None:
        """The call this reply answers (removed), or None for an id we are not waiting on."""
        return self._pending.pop(id_, None)

    def expired(self, now: float) -> list[PendingCall]:
        """Remove and return the calls whose deadline has passed."""
        late = [r for r in self._pending.values() if r.deadline is not None and r.deadline <= now]
        for r in late:
            del self._pending[r.id]
        return late

    def drain(self) -> list[PendingCall]:
        """Remove and return every pending call."""
        records = list(self._pending.values())
        self._pending.clear()
        return records

    def next_deadline(self) -> float | None:
        deadlines = [r.deadline for r in self._pending.values() if r.deadline is not None]
        return min(deadlines) if deadlines else None

    def __len__(self) -> int:
        return len(self._pending)


# --------------------------------------------------------------------------- liveness


class Liveness:
    """Heartbeat and silence deadlines: send ``hb`` after ``interval`` of sending nothing; the other side is gone
    after ``2 * interval`` of hearing nothing."""

    def __init__(self, interval: float, now: float) -> None:
        if not interval > 0 or math.isinf(interval):
            raise ValueError(f"interval must be a positive number of seconds, not {interval!r}")
        self.interval = interval
        self.last_heard = now
        self.last_sent = now

    def heard(self, now: float) -> None:
        self.last_heard = max(self.last_heard, now)

    def sent(self, now: float) -> None:
        self.last_sent = max(self.last_sent, now)

    @property
    def gone_at(self) -> float:
        return self.last_heard + 2 * self.interval

    def gone(self, now: float) -> bool:
        return now >= self.gone_at

    def heartbeat_due(self, now: float) -> bool:
        return now >= self.last_sent + self.interval

    def next_wakeup(self) -> float:
        return min(self.last_sent + self.interval, self.gone_at)


# --------------------------------------------------------------------------- the session (asyncio, no js)


class _Default:
    """The default call timeout (``call_timeout``, none for UNBOUNDED_OPS)."""


_DEFAULT = _Default()


class BridgeSession:
    """Python's half of one bridge conversation, on the running asyncio loop.

    ``post(message)`` hands a plain dict to the channel (the I/O layer converts it). Feed every message heard on the
    channel to :meth:`receive`. Events go to ``on_event``; once the host is gone, ``on_lost(why)`` runs once.
    """

    def __init__(
        self,
        post: Callable[[dict[str, Any]], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        on_event: Callable[[Event], None] | None = None,
        on_lost: Callable[[str], None] | None = None,
        device_reasons: Mapping[str, DeviceErrorReason] | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, not {interval!r}")
        self._post = post
        self.interval = interval
        self.call_timeout = call_timeout
        self.on_event = on_event
        self.on_lost = on_lost
        self.device_reasons: Mapping[str, DeviceErrorReason] = device_reasons or {}
        self.calls = CallTable()
        self.handles = HandleAllocator()
        self.welcome: Welcome | None = None
        self.lost: str | None = None
        self.closed = False
        self.ignored: list[Ignored] = []  # the last few dropped messages (diagnostics)
        self._loop = asyncio.get_running_loop()
        self._liveness: Liveness | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._grace = False
        self._nonce = ""
        self._welcomed: asyncio.Future[Welcome] | None = None

    def _now(self) -> float:
        return self._loop.time()

    def _send(self, message: dict[str, Any]) -> None:
        self._post(message)
        if self._liveness is not None:
            self._liveness.sent(self._now())

    # -- handshake ----------------------------------------------------------------------------------------
    async def handshake(self, timeout: float) -> Welcome:
        """Say hello (at 0, 0.02, 0.07, 0.17 s, then every 0.25 s) until a host welcomes us, then bind to it. Raises TimeoutError after
        ``timeout`` seconds without a welcome."""
        if self.welcome is not None:
            return self.welcome
        self._nonce = new_nonce()
        self._welcomed = self._loop.create_future()
        repeat: asyncio.TimerHandle | None = None

        sent = 0

        def say_hello() -> None:
            nonlocal repeat, sent
            self._post(hello(self._nonce, self.interval))
            delay = HELLO_EARLY[sent] if sent < len(HELLO_EARLY) else HELLO_EVERY
            sent += 1
            repeat = self._loop.call_later(delay, say_hello)

        say_hello()
        try:
            async with asyncio.timeout(timeout):
                welcome = await asyncio.shield(self._welcomed)
        finally:
            if repeat is not None:
                repeat.cancel()
        self._post(bind(welcome.host_id))
        self._liveness = Liveness(self.interval, self._now())
        self._schedule()
        return welcome

    # -- incoming -----------------------------------------------------------------------------------------
    def receive(self, message: Any) -> Incoming:
        """Handle one message heard on the channel; returns what it was (Ignored: dropped, with the reason)."""
        item = parse(message)
        if isinstance(item, Ignored):
            return self._ignore(item)
        if self.closed or self.lost is not None:
            return self._ignore(Ignored("the session is over"))
        if isinstance(item, Welcome):
            if self.welcome is not None:
                return self._ignore(Ignored(f"welcome from host {item.host_id} after binding {self.welcome.host_id}"))
            if item.nonce != self._nonce or self._welcomed is None:
                return self._ignore(Ignored("welcome for another hello"))
            self.welcome = item
            if not self._welcomed.done():
                self._welcomed.set_result(item)
            return item
        if self.welcome is None:
            return self._ignore(Ignored(f"{type(item).__name__.lower()} before any welcome"))
        assert self._liveness is not None
        self._liveness.heard(self._now())
        if isinstance(item, Bye):
            self._lose("the page host closed the bridge")
        elif isinstance(item, Reply):
            dropped = self._settle(item)
            if dropped is not None:
                self._schedule()
                return dropped
        elif isinstance(item, Event) and self.on_event is not None:
            self.on_event(item)
        self._schedule()
        return item

    def _ignore(self, item: Ignored) -> Ignored:
        logger.debug("bridge: ignored a message: %s", item.reason)
        self.ignored = [*self.ignored[-9:], item]
        return item

    def _settle(self, reply: Reply) -> Ignored | None:
        record = self.calls.settle(reply.id)
        if record is None:
            return self._ignore(Ignored(f"reply {reply.id} answers no pending call"))
        waiter = record.waiter
        if record.posted:
            if not reply.ok and reply.error is not None:
                logger.warning("bridge: %s failed on the page: %s: %s", record.op, reply.error.name,
                               reply.error.message)
            return None
        if waiter is None or waiter.done():
            return None
        if reply.ok:
            waiter.set_result(reply.value)
        else:
            assert reply.error is not None
            waiter.set_exception(error_from_reply(record.op, reply.error, self.device_reasons))
        return None

    # -- outgoing -----------------------------------------------------------------------------------------
    def _check_open(self, op: str) -> None:
        if self.lost is not None:
            raise BridgeError(f"{op}: {self.lost}")
        if self.closed:
            raise BridgeError(f"{op}: the bridge is closed")
        if self.welcome is None:
            raise BridgeError(f"{op}: the bridge has not found its page host yet (start() first)")

    async def call(self, op: str, *args: Any, timeout: float | None | _Default = _DEFAULT) -> Any:
        """Send ``op`` and wait for its reply value. Raises the typed error of an error reply, or ``BridgeError``
        (host gone, bridge closed, no reply within the timeout)."""
        self._check_open(op)
        if isinstance(timeout, _Default):
            timeout = None if op in UNBOUNDED_OPS else self.call_timeout
        record = self.calls.open(op, self._now(), timeout)
        waiter: asyncio.Future[Any] = self._loop.create_future()
        record.waiter = waiter
        self._send(call(record.id, op, list(args)))
        self._schedule()
        try:
            return await waiter
        except asyncio.CancelledError:
            self.calls.settle(record.id)  # the reply, if it comes, is dropped
            raise

    def call_now(self, op: str, *args: Any) -> asyncio.Future[Any]:
        """:meth:`call`, but sent before this returns (a coroutine sends only at its first step, later): for an op
        that must leave within the caller's synchronous step (``media.startAudio`` from a click handler). The
        future fails as :meth:`call` raises; cancelling it drops the reply."""
        self._check_open(op)
        record = self.calls.open(op, self._now(), self.call_timeout)
        waiter: asyncio.Future[Any] = self._loop.create_future()
        record.waiter = waiter
        self._send(call(record.id, op, list(args)))
        self._schedule()
        waiter.add_done_callback(lambda f: self.calls.settle(record.id) if f.cancelled() else None)
        return waiter

    def post(self, op: str, *args: Any) -> None:
        """Send ``op`` without waiting; a failed reply is logged. Dropped silently once the bridge is gone."""
        if self.closed or self.lost is not None or self.welcome is None:
            return
        record = self.calls.open(op, self._now(), self.call_timeout, posted=True)
        self._send(call(record.id, op, list(args)))
        self._schedule()

    # -- time -----------------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._liveness is None or self.closed or self.lost is not None:
            return
        at = self._liveness.next_wakeup()
        deadline = self.calls.next_deadline()
        if deadline is not None:
            at = min(at, deadline)
        if self._grace:
            at = min(at, self._timer_at)
        if self._timer is not None:
            if self._timer_at == at:
                return
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._call_at(at)

    def _call_at(self, at: float) -> asyncio.TimerHandle:
        """``_tick`` at ``at``, or at once when that has passed: Pyodide's WebLoop refuses a time in the past
        (``ValueError: Can't schedule in the past``) where CPython's loop runs it soon, and a deadline computed a
        moment ago can be a few microseconds past by now (a browser timer may also fire a hair early). A refused
        timer would leave the session with no timer at all, so a host gone quiet would never be judged gone."""
        return self._loop.call_later(max(0.0, at - self._loop.time()), self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._liveness is None or self.closed or self.lost is not None:
            return
        now = self._now()
        late = now - self._timer_at
        if self._liveness.gone(now):
            if late > self.interval / 4 and not self._grace:
                # The loop was blocked: messages that came meanwhile may still be queued. Judge a moment later.
                self._grace = True
                self._timer_at = now + LATE_TICK_GRACE
                self._timer = self._call_at(self._timer_at)
                return
            self._lose(f"the page host stopped answering (nothing heard for {now - self._liveness.last_heard:.1f} s)")
            return
        self._grace = False
        for record in self.calls.expired(now):
            error = BridgeError(f"{record.op}: the page host did not answer within {record.timeout:g} s")
            if record.posted:
                logger.warning("bridge: %s got no reply from the page", record.op)
            elif record.waiter is not None and not record.waiter.done():
                record.waiter.set_exception(error)
        if self._liveness.heartbeat_due(now):
            self._send(heartbeat())
        self._schedule()

    # -- the end ----------------------------------------------------------------------------------------------
    def _fail_pending(self, why: str) -> None:
        for record in self.calls.drain():
            waiter = record.waiter
            if waiter is not None and not waiter.done():
                waiter.set_exception(BridgeError(f"{record.op}: {why}"))

    def _lose(self, why: str) -> None:
        if self.lost is not None or self.closed:
            return
        self.lost = why
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._fail_pending(why)
        if self.on_lost is not None:
            self.on_lost(why)

    def close(self) -> None:
        """Orderly close: tell the host (``bye``), fail what is pending, stop the timers. Idempotent."""
        if self.closed:
            return
        if self.welcome is not None and self.lost is None:
            try:
                self._post(bye())
            except Exception:  # the channel may be closed already
                pass
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.cancel()
        self._fail_pending("the bridge was closed")
