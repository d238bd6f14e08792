"""JupyterLite: web/notebooks/livekit.ipynb, run as a person runs it, in the offline site dist/lite/ (built by
build/setup.sh → build/build_lite.py), against the real server with the official Python SDK as the other participant.

The kernel is a Web Worker: its Room is served by the page host that livekit_pyweb.jupyter starts in the notebook
page (an anywidget front end), all calls over a BroadcastChannel. The page is served with build/demo.py's handler
(it answers the notebook's ``/token`` request; it logs nothing here). The notebook's settings cell gets this test's
room and a shorter watch, then JupyterLab's "Run All Cells" command runs it; the peer joins while the watch cell
runs. Asserted from the page: our camera decodes at the peer, the peer's camera plays in a ``<video>`` in the cell
output, the peer's arrival printed in the watch cell while that cell was still running, and after ``await
room.disconnect()`` the host held nothing when the kernel said bye and the kernel holds no more proxies than before.
A screenshot of the notebook with the live video is saved (``$LKPW_RUN_DIR`` or tests/artifacts/).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import io
import json
import os
import struct
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from .conftest import API_KEY, API_SECRET, LIVEKIT_URL

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "livekit.ipynb"
IDENTITY = "notebook"
WATCH_SECONDS = 40
SETTINGS_CELL = 1  # ROOM, IDENTITY, WATCH_SECONDS
WATCH_MARK = "watching for"

# Before the notebook runs: hook every page host as it registers (host.mjs keeps an existing registry), so that its
# counts at the moment it closes - when the kernel says bye after room.disconnect() - are kept.
HOOK_HOSTS = """
const hosts = new Map();
const set = hosts.set.bind(hosts);
window.__lkpwClosed = [];
hosts.set = (name, host) => {
  const close = host.close.bind(host);
  host.close = (why) => {
    if (!host.closed) window.__lkpwClosed.push({channel: name, why, bound: host.bound, counts: host.counts()});
    return close(why);
  };
  return set(name, host);
};
globalThis.livekitPyweb = {hosts};
"""

KERNEL_STATUS = """
const app = window.jupyterapp;
const widget = app && app.shell.currentWidget;
const kernel = widget && widget.sessionContext && widget.sessionContext.session && widget.sessionContext.session.kernel;
return kernel ? kernel.status : null;
"""

# Run code in the notebook's kernel (not in a cell) and return its stdout, as kernel.requestExecute delivers it.
KERNEL_EXEC = """
const done = arguments[arguments.length - 1];
const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
const future = kernel.requestExecute({code: arguments[0], stop_on_error: true, store_history: false});
const out = [];
future.onIOPub = (msg) => {
  const c = msg.content;
  if (msg.header.msg_type === "stream") out.push(c.text);
  else if (msg.header.msg_type === "error") out.push(`ERROR ${c.ename}: ${c.evalue}`);
};
future.done.then(() => done(out.join("")), (e) => done(`FAILED ${e}`));
"""

SET_CELL = """
const cell = window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]];
cell.model.sharedModel.setSource(arguments[1]);
return cell.model.sharedModel.getSource();
"""

READ_CELLS = """
const cells = window.jupyterapp.shell.currentWidget.content.widgets;
return JSON.stringify(cells.map((cell, index) => {
  const node = cell.node;
  const prompt = node.querySelector(".jp-InputArea-prompt");
  const outputs = [...node.querySelectorAll(".jp-OutputArea-output")];
  return {
    index,
    type: cell.model.type,
    prompt: prompt ? prompt.textContent.trim() : "",
    text: outputs.map((o) => o.innerText).join("\\n"),
    errors: outputs.filter((o) => o.dataset.mimeType === "application/vnd.jupyter.stderr"
                                  || o.querySelector(".jp-RenderedText[data-mime-type*=error]"))
                   .map((o) => o.innerText),
    videos: [...node.querySelectorAll(".lkpw-video-view video")].map((v) => ({
      label: v.title,
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
      width: v.videoWidth,
      playing: !v.paused,
    })),
    hostLines: [...node.querySelectorAll(".lkpw-host")].map((h) => h.textContent),
  };
}));
"""


def _demo_handler(dist: Path) -> Any:
    """build/demo.py's handler (dist/ + ``/token``), with nothing logged (tests' output stays token-free)."""
    spec = importlib.util.spec_from_file_location("lkpw_demo", ROOT / "build" / "demo.py")
    assert spec and spec.loader
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    handler = demo.make_handler(dist, LIVEKIT_URL, API_KEY, API_SECRET)

    class Quiet(handler.func):
        def log_message(self, fmt: str, *args: object) -> None:
            pass

    return functools.partial(Quiet, *handler.args, **handler.keywords)


@pytest.fixture
def lite_url(request: pytest.FixtureRequest) -> Any:
    dist = Path(request.config.option.dist_dir).resolve()
    if not (dist / "lite" / "jupyter-lite.json").is_file():
        pytest.fail(f"{dist}/lite/ is missing: build/setup.sh builds it (build/build_lite.py)", pytrace=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _demo_handler(dist))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _artifacts() -> Path:
    run_dir = os.environ.get("LKPW_RUN_DIR")
    folder = Path(run_dir) if run_dir else ROOT / "tests" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _png_pixels(png: bytes) -> list[bytes]:
    """The rows of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium's screenshots are), as RGB(A) bytes."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    assert header, "PNG without IHDR"
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if color == 2 else 4
    raw = io.BytesIO(zlib.decompress(idat))
    rows: list[bytes] = []
    prev = bytearray(width * bpp)
    for _ in range(height):
        kind = raw.read(1)[0]
        line = bytearray(raw.read(width * bpp))
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                upleft = prev[i - bpp] if i >= bpp else 0
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upleft)) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(b for j, b in enumerate(line) if j % 4 != 3))
        prev = line
    return rows


