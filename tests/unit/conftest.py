"""Unit layer: CPython, the sans-IO core and the public layer on in-memory fakes.

* Every async test runs on a fake event-loop clock (looptime): ``asyncio.sleep(15)`` and a 15 s join deadline
  take no real time, and elapsed times are exact, so a test can check *which* timeout fired by its duration.
* No test may log a warning or an error from ``livekit_pyweb`` unless it says so: a normal call is quiet, and an
  exception swallowed by a handler or an engine task shows up here as a failure. A test that expects such a record
  takes the ``expect_log`` fixture and asserts on it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fn = getattr(item, "function", None)
        if fn is not None and inspect.iscoroutinefunction(fn) and item.get_closest_marker("looptime") is None:
            item.add_marker(pytest.mark.looptime)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _quiet_sdk_log(request: pytest.FixtureRequest) -> Iterator[_Collector]:
    collector = _Collector()
    logger = logging.getLogger("livekit_pyweb")
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
    if "expect_log" in request.fixturenames:
        return
    unexpected = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in collector.records]
    assert not unexpected, f"livekit_pyweb logged during a normal call: {unexpected}"


@pytest.fixture
def expect_log(_quiet_sdk_log: _Collector) -> list[logging.LogRecord]:
    """The WARNING+ records livekit_pyweb logs during this test (the test asserts on them)."""
    return _quiet_sdk_log.records
