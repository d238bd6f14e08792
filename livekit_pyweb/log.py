"""Logging: the ``livekit_pyweb`` logger tree, its level, and a hook for shipping logs elsewhere.

Every module logs under ``livekit_pyweb`` (``livekit_pyweb.engine``, ``livekit_pyweb.room``, ``livekit_pyweb.bridge``
...), so the standard :mod:`logging` configuration applies. On top of it, livekit-client's two calls:

* :func:`set_log_level` (``setLogLevel``): the level of the whole tree, or of one logger in it;
* :func:`set_log_extension` (``setLogExtension``): ``fn(level, message, context)`` for every record at or above the
  tree's level, e.g. to send them to a logging service. Messages are passed through token redaction first (the SDK
  never logs a token, and this makes sure a record built elsewhere cannot leak one either).

Example::

    from livekit_pyweb import LogLevel, set_log_extension, set_log_level

    set_log_level(LogLevel.debug)
    set_log_extension(lambda level, message, context: print(level.name, message, context))
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any

from ._core.validate import redact_tokens

ROOT_LOGGER = "livekit_pyweb"


class LogLevel(enum.IntEnum):
    """livekit-client's levels (loglevel's numbers)."""

    trace = 0
    debug = 1
    info = 2
    warn = 3
    error = 4
    silent = 5


_TO_LOGGING = {
    LogLevel.trace: 5,
    LogLevel.debug: logging.DEBUG,
    LogLevel.info: logging.INFO,
    LogLevel.warn: logging.WARNING,
    LogLevel.error: logging.ERROR,
    LogLevel.silent: logging.CRITICAL + 10,
}


def _from_logging(levelno: int) -> LogLevel:
    if levelno >= logging.ERROR:
        return LogLevel.error
    if levelno >= logging.WARNING:
        return LogLevel.warn
    if levelno >= logging.INFO:
        return LogLevel.info
    if levelno >= logging.DEBUG:
        return LogLevel.debug
    return LogLevel.trace


def _level(level: LogLevel | int | str) -> int:
    if isinstance(level, str):
        try:
            level = LogLevel[level.lower()]
        except KeyError:
            raise ValueError(f"unknown log level {level!r}: one of {[m.name for m in LogLevel]}") from None
    if isinstance(level, LogLevel):
        return _TO_LOGGING[level]
    if isinstance(level, int):
        return level  # a logging module level (logging.DEBUG, ...)
    raise TypeError(f"a log level is a LogLevel, a logging level int or a name, not {type(level).__name__}")


def set_log_level(level: LogLevel | int | str, logger_name: str | None = None) -> None:
    """Set the level of the ``livekit_pyweb`` logger tree, or of ``logger_name`` (a name in it, e.g. ``"engine"``
    or ``"livekit_pyweb.engine"``).

    Raises:
        ValueError: an unknown level name, or a logger outside the tree.
    """
    name = ROOT_LOGGER
    if logger_name:
        name = logger_name if logger_name.startswith(ROOT_LOGGER) else f"{ROOT_LOGGER}.{logger_name}"
        if name != ROOT_LOGGER and not name.startswith(ROOT_LOGGER + "."):
            raise ValueError(f"{logger_name!r} is not a livekit_pyweb logger")
    logging.getLogger(name).setLevel(_level(level))


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and goes into the context.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class _ExtensionHandler(logging.Handler):
    def __init__(self, fn: Callable[[LogLevel, str, dict[str, Any]], None]) -> None:
        super().__init__(logging.NOTSET)
        self.fn = fn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = redact_tokens(record.getMessage())
            context: dict[str, Any] = {"logger": record.name}
            context.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
            if record.exc_info and record.exc_info[1] is not None:
                context["error"] = redact_tokens(repr(record.exc_info[1]))
            self.fn(_from_logging(record.levelno), message, context)
        except Exception:  # a failing extension must not break the SDK (nor log about itself, recursively)
            pass


_installed: _ExtensionHandler | None = None


def set_log_extension(fn: Callable[[LogLevel, str, dict[str, Any]], None] | None) -> None:
    """Call ``fn(level, message, context)`` for every record of the ``livekit_pyweb`` tree that passes its level;
    ``None`` removes it. ``context`` holds ``logger`` (the record's logger name) and any ``extra`` fields."""
    global _installed
    root = logging.getLogger(ROOT_LOGGER)
    if _installed is not None:
        root.removeHandler(_installed)
        _installed = None
    if fn is not None:
        if not callable(fn):
            raise TypeError("set_log_extension needs a callable (level, message, context) or None")
        _installed = _ExtensionHandler(fn)
        root.addHandler(_installed)
