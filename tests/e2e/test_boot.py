"""Boot: web/loader.mjs restores the build's Pyodide memory snapshot (livekit_pyweb and the protocol already
imported), and falls back to a normal boot, saying why, when the snapshot is missing, corrupt or from another
Pyodide build. Each case is a real dist served over HTTP (the build's dist/, or a copy of it with the snapshot
removed or altered) and the demo page joining the real server, where the official Python SDK publishes a camera:
the boot must end with a remote frame on the page whichever way it went.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, serve_dist

DIST = Path(__file__).resolve().parents[2] / "dist"

# Records what the page logs to its console (before any page script runs), to tell a fallback's message from a
# silent fast path.
RECORD_CONSOLE = """
window.__console = [];
for (const level of ["info", "warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => { window.__console.push([level, args.map(String).join(" ")]); original(...args); };
}
"""


def dist_variant(tmp: Path, name: str, snapshot: bytes | None, manifest: dict[str, Any] | None,
                 leave_out: tuple[str, ...] = (), zstd: bytes | None = None, encode_snapshot: bool = True) -> str:
    """A copy of dist/ (symlinks) whose snapshot file (gzip; `zstd`: its zstd copy) and manifest are replaced (None:
    left out), without the entries named in `leave_out`; its base URL (`encode_snapshot`: see serve_dist)."""
    folder = tmp / name
    folder.mkdir()
    real = json.loads((DIST / "lkpw-snapshot.json").read_text())
    for entry in DIST.iterdir():
        if entry.name not in (real["file"], real["file"] + ".zst", "lkpw-snapshot.json", *leave_out):
            (folder / entry.name).symlink_to(entry)
    if snapshot is not None:
        (folder / real["file"]).write_bytes(snapshot)
    if zstd is not None:
        (folder / (real["file"] + ".zst")).write_bytes(zstd)
    if manifest is not None:
        (folder / "lkpw-snapshot.json").write_text(json.dumps(manifest))
    return serve_dist(folder, encode_snapshot)


def snapshot_bytes_received(driver: Any, file: str) -> int:
    """How many bytes of the snapshot file came over HTTP on this page (Resource Timing's encodedBodySize: before the
    browser undid any Content-Encoding)."""
    return int(driver.execute_script(
        "return performance.getEntriesByType('resource').filter((e) => e.name.endsWith(arguments[0]))"
        ".reduce((n, e) => n + e.encodedBodySize, 0)", file))


def join_demo_page(driver: Any, base: str, identity: str, room: str) -> dict[str, Any]:
    """Open the demo page of `base` and wait for its first remote video frame; returns window.lkpw and the console."""
    query = urllib.parse.urlencode({"url": LIVEKIT_URL, "token": make_token(identity, room)})
    driver.get(f"{base}/index.html?{query}")
    deadline = time.monotonic() + 90
    while True:
        state = json.loads(driver.execute_script("return JSON.stringify({lkpw: window.lkpw || null, "
                                                 "console: window.__console || []})"))
        lkpw = state["lkpw"] or {}
        if lkpw.get("state") == "error":
            raise AssertionError(f"{base}: the page failed: {lkpw.get('error')}; console={state['console']}")
        if lkpw.get("timings", {}).get("firstFrameAtMs") and any(
                r.get("framesDecoded", 0) > 0 for r in lkpw.get("remote", {}).values()):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"{base}: no remote frame within 90 s; state={lkpw}; console={state['console']}")
        time.sleep(0.1)


def snapshot_requests(driver: Any, file: str) -> list[str]:
    """How each request of the snapshot file on this page started (Resource Timing's initiatorType)."""
    return list(driver.execute_script(
        "return performance.getEntriesByType('resource').filter((e) => e.name.endsWith(arguments[0]))"
        ".map((e) => e.initiatorType)", file))


def loader_messages(state: dict[str, Any]) -> list[list[str]]:
    return [entry for entry in state["console"] if "Pyodide snapshot" in entry[1]]


@pytest.mark.driver_timeout(240)
def test_snapshot_boot_and_each_fallback_join_the_room(selenium_standalone, py_peer, room_name, dist_url, tmp_path):
    driver = selenium_standalone.driver
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CONSOLE})
    peer = py_peer("boot-peer", room_name, video=True, audio=False)
    peer.wait_for(lambda e: e["event"] == "track_published" and e["kind"] == "video", 30, "its video to publish")
    error = DIST / "lkpw-snapshot-error.txt"  # build_dist.py: the build could not make the snapshot
    assert not error.exists(), f"the build made no snapshot:\n{error.read_text()}"
    manifest = json.loads((DIST / "lkpw-snapshot.json").read_text())
    packed = (DIST / manifest["file"]).read_bytes()
    zstd_packed = (DIST / (manifest["file"] + ".zst")).read_bytes()

    # The build's dist: restored from the snapshot, no wheel fetched, nothing logged about it. Chromium takes zstd:
    # the server sends the build's zstd copy (Content-Encoding: zstd), which the browser decodes.
    state = join_demo_page(driver, dist_url, "boot-snapshot", room_name)
    assert state["lkpw"]["snapshot"] == {"used": True, "reason": None}, state["lkpw"]
    assert loader_messages(state) == [], state["console"]
    assert snapshot_bytes_received(driver, manifest["file"]) == len(zstd_packed)
    # The demo page preloads the snapshot (build_dist.py's script adds a <link rel="preload"> when Cache Storage has
    # no copy), and the loader's fetch took that response: one download, started by the link.
    assert f'"{manifest["file"]}"' in (DIST / "index.html").read_text()
    assert snapshot_requests(driver, manifest["file"]) == ["link"]
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert not [u for u in fetched if u.endswith(".whl")], fetched
    assert any(u.endswith(manifest["file"]) for u in fetched), fetched
    # The wasm comes from its content-named copy (served immutable, so Chromium's wasm code cache can serve it).
    wasm = [u.split("/", 3)[3] for u in fetched if u.endswith(".wasm")]
    assert wasm == [f"{manifest['wasmDir']}pyodide.asm.wasm"] * 2, fetched  # the loader's HEAD, Pyodide's GET

    # The next visit reads the snapshot gunzipped from Cache Storage (a worker of the first visit put it there).
    driver.set_script_timeout(60)
    stored = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const go = () => globalThis.lkpwSnapshotStored ? lkpwSnapshotStored.then(done) : setTimeout(go, 100); go();")
    assert stored == {"stored": True}, stored
    state = join_demo_page(driver, dist_url, "boot-snapshot-again", room_name)
    assert state["lkpw"]["snapshot"] == {"used": True, "reason": None}, state["lkpw"]
    assert state["lkpw"]["timings"]["snapshotFromCacheStorage"] is True, state["lkpw"]["timings"]
    assert loader_messages(state) == [], state["console"]
    # With the copy in Cache Storage the page does not preload the file: no request for it at all.
    assert snapshot_requests(driver, manifest["file"]) == []

    # A plain static server (the gzip file as it is, no Content-Encoding; another origin, so nothing in its Cache
    # Storage): the loader gunzips it itself.
    plain = dist_variant(tmp_path, "plain", packed, manifest, encode_snapshot=False)
    state = join_demo_page(driver, plain, "boot-plain", room_name)
    assert state["lkpw"]["snapshot"] == {"used": True, "reason": None}, state["lkpw"]
    assert state["lkpw"]["timings"]["snapshotFromCacheStorage"] is False, state["lkpw"]["timings"]
    assert snapshot_bytes_received(driver, manifest["file"]) == len(packed)
    assert loader_messages(state) == [], state["console"]

    # Missing (a dist built with --no-snapshot): a normal boot, announced as information.
    missing = dist_variant(tmp_path, "missing", None, None)
    # Corrupt: bytes of the compressed file changed in transit or on disk: the zstd copy the browser decodes (its
    # decoder fails the fetch's body), and the gzip file on a plain server, gunzipped by the loader (gzip's CRC-32).
    def damage(data: bytes) -> bytes:
        damaged = bytearray(data)
        damaged[len(damaged) // 2: len(damaged) // 2 + 64] = bytes(64)
        return bytes(damaged)

    corrupt = dist_variant(tmp_path, "corrupt", packed, manifest, zstd=damage(zstd_packed))
    corrupt_plain = dist_variant(tmp_path, "corrupt-plain", damage(packed), manifest, encode_snapshot=False)
    # From another Pyodide build: the same Pyodide version, another build id in the snapshot's header (Pyodide's
    # own restore refuses it); the manifest is the real one, so only the restore can tell.
    raw = bytearray(gzip.decompress(packed))
    raw[16:48] = bytes(b ^ 0xFF for b in raw[16:48])
    other_build = dist_variant(tmp_path, "other-build", gzip.compress(bytes(raw), compresslevel=1), manifest)
    # A deploy that left out the content-named wasm the manifest names: Pyodide would wait forever for it.
    no_wasm = dist_variant(tmp_path, "no-wasm", packed, manifest, leave_out=(manifest["wasmDir"].rstrip("/"),))

    for name, base, level, reason in (("missing", missing, "info", "missing: lkpw-snapshot.json: HTTP 404"),
                                      ("corrupt", corrupt, "warn", "corrupt: "),
                                      ("corrupt-plain", corrupt_plain, "warn", "corrupt: "),
                                      ("other-build", other_build, "warn", "mismatch: "),
                                      ("no-wasm", no_wasm, "info", f"missing: {manifest['wasmDir']}: HTTP 404")):
        state = join_demo_page(driver, base, f"boot-{name}", room_name)
        snapshot = state["lkpw"]["snapshot"]
        assert snapshot["used"] is False and snapshot["reason"].startswith(reason), (name, snapshot)
        if name == "other-build":
            assert "build id mismatch" in snapshot["reason"], snapshot
        assert loader_messages(state) == [[level, f"livekit_pyweb: booting without the Pyodide snapshot "
                                                  f"({snapshot['reason']})"]], (name, state["console"])
        peer.wait_for(lambda e, n=name: e["event"] == "participant_connected" and e["identity"] == f"boot-{n}",
                      10, f"the peer to see boot-{name}")

    # A worker boots from the same snapshot (worker.mjs uses the same loader).
    driver.get(f"{dist_url}/worker.html?host=page")
    driver.set_script_timeout(120)
    used = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const go = () => window.runInWorker
          ? runInWorker("import json\\njson.dumps(boot_snapshot)").then(done, (e) => done(String(e)))
          : setTimeout(go, 50);
        go();
        """)
    assert json.loads(used) == {"used": True, "reason": None}, used
