"""RTCPeerConnection and RTCDataChannel adapters.

The interface is narrow on purpose and carries plain data (SDP strings, candidate dicts, stats dicts) plus opaque
track handles, so that it can later be served from the main thread to a Web Worker over a message bridge.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import to_js

from .._core.simulcast import codec_preference_order
from ..errors import NegotiationError, PublishDataError
from ._errors import negotiation_errors
from ._proxies import PageHelper, ProxyBag, _pc_closed, _pc_opened, nullish
from .media import BrowserTrack

logger = logging.getLogger("livekit_pyweb.pc")


def _js(obj: Any) -> Any:
    return to_js(obj, dict_converter=js.Object.fromEntries)


def js_to_py(value: Any) -> Any:
    """A JS object/array tree as Python dicts/lists."""
    if hasattr(value, "to_py"):
        return value.to_py()
    return value


class BrowserDataChannel:
    """An RTCDataChannel of this page (the port's ``DataChannelPort``); its state is read live."""

    def __init__(self, channel: Any) -> None:
        self._dc = channel
        self.label = str(channel.label)
        self._proxies = ProxyBag()
        self._closed = False
        self.on_message: Callable[[bytes], None] | None = None
        self.on_open: Callable[[], None] | None = None
        self.on_close: Callable[[], None] | None = None
        self.on_buffered_amount_low: Callable[[], None] | None = None
        channel.binaryType = "arraybuffer"
        self._proxies.listen(channel, "message", self._message)
        self._proxies.listen(channel, "open", lambda _e: self.on_open() if self.on_open else None)
        self._proxies.listen(channel, "close", self._close_event)
        self._proxies.listen(channel, "bufferedamountlow",
                             lambda _e: self.on_buffered_amount_low() if self.on_buffered_amount_low else None)

    def _message(self, event: Any) -> None:
        data = event.data
        payload = data.encode() if isinstance(data, str) else data.to_bytes()
        if self.on_message is not None:
            self.on_message(payload)

    def _close_event(self, _event: Any) -> None:
        if not self._closed and self.on_close is not None:
            self.on_close()

    @property
    def ready_state(self) -> str:
        return str(self._dc.readyState)

    @property
    def buffered_amount(self) -> int:
        return int(self._dc.bufferedAmount)

    @property
    def buffered_amount_low_threshold(self) -> int:
        return int(self._dc.bufferedAmountLowThreshold)

    @buffered_amount_low_threshold.setter
    def buffered_amount_low_threshold(self, value: int) -> None:
        self._dc.bufferedAmountLowThreshold = int(value)

    def send(self, data: bytes) -> None:
        try:
            self._dc.send(to_js(data))
        except Exception as exc:  # InvalidStateError (not open), OperationError (the send queue is full)
            raise PublishDataError(f"RTCDataChannel.send on {self.label!r} failed: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._proxies.close()
        try:
            self._dc.close()
        except Exception:
            pass


class BrowserReceiver:
    """An RTCRtpReceiver behind the port (its statistics)."""

    def __init__(self, receiver: Any) -> None:
        self._receiver = receiver

    async def get_stats(self) -> list[dict[str, Any]]:
        return stats_list(await self._receiver.getStats())


class BrowserSender:
    """The transceiver a published track is sent on."""

    def __init__(self, transceiver: Any) -> None:
        self.transceiver = transceiver

    async def set_encodings_active(self, active: list[bool]) -> None:
        sender = self.transceiver.sender
        params = sender.getParameters()
        encodings = params.encodings
        count = 0 if nullish(encodings) else int(encodings.length)
        if count != len(active):
            raise ValueError(f"the sender has {count} encodings, {len(active)} active flags given")
        for i, flag in enumerate(active):
            encodings[i].active = bool(flag)
        await sender.setParameters(params)  # the same object getParameters gave: its transactionId

    async def get_stats(self) -> list[dict[str, Any]]:
        return stats_list(await self.transceiver.sender.getStats())

    async def set_degradation_preference(self, preference: str) -> None:
        sender = self.transceiver.sender
        with negotiation_errors("setParameters(degradationPreference)"):
            params = sender.getParameters()
            params.degradationPreference = preference
            await sender.setParameters(params)

    async def get_parameters(self) -> dict[str, Any]:
        params = json.loads(str(js.JSON.stringify(self.transceiver.sender.getParameters())))
        return {"encodings": params.get("encodings") or [], "degradationPreference": params.get("degradationPreference"),
                "codecs": params.get("codecs") or []}
    async def set_encodings(self, encodings: list[dict[str, Any]]) -> bool:
        return bool(await _SET_ENCODINGS(self.transceiver.sender, _js(encodings)))

    async def replace_track(self, track: Any) -> None:
        native = track.native
        if nullish(native):
            raise ValueError(f"{track!r} is not a MediaStreamTrack of this page")
        await self.transceiver.sender.replaceTrack(native)


class TrackEvent:
    """What the ``track`` event told us: the track, its stream ids, its transceiver's mid and its receiver."""

    __slots__ = ("track", "stream_ids", "mid", "receiver")

    def __init__(self, track: BrowserTrack, stream_ids: list[str], mid: str, receiver: BrowserReceiver) -> None:
        self.track = track
        self.stream_ids = stream_ids
        self.mid = mid
        self.receiver = receiver


def _prefer_codec(transceiver: Any, kind: str, mime_type: str) -> None:
    """``setCodecPreferences`` with ``mime_type`` first (see the port); nothing where the browser cannot."""
    receiver: Any = getattr(js, "RTCRtpReceiver", None)
    if nullish(getattr(transceiver, "setCodecPreferences", None)) or nullish(getattr(receiver, "getCapabilities", None)):
        return
    caps = receiver.getCapabilities(kind)
    if nullish(caps):
        return
    codecs = list(caps.codecs)
    order = codec_preference_order(
        [(str(c.mimeType), "" if nullish(getattr(c, "sdpFmtpLine", None)) else str(c.sdpFmtpLine)) for c in codecs],
        mime_type)
    if order is None:
        logger.debug("no %s among this browser's %s codecs: codec preferences left alone", mime_type, kind)
        return
    transceiver.setCodecPreferences(to_js([codecs[i] for i in order]))


def stats_list(report: Any) -> list[dict[str, Any]]:
    """An RTCStatsReport as a list of plain dicts."""
    return [js_to_py(js.Object.fromEntries(js.Object.entries(v))) for v in report.values()]


class BrowserPeerConnection:
    """One RTCPeerConnection. Callbacks are plain Python callables set by the engine."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._pc: Any = js.RTCPeerConnection.new(_js(config))
        _pc_opened()
        self._closed = False
        self._proxies = ProxyBag()
        self.connection_state = str(self._pc.connectionState)
        self.on_ice_candidate: Callable[[dict[str, Any] | None], None] | None = None
        self.on_track: Callable[[TrackEvent], None] | None = None
        self.on_connection_state: Callable[[str], None] | None = None
        self.on_data_channel: Callable[[BrowserDataChannel], None] | None = None
        self._channels: list[BrowserDataChannel] = []
        self._proxies.listen(self._pc, "icecandidate", self._ice)
        self._proxies.listen(self._pc, "track", self._track)
        self._proxies.listen(self._pc, "connectionstatechange", self._state)
        self._proxies.listen(self._pc, "datachannel", self._datachannel)

    # -- events ------------------------------------------------------------------------------------------
    def _ice(self, event: Any) -> None:
        if self.on_ice_candidate is None:
            return
        cand = event.candidate
        if nullish(cand) or not str(cand.candidate):
            self.on_ice_candidate(None)
            return
        self.on_ice_candidate(js_to_py(cand.toJSON()))

    def _track(self, event: Any) -> None:
        if self.on_track is None:
            return
        streams = [str(s.id) for s in event.streams]
        mid = None if nullish(event.transceiver) else event.transceiver.mid
        track = BrowserTrack(event.track)  # its ended listener comes with the SDK's on_ended (see BrowserTrack)
        if event.streams.length:
            track._stream = event.streams[0]  # its removetrack listener comes with the SDK's on_removed
        self.on_track(TrackEvent(track, streams, "" if nullish(mid) else str(mid), BrowserReceiver(event.receiver)))

    def _state(self, _event: Any) -> None:
        self.connection_state = str(self._pc.connectionState)
        if self.on_connection_state is not None:
            self.on_connection_state(self.connection_state)

    def _datachannel(self, event: Any) -> None:
        channel = BrowserDataChannel(event.channel)
        self._channels.append(channel)
        if self.on_data_channel is not None:
            self.on_data_channel(channel)

    # -- commands ----------------------------------------------------------------------------------------
    async def set_configuration(self, config: dict[str, Any]) -> None:
        with negotiation_errors("setConfiguration"):
            self._pc.setConfiguration(_js(config))

    async def create_offer(self, ice_restart: bool = False) -> str:
        with negotiation_errors("createOffer"):
            offer = await self._pc.createOffer(_js({"iceRestart": ice_restart}))
        return str(offer.sdp)

    async def create_answer(self) -> str:
        with negotiation_errors("createAnswer"):
            answer = await self._pc.createAnswer()
        return str(answer.sdp)

    async def set_local_description(self, type_: str, sdp: str) -> None:
        with negotiation_errors(f"setLocalDescription({type_})"):
            await self._pc.setLocalDescription(_js({"type": type_, "sdp": sdp}))

    async def set_remote_description(self, type_: str, sdp: str) -> None:
        with negotiation_errors(f"setRemoteDescription({type_})"):
            await self._pc.setRemoteDescription(_js({"type": type_, "sdp": sdp}))

    async def add_ice_candidate(self, candidate: dict[str, Any] | None) -> None:
        try:
            if candidate is None:
                await self._pc.addIceCandidate()
            else:
                await self._pc.addIceCandidate(_js(candidate))
        except Exception as exc:  # a bad candidate is logged, not fatal (as in livekit-client)
            logger.warning("addIceCandidate failed: %s", exc)

    async def add_recv_transceiver(self, kind: str) -> None:
        with negotiation_errors("addTransceiver"):
            transceiver = self._pc.addTransceiver(kind, _js({"direction": "recvonly"}))
            if kind == "video":
                _RECEIVE_DEPENDENCY_DESCRIPTOR(transceiver)

    async def add_send_transceiver(
        self, track: BrowserTrack, send_encodings: list[dict[str, Any]] | None = None, codec: str | None = None
    ) -> BrowserSender:
        stream = js.MediaStream.new()
        stream.addTrack(track.native)
        init: dict[str, Any] = {"direction": "sendonly", "streams": [stream]}
        if send_encodings:
            init["sendEncodings"] = send_encodings
        with negotiation_errors("addTransceiver"):
            transceiver = self._pc.addTransceiver(track.native, _js(init))
        if codec:
            with negotiation_errors("setCodecPreferences"):
                _prefer_codec(transceiver, track.kind, codec)
        return BrowserSender(transceiver)

    async def remove_sender(self, sender: BrowserSender) -> None:
        try:
            sender.transceiver.direction = "inactive"
            self._pc.removeTrack(sender.transceiver.sender)
        except Exception as exc:
            raise NegotiationError(f"removeTrack failed: {exc}") from exc

    async def create_data_channel(self, label: str, *, ordered: bool, max_retransmits: int | None = None) -> BrowserDataChannel:
        init: dict[str, Any] = {"ordered": ordered}
        if max_retransmits is not None:
            init["maxRetransmits"] = max_retransmits
        channel = BrowserDataChannel(self._pc.createDataChannel(label, _js(init)))
        self._channels.append(channel)
        return channel

    async def get_stats(self) -> list[dict[str, Any]]:
        return stats_list(await self._pc.getStats())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        self._proxies.close()
        self._pc.close()
        _pc_closed()


# Page helpers (livekit_pyweb/_static/page_helpers.mjs, shared with the bridge's page host): the recomputed encodings
# applied in one getParameters/setParameters transaction, in JS (the parameters object must go back as it came); the
# AV1 dependency descriptor negotiated on a recvonly video transceiver (without it an AV1 SVC track is never decoded).
_SET_ENCODINGS = PageHelper("setEncodings")
_RECEIVE_DEPENDENCY_DESCRIPTOR = PageHelper("receiveDependencyDescriptor")
