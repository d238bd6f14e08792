"""Translating JavaScript exceptions into livekit_pyweb errors at the adapter boundary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pyodide.ffi import JsException

from ..errors import DeviceError, DeviceErrorReason, NegotiationError


def js_error_name(exc: BaseException) -> str:
    """The DOMException/Error ``name`` of a JsException, e.g. ``"NotAllowedError"``."""
    js_error = getattr(exc, "js_error", None)
    name = getattr(js_error, "name", None) if js_error is not None else None
    if isinstance(name, str):
        return name
    text = str(exc)
    return text.split(":", 1)[0] if ":" in text else ""


@contextlib.contextmanager
def negotiation_errors(step: str) -> Iterator[None]:
    try:
        yield
    except JsException as exc:
        raise NegotiationError(f"{step} failed: {exc}") from exc


_DEVICE_REASONS = {
    "NotAllowedError": DeviceErrorReason.PermissionDenied,
    "SecurityError": DeviceErrorReason.PermissionDenied,
    "NotFoundError": DeviceErrorReason.NotFound,
    "OverconstrainedError": DeviceErrorReason.NotFound,
    "NotReadableError": DeviceErrorReason.DeviceInUse,
    "AbortError": DeviceErrorReason.DeviceInUse,
}


@contextlib.contextmanager
def device_errors(what: str) -> Iterator[None]:
    try:
        yield
    except JsException as exc:
        name = js_error_name(exc)
        raise DeviceError(f"{what} failed: {exc}", _DEVICE_REASONS.get(name, DeviceErrorReason.Other), name) from exc
