"""Lazy, minimal access to the LiveKit protobufs from PyPI ``livekit-protocol``.

``import livekit.protocol`` runs a package ``__init__`` that imports all 24 generated modules (agents, egress,
SIP, ...): about 1.4 s in Pyodide, and pure-Python protobuf builds every descriptor at import time. The client
needs two of them, ``rtc`` and ``models`` (and what they import). When nobody has imported the package yet we
register a bare package module with the real search path, so the submodules import normally but ``__init__`` is
skipped. Anyone importing ``livekit.protocol.<x>`` later still gets the real submodule.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_loaded: dict[str, Any] = {}


def _ensure_bare_package() -> None:
    name = "livekit.protocol"
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)  # imports only the ``livekit`` namespace package
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("livekit-protocol is not installed (pip install livekit-protocol)")
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__package__ = name
    module.__spec__ = spec
    module.__file__ = spec.origin
    sys.modules[name] = module
    parent = sys.modules.get("livekit")
    if parent is not None:
        setattr(parent, "protocol", module)


def _module(name: str) -> Any:
    module = _loaded.get(name)
    if module is None:
        _ensure_bare_package()
        module = _loaded[name] = importlib.import_module(f"livekit.protocol.{name}")
    return module


def rtc() -> Any:
    """The ``livekit.protocol.rtc`` module (signalling messages)."""
    return _module("rtc")


def models() -> Any:
    """The ``livekit.protocol.models`` module (ParticipantInfo, TrackInfo, DataPacket, ...)."""
    return _module("models")
