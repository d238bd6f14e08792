"""Translating JavaScript exceptions into livekit_pyweb errors at the adapter boundary."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from pyodide.ffi import JsException

from ..errors import DEVICE_ERROR_NAMES, DeviceError, DeviceErrorReason, NegotiationError


# Pyodide turns a thrown value that is not an ``Error`` instance (a DOMException, as every media API throws) into
# a generic Error whose message quotes the original: 'String interpolation of the thrown value gives
# """NotAllowedError: Permission denied"""'.
_QUOTED_NAME = re.compile(r'"""([A-Za-z]+): ')


def js_error_name(exc: BaseException) -> str:
    """The DOMException/Error ``name`` of a JsException, e.g. ``"NotAllowedError"``.

    Pyodide's JsException is itself a proxy of the thrown JS object (``exc.name``). A DOMException reaches us
    wrapped in a plain ``Error`` (name ``"Error"``), so its own name is read back from the message."""
    name = ""
    try:
        value = getattr(exc, "name", None)
    except Exception:  # a proxy of something that is not an object
        value = None
    if isinstance(value, str):
        name = value
    if name in ("", "Error"):
        quoted = _QUOTED_NAME.search(str(exc))
        if quoted:
            return quoted.group(1)
    if name:
        return name
    text = str(exc)
    return text.split(":", 1)[0] if ":" in text else ""


@contextlib.contextmanager
def negotiation_errors(step: str) -> Iterator[None]:
    try:
        yield
    except JsException as exc:
        raise NegotiationError(f"{step} failed: {exc}") from exc


_DEVICE_REASONS = DEVICE_ERROR_NAMES  # one table for both platforms (errors.py)


@contextlib.contextmanager
def device_errors(what: str) -> Iterator[None]:
    try:
        yield
    except JsException as exc:
        name = js_error_name(exc)
        raise DeviceError(f"{what} failed: {exc}", _DEVICE_REASONS.get(name, DeviceErrorReason.Other), name) from exc
