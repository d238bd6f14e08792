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