def _colours(png: bytes) -> int:
    """How many distinct RGB colours the image has (sampled on a grid, at most 64 x 64 points)."""
    rows = _png_pixels(png)
    height, width = len(rows), len(rows[0]) // 3
    seen = set()
    for y in range(0, height, max(1, height // 64)):
        for x in range(0, width, max(1, width // 64)):
            seen.add(rows[y][3 * x:3 * x + 3])
    return len(seen)


class Notebook:
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def cells(self) -> list[dict[str, Any]]:
        return list(json.loads(self.driver.execute_script(READ_CELLS)))

    def kernel(self, code: str) -> str:
        out = str(self.driver.execute_async_script(KERNEL_EXEC, code))
        assert not out.startswith(("ERROR", "FAILED")), out
        return out

    def console(self) -> list[str]:
        try:
            entries = self.driver.get_log("browser")
        except Exception:
            return []
        return [f"{e['level']} {e['message'][:300]}" for e in entries if "access_token=" not in e["message"]][-25:]

    def wait(self, predicate: Any, timeout: float, what: str) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            cells = self.cells()
            errors = [(c["index"], e) for c in cells for e in c["errors"]]
            if errors:
                raise AssertionError(f"a cell failed while waiting for {what}: {errors}")
            if predicate(cells):
                return cells
            if time.monotonic() > deadline:
                shown = [{k: c[k] for k in ("index", "prompt", "text", "videos", "hostLines")}
                         for c in cells if c["type"] == "code"]
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; cells: {shown}; "
                                     f"console: {self.console()}")
            time.sleep(0.25)


def _watch_cell(cells: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((c for c in cells if WATCH_MARK in c["text"]), None)


def _peer_video(cell: dict[str, Any] | None) -> dict[str, Any]:
    videos = (cell or {}).get("videos", [])
    return max(videos, key=lambda v: v["frames"]) if videos else {"frames": 0, "width": 0, "playing": False}


@pytest.mark.timeout(300)
@pytest.mark.driver_timeout(240)
def test_notebook_joins_publishes_and_shows_the_peer_inline(selenium_standalone, py_peer, room_name, lite_url):
    driver = selenium_standalone.driver
    driver.set_script_timeout(60)
    driver.set_window_size(1280, 1000)  # room for the cell outputs in the screenshot
    notebook = Notebook(driver)

    t0 = time.monotonic()
    driver.get(f"{lite_url}/lite/notebooks/index.html?path={NOTEBOOK}")
    deadline = time.monotonic() + 120
    while driver.execute_script(KERNEL_STATUS) != "idle":
        assert time.monotonic() < deadline, f"the kernel did not start in 120 s; console: {notebook.console()}"
        time.sleep(0.25)
    kernel_start_s = time.monotonic() - t0

    base = int(notebook.kernel("from livekit_pyweb._browser import live_proxy_count\nprint(live_proxy_count())"))
    # The kernel booted through our loader (pyodideUrl) from the build's memory snapshot (the loader records how in
    # the kernel worker's globals).
    boot = json.loads(notebook.kernel("import js\nprint(js.JSON.stringify(js.lkpwBoot.snapshot))"))
    assert boot == {"used": True, "reason": None}, boot
    driver.execute_script(HOOK_HOSTS)
    settings = f'ROOM = "{room_name}"\nIDENTITY = "{IDENTITY}"\nWATCH_SECONDS = {WATCH_SECONDS}'
    assert driver.execute_script(SET_CELL, SETTINGS_CELL, settings) == settings

    t1 = time.monotonic()
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    cells = notebook.wait(lambda cs: _watch_cell(cs) is not None and "[*]" in _watch_cell(cs)["prompt"], 90,
                          "the watch cell to start (connect and publish done)")
    run_to_watch_s = time.monotonic() - t1
    text = "\n".join(c["text"] for c in cells)
    assert f"connected to '{room_name}' as '{IDENTITY}'" in text, text
    assert "publishing SOURCE_CAMERA and SOURCE_MICROPHONE" in text, text
    # The host's status line refreshes once a second: give it a few to show what the connect already proved.
    cells = notebook.wait(lambda cs: any("serving the kernel" in line for c in cs for line in c["hostLines"]), 5,
                          "the host's status line to say it serves the kernel")
    host_lines = [line for c in cells for line in c["hostLines"]]
    assert len(host_lines) == 1 and "serving the kernel" in host_lines[0], host_lines
    local_videos = [v for c in cells for v in c["videos"]]
    assert len(local_videos) == 1, local_videos  # our own camera, displayed by the publish cell

    # The peer joins while the watch cell runs: our camera decodes there, its arrival prints in the running cell,
    # and its camera plays in a <video> in that cell's output.
    peer = py_peer("py-peer", room_name, video=True, audio=True)
    peer.wait_for(lambda e: e["event"] == "frames" and e["participant"] == IDENTITY and e["kind"] == "video"
                  and e["count"] >= 30, 40, "frames of the notebook's camera at the peer")
    cells = notebook.wait(lambda cs: "+ py-peer joined" in _watch_cell(cs)["text"]
                          and "> py-peer: SOURCE_CAMERA" in _watch_cell(cs)["text"]
                          and _peer_video(_watch_cell(cs))["frames"] >= 10, 30,
                          "the peer's arrival and camera in the watch cell's output")
    watch = _watch_cell(cells)
    assert "[*]" in watch["prompt"] and "done watching" not in watch["text"], \
        f"the watch cell ended before the peer's events showed: {watch}"
    first = _peer_video(watch)
    cells = notebook.wait(lambda cs: _peer_video(_watch_cell(cs))["frames"] >= first["frames"] + 20, 20,
                          "the peer's video to keep playing in the cell output")
    video = _peer_video(_watch_cell(cells))
    assert video["width"] > 0 and video["playing"], video

    # The notebook with live video, saved; the video's own pixels are not one colour.
    element = driver.execute_script("return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]]"
                                    ".node.querySelector('.lkpw-video-view video')", watch["index"])
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    time.sleep(0.5)
    shot = _artifacts() / "jupyterlite-notebook.png"
    driver.save_screenshot(str(shot))
    colours = _colours(element.screenshot_as_png)
    assert colours >= 16, f"the peer's video in the cell output shows {colours} colour(s) (screenshot: {shot})"

    # The run ends: the watch cell finishes, the last cell leaves the room. The host held nothing when the kernel
    # said bye, and the kernel holds no more proxies than before the room.
    since = peer.mark()
    cells = notebook.wait(lambda cs: "left the room" in cs[-1]["text"], WATCH_SECONDS + 30,
                          "the watch cell to end and the last cell to leave the room")
    peer.wait_for(lambda e: e["event"] == "participant_disconnected" and e["identity"] == IDENTITY, 10,
                  "the peer to see the notebook leave", since=since)
    deadline = time.monotonic() + 5
    while not (closed := driver.execute_script("return window.__lkpwClosed")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert closed and len(closed) == 1, closed
    assert closed[0]["why"] == "bye" and closed[0]["bound"], closed
    assert closed[0]["counts"] == {"handles": 0, "pcs": 0, "elements": 0}, closed
    assert driver.execute_script("return globalThis.livekitPyweb.hosts.size") == 0
    after = int(notebook.kernel("print(live_proxy_count())"))
    assert after == base, f"kernel proxies: {base} before the room, {after} after disconnect()"

    # `%pip install livekit-pyweb` works offline from the site's own index: take the preloaded wheel out, install it
    # again by name (the kernel may not reach PyPI: disablePyPIFallback).
    from livekit_pyweb.version import __version__

    out = notebook.kernel("import micropip\nmicropip.uninstall('livekit-pyweb')\n"
                          "assert 'livekit-pyweb' not in micropip.list()\n"
                          "%pip install livekit-pyweb\n"
                          "print('installed', micropip.list()['livekit-pyweb'].version)")
    assert f"installed {__version__}" in out, out
    print(f"JupyterLite: page load -> kernel idle {kernel_start_s:.1f} s; run all -> watching {run_to_watch_s:.1f} s; "
          f"peer video {video['frames']} frames; screenshot {shot}")
