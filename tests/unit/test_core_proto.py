"""``proto`` imports only ``rtc`` and ``models`` (skipping ``livekit.protocol``'s package ``__init__``, ~1.4 s in
Pyodide) and still leaves a working ``livekit.protocol`` package for anyone who imports it later."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from livekit_pyweb._core import proto

ROOT = Path(__file__).resolve().parents[2]

_FRESH_INTERPRETER = """
import importlib.util, sys
from livekit_pyweb._core import proto
rtc, models = proto.rtc(), proto.models()
skipped = ("livekit.protocol.agent", "livekit.protocol.egress", "livekit.protocol.sip", "livekit.protocol.webhook")
imported = [name for name in skipped if name in sys.modules]
assert not imported, f"the package __init__ ran: {imported}"
import livekit.protocol.egress
import livekit
assert livekit.protocol.rtc is rtc and livekit.protocol.models is models
assert livekit.protocol.egress is sys.modules["livekit.protocol.egress"]
assert importlib.util.find_spec("livekit.protocol") is not None
print("ok")
"""


def test_only_rtc_and_models_load_and_the_package_still_works_for_others():
    # A fresh interpreter: in this one, other tests (livekit.api) have imported the whole package already.
    result = subprocess.run([sys.executable, "-c", _FRESH_INTERPRETER], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_missing_livekit_protocol_says_what_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "livekit.protocol", raising=False)
    monkeypatch.setattr(proto, "_loaded", {})
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    with pytest.raises(ImportError, match=r"pip install livekit-protocol"):
        proto.rtc()


def test_importing_the_sdk_loads_no_protobuf_and_the_protocol_only_what_a_room_needs():
    # A fresh interpreter: the package, a Room (with its engine) and the fast decoder's module import no protobuf at
    # all; the protocol comes at first use (proto.rtc()), and then only rtc, models and what rtc itself imports.
    import subprocess

    code = (
        "import sys\n"
        "import livekit_pyweb, livekit_pyweb.room\n"
        "from livekit_pyweb import Room\n"
        "from livekit_pyweb._core import codec, wire\n"
        "Room()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google', 'livekit.'))))\n"
        "print('livekit_pyweb._engine' in sys.modules)\n"
        "from livekit_pyweb._core import proto\n"
        "proto.rtc(); proto.models()\n"
        "print(sorted(m for m in sys.modules if m.startswith('livekit.protocol')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == "True"  # the engine comes with the room (compiled before connect(), not during it)
    assert out[2] == str(["livekit.protocol", "livekit.protocol.logger_pb", "livekit.protocol.logger_pb.options",
                          "livekit.protocol.metrics", "livekit.protocol.models", "livekit.protocol.rtc"])
