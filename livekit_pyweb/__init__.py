"""livekit_pyweb: the LiveKit client SDK for Python pages running on Pyodide."""

from __future__ import annotations

from .version import __version__

__all__ = ["__version__"]
