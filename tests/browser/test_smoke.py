"""Smoke tests: our wheel and the LiveKit protocol load from the offline dist/ inside Chromium."""

from __future__ import annotations

import json

import pytest
from pytest_pyodide import run_in_pyodide


def _dist_version(selenium) -> str:
    lock = json.loads((pytest.pyodide_dist_dir / "pyodide-lock.json").read_text())
    return lock["packages"]["livekit-pyweb"]["version"]


def test_load_package_pulls_dependencies(selenium_standalone):
    """The pruned lock's `depends` alone (no import scanning) bring in the protocol and protobuf."""
    selenium = selenium_standalone
    selenium.load_package(["livekit-pyweb"])
    loaded = selenium.run_js("return Object.keys(pyodide.loadedPackages).sort()")
    for name in ("livekit-pyweb", "livekit-protocol", "protobuf", "types-protobuf"):
        assert name in loaded, f"{name} not loaded; loaded: {loaded}"
    # Served from dist/ (the default lockFileURL/indexURL), never from a CDN.
    sources = selenium.run_js("return Object.values(pyodide.loadedPackages)")
    assert all(s == "default channel" for s in sources), sources


@run_in_pyodide(packages=["livekit-pyweb"])
def _check_import(selenium, expected_version):
    import sys

    import livekit_pyweb

    assert sys.platform == "emscripten"
    assert isinstance(livekit_pyweb.__version__, str)
    assert livekit_pyweb.__version__ == expected_version
    # loadPackage("livekit-pyweb") must have pulled its dependencies from the lock.
    import google.protobuf
    import livekit.protocol

    assert google.protobuf.__version__
    assert livekit.protocol


def test_import_livekit_pyweb(selenium):
    _check_import(selenium, _dist_version(selenium))


@run_in_pyodide(packages=["livekit-pyweb"])
def test_protocol_roundtrip(selenium):
    from google.protobuf.internal import api_implementation
    from livekit.protocol import models, rtc

    # No protobuf C extension in Pyodide: the pure-Python runtime is in use.
    assert api_implementation.Type() == "python"

    req = rtc.SignalRequest(ping=1234567890123)
    data = req.SerializeToString()
    back = rtc.SignalRequest.FromString(data)
    assert back.WhichOneof("message") == "ping"
    assert back.ping == 1234567890123

    resp = rtc.SignalResponse(join=rtc.JoinResponse(room=models.Room(name="r1"), participant=models.ParticipantInfo(identity="me")))
    back = rtc.SignalResponse.FromString(resp.SerializeToString())
    assert back.join.room.name == "r1"
    assert back.join.participant.identity == "me"


@run_in_pyodide
def _failing_assert(selenium, value):
    expected = 2
    assert value == expected


def test_failing_assert_shows_values(selenium):
    """pytest + tblib are in the lock, so run_in_pyodide rewrites asserts and ships real tracebacks back."""
    with pytest.raises(AssertionError) as excinfo:
        _failing_assert(selenium, 1)
    assert "assert 1 == 2" in str(excinfo.value)
