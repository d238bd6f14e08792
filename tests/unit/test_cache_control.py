"""The caching rule both servers use (build/demo.py, tests/e2e/conftest.py): content-named files are immutable.

The content-named wasm copy must come from the HTTP cache without a revalidation, or Chromium never hands V8 its
cached compiled code (a 304 gives the response a new time): measured with bench/trace_boot.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _demo_cache_control():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lkpw_demo_server", ROOT / "build" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cache_control


IMMUTABLE = "public, max-age=31536000, immutable"


def test_content_named_files_are_immutable_and_the_rest_revalidated() -> None:
    cache_control = _demo_cache_control()
    for path in ("/lkpw-snapshot-20937ed3ff76b225.bin", "/lkpw-wasm-cc36e3cab04fdfc9/pyodide.asm.wasm",
                 "/lite/static/pyodide/lkpw-wasm-cc36e3cab04fdfc9/pyodide.asm.wasm"):
        assert cache_control(path) == IMMUTABLE, path
    for path in ("/pyodide.asm.wasm", "/lkpw-snapshot.json", "/loader.mjs", "/index.html",
                 "/lkpw-wasm-xyz/pyodide.asm.wasm"):
        assert cache_control(path) == "no-cache", path
