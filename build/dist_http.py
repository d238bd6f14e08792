"""How dist/ is served over HTTP: one request handler for the demo server (build/demo.py) and the tests' and benches'
servers (tests/e2e/conftest.py ``serve_dist``), so that what is measured is what the demo does.

- Module scripts as ``text/javascript``, the wasm as ``application/wasm``.
- Caching (``cache_control``): the content-named Pyodide snapshot (``lkpw-snapshot-<sha256 prefix>.bin``) and wasm
  (``lkpw-wasm-<sha256 prefix>/pyodide.asm.wasm``) never change, so they are immutable: a revalidated wasm (a 304)
  never gets V8's compiled code back from Chromium's code cache (measured: bench/trace_boot.py). Every other file
  keeps its name across rebuilds and is revalidated (``no-cache``: an unchanged file costs a 304).
- The snapshot with a Content-Encoding (``snapshot_encoding``): the zstd copy the build writes beside it
  (``.bin.zst``, with its content checksum) to a browser whose Accept-Encoding has ``zstd`` (Chromium 123+, Firefox
  126+): the browser's network process decodes it, off the page's thread (web/loader.mjs; measured with
  bench/run.sh). Any other browser gets the gzip file as it is, which the loader gunzips itself: not as
  ``Content-Encoding: gzip``, because Chromium's decoder for that does not check gzip's CRC (measured: a file with
  its CRC flipped is accepted; DecompressionStream refuses it), and a damaged snapshot that inflates to the right
  length would restore a broken interpreter.
- Pages under ``/pyscript/`` are cross-origin isolated (``ISOLATION_HEADERS``): PyScript's worker mode needs
  SharedArrayBuffer for its synchronous ``js.document`` in the worker. Only there: index.html and js-peer.html need
  no isolation and are tested without it, and a page added later that embeds a cross-origin resource without CORP
  would break under ``require-corp``.
"""

from __future__ import annotations

import http.server
import re
import urllib.parse
from pathlib import Path

IMMUTABLE = "public, max-age=31536000, immutable"
SNAPSHOT_FILE = re.compile(r"lkpw-snapshot-[0-9a-f]{16}\.bin")
WASM_COPY = re.compile(r"/lkpw-wasm-[0-9a-f]{16}/[^/]+$")
ZSTD_SUFFIX = ".zst"  # build/build_dist.py writes <snapshot>.bin.zst
ISOLATED_PREFIX = "/pyscript/"
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


def cache_control(path: str) -> str:
    """Cache-Control for the dist file at URL path `path`."""
    if SNAPSHOT_FILE.fullmatch(path.rsplit("/", 1)[-1]) or WASM_COPY.search(path):
        return IMMUTABLE
    return "no-cache"


def accepts(accept_encoding: str, coding: str) -> bool:
    """Whether an Accept-Encoding header takes `coding` (listed, without ``q=0``)."""
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() == coding:
            q = params.strip().lower()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


def snapshot_encoding(path: str, accept_encoding: str, has_zstd: bool) -> tuple[str, str | None]:
    """For a request of URL path `path`: the path to serve and its Content-Encoding (None: as it is)."""
    if not SNAPSHOT_FILE.fullmatch(path.rsplit("/", 1)[-1]):
        return path, None
    if has_zstd and accepts(accept_encoding, "zstd"):
        return path + ZSTD_SUFFIX, "zstd"
    return path, None  # the gzip file as it is: the loader's gunzip checks its CRC


class DistRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a dist folder (``functools.partial(DistRequestHandler, directory=...)``) as described above.
    ``encode_snapshot = False`` in a subclass sends the snapshot file as it is (a plain static server's way)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm"}
    encode_snapshot = True
    _url_path = ""
    _encoding: str | None = None

    def send_head(self):  # type: ignore[no-untyped-def]  # typeshed: io.BytesIO | BinaryIO | None
        self._url_path = path = urllib.parse.urlsplit(self.path).path
        self._encoding = None
        if self.encode_snapshot:
            has_zstd = Path(self.translate_path(path + ZSTD_SUFFIX)).is_file()
            served, self._encoding = snapshot_encoding(path, self.headers.get("Accept-Encoding", ""), has_zstd)
            if served != path:
                self.path = served
        return super().send_head()

    def end_headers(self) -> None:
        path = self._url_path or urllib.parse.urlsplit(self.path).path
        if path.startswith(ISOLATED_PREFIX):
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        caching = self.cache_header(path)
        if caching:
            self.send_header("Cache-Control", caching)
        if self._encoding:
            self.send_header("Content-Encoding", self._encoding)
            self.send_header("Vary", "Accept-Encoding")
        super().end_headers()

    def cache_header(self, path: str) -> str | None:
        """The Cache-Control of the file at URL path `path` (None: the response sets its own)."""
        return cache_control(path)
