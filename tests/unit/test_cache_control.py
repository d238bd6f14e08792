"""How dist/ is served (build/dist_http.py, for build/demo.py and the tests' servers): content-named files are
immutable, and the snapshot goes zstd-encoded to browsers that take it, else as the gzip file it is.

The content-named wasm copy must come from the HTTP cache without a revalidation, or Chromium never hands V8 its
cached compiled code (a 304 gives the response a new time): measured with bench/trace_boot.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _dist_http():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lkpw_dist_http_unit", ROOT / "build" / "dist_http.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IMMUTABLE = "public, max-age=31536000, immutable"


def test_content_named_files_are_immutable_and_the_rest_revalidated() -> None:
    cache_control = _dist_http().cache_control
    for path in ("/lkpw-snapshot-20937ed3ff76b225.bin", "/lkpw-wasm-cc36e3cab04fdfc9/pyodide.asm.wasm",
                 "/lite/static/pyodide/lkpw-wasm-cc36e3cab04fdfc9/pyodide.asm.wasm"):
        assert cache_control(path) == IMMUTABLE, path
    for path in ("/pyodide.asm.wasm", "/lkpw-snapshot.json", "/loader.mjs", "/index.html",
                 "/lkpw-wasm-xyz/pyodide.asm.wasm"):
        assert cache_control(path) == "no-cache", path


def test_the_snapshot_goes_as_zstd_or_gzip_as_the_browser_takes_it() -> None:
    encoding = _dist_http().snapshot_encoding
    snap = "/lkpw-snapshot-20937ed3ff76b225.bin"
    chromium = "gzip, deflate, br, zstd"  # what Chromium 156 sends to http://127.0.0.1 (measured)
    assert encoding(snap, chromium, True) == (snap + ".zst", "zstd")
    # Otherwise the gzip file as it is, which the loader gunzips and CRC-checks (a gzip Content-Encoding is decoded by
    # the browser without that check).
    assert encoding(snap, chromium, False) == (snap, None)  # a dist built without the zstd copy
    assert encoding(snap, "gzip, deflate", True) == (snap, None)
    assert encoding(snap, "gzip;q=0, zstd;q=0", True) == (snap, None)
    assert encoding(snap, "", True) == (snap, None)
    assert encoding(snap, "ZSTD;q=0.5", True) == (snap + ".zst", "zstd")
    for other in ("/lkpw-snapshot.json", "/loader.mjs", "/lkpw-wasm-cc36e3cab04fdfc9/pyodide.asm.wasm"):
        assert encoding(other, chromium, True) == (other, None), other
