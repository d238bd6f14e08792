"""Media devices: what the browser offers (``Room.get_local_devices``) and the names livekit-client uses.

A device kind is the browser's ``MediaDeviceKind`` string: ``"audioinput"`` (microphones), ``"videoinput"``
(cameras) and ``"audiooutput"`` (speakers, chosen with ``Room.switch_active_device("audiooutput", id)``, which
calls ``setSinkId`` on every element a remote audio track plays in).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from .enums import TrackSource

MediaDeviceKind = Literal["audioinput", "videoinput", "audiooutput"]
DEVICE_KINDS: tuple[str, ...] = ("audioinput", "videoinput", "audiooutput")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MediaDeviceInfo:
    """One device as ``navigator.mediaDevices.enumerateDevices()`` describes it. ``label`` is empty until the page
    has been allowed to capture (``Room.get_local_devices`` asks for that first, as livekit-client does)."""

    device_id: str
    kind: str
    label: str = ""
    group_id: str = ""


def check_kind(kind: str) -> str:
    if kind not in DEVICE_KINDS:
        raise ValueError(f"kind must be one of {DEVICE_KINDS}, not {kind!r}")
    return kind


def source_kind(source: TrackSource) -> str | None:
    """The device kind a capture source uses (livekit-client's ``sourceToKind``); None for screen shares."""
    if source == TrackSource.SOURCE_CAMERA:
        return "videoinput"
    if source == TrackSource.SOURCE_MICROPHONE:
        return "audioinput"
    return None


def unwrap_device_id(constraint: Any) -> str | None:
    """The device id a ``deviceId`` constraint names (``"id"``, ``{"exact": "id"}`` or ``{"ideal": "id"}``)."""
    if isinstance(constraint, str):
        return constraint
    if isinstance(constraint, dict):
        for key in ("exact", "ideal"):
            value = constraint.get(key)
            if isinstance(value, str):
                return value
    return None


async def local_devices(platform: Any, kind: str | None, request_permissions: bool) -> list[MediaDeviceInfo]:
    """``enumerateDevices()`` through the port; with ``request_permissions``, when the kind asked for is missing
    or unlabelled (no capture allowed yet), capture once (stopped at once) and enumerate again, as livekit-client's
    ``DeviceManager.getDevices``."""
    if kind is not None:
        check_kind(kind)
    devices = await platform.enumerate_devices()
    if request_permissions:
        relevant = [d for d in devices if kind is None or d["kind"] == kind]
        if not relevant or any(d["label"] == "" for d in relevant):
            constraints: dict[str, Any] = {}
            if kind not in ("audioinput", "audiooutput"):
                constraints["video"] = True
            if kind != "videoinput":
                constraints["audio"] = {"deviceId": {"ideal": "default"}}
            ports = await platform.get_user_media(constraints)
            try:
                devices = await platform.enumerate_devices()
            finally:
                for port in ports:
                    port.stop()
                    port.release()
    return [MediaDeviceInfo(device_id=d["device_id"], kind=d["kind"], label=d["label"], group_id=d["group_id"])
            for d in devices if kind is None or d["kind"] == kind]
