"""The livekit_pyweb logger tree: levels and the log extension (livekit-client's setLogLevel / setLogExtension)."""

from __future__ import annotations

import logging

import pytest

from livekit_pyweb import LogLevel, set_log_extension, set_log_level

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.fixture(autouse=True)
def _restore():
    root = logging.getLogger("livekit_pyweb")
    levels = {name: logging.getLogger(name).level for name in ("livekit_pyweb", "livekit_pyweb.engine")}
    yield
    set_log_extension(None)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    assert root.handlers == [h for h in root.handlers if type(h).__name__ != "_ExtensionHandler"]


def test_extension_gets_level_message_and_context_of_the_whole_tree(expect_log):
    seen = []
    set_log_level(LogLevel.debug)
    set_log_extension(lambda level, message, context: seen.append((level, message, context)))
    logging.getLogger("livekit_pyweb.engine").debug("offer %d sent", 3, extra={"room": "r1"})
    logging.getLogger("livekit_pyweb.room").warning("something odd")
    logging.getLogger("other.library").warning("not ours")
    assert seen == [
        (LogLevel.debug, "offer 3 sent", {"logger": "livekit_pyweb.engine", "room": "r1"}),
        (LogLevel.warn, "something odd", {"logger": "livekit_pyweb.room"}),
    ]
    assert [r.getMessage() for r in expect_log] == ["something odd"]


def test_levels_filter_what_the_extension_sees():
    seen = []
    set_log_extension(lambda level, message, context: seen.append(message))
    set_log_level("info")
    logging.getLogger("livekit_pyweb.engine").debug("hidden")
    logging.getLogger("livekit_pyweb.engine").info("shown")
    set_log_level(LogLevel.debug, "engine")  # one logger of the tree, by its short name
    logging.getLogger("livekit_pyweb.engine").debug("now shown")
    logging.getLogger("livekit_pyweb.room").debug("still hidden")
    set_log_level(LogLevel.silent)
    logging.getLogger("livekit_pyweb.room").error("silenced")
    assert seen == ["shown", "now shown"]


def test_no_token_reaches_the_extension(expect_log):
    seen = []
    set_log_extension(lambda level, message, context: seen.append((message, context)))
    try:
        raise ValueError(f"bad {TOKEN}")
    except ValueError:
        logging.getLogger("livekit_pyweb.engine").exception("join failed for ws://h/rtc?access_token=%s", TOKEN)
    (message, context), = seen
    assert TOKEN not in message and TOKEN not in context["error"] and "<token>" in message
    for segment in TOKEN.split("."):
        assert segment not in message
    assert len(expect_log) == 1


def test_a_failing_extension_breaks_nothing(expect_log):
    def boom(level, message, context):
        raise RuntimeError("the logging service is down")

    set_log_extension(boom)
    logging.getLogger("livekit_pyweb.room").warning("still fine")
    assert len(expect_log) == 1


def test_bad_arguments_are_typed_errors():
    with pytest.raises(ValueError, match="unknown log level"):
        set_log_level("loud")
    with pytest.raises(ValueError, match="not a livekit_pyweb logger"):
        set_log_level(LogLevel.info, "livekit_pywebx")
    with pytest.raises(TypeError):
        set_log_extension("print")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        set_log_level(2.5)  # type: ignore[arg-type]
