"""Start-up and hot-path bench: livekit_pyweb (web/index.html) against livekit-client (web/js-peer.html) and a bare
``loadPyodide()`` page (web/bare.html, the floor), all measured in the same run; then the per-message decode time
(bench/decode.mjs on the server's real frames, bench/frames.py) and the wheel sizes.

Each round starts one fresh Chromium per page (empty cache) and visits the page twice: the first visit is "cold"
(nothing cached), the second "warm" (HTTP cache filled by the first). The SDK pages' cold visit stays ``--linger``
seconds (default 15) in the call after its first frame, as a visit does: Chromium writes V8's code cache of a wasm
module only once ~2 s pass without new optimized code (V8's --wasm-caching-timeout-ms), which a visit leaving at its
first frame never reaches, and which on the demo page came 1.4-2.4 s after the first frame in two traced cold
visits, ~12 s in a third, never within 25 s in a fourth (bench/trace_boot.py shows it: v8.wasm.cachedModule, then v8.wasm.moduleCacheHit). The SDK pages join a room where the official
Python SDK publishes video and report their own timings (navigation → SDK usable, connect() → connected and → first
remote frame decoded, navigation → first remote frame); after the first frame (the bare page: once Python is ready)
the bench forces a GC and reads the JS heap and the Pyodide wasm memory. Medians over the rounds; ratio = ours /
livekit-client. The table is printed as Markdown in the shape README's "Measured" section records.

    bash bench/run.sh [--rounds 5] [--gate README.md]

``--gate README.md``: the one timing gate (CI: .ci/run, ``--rounds 3``): exit status 1 when a ratio measured in this
run is worse than twice the ratio README records for the same row (never an absolute time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from chromium_flags import apply_selenium_env  # noqa: E402

apply_selenium_env()

from tests.e2e.conftest import LIVEKIT_URL, PyPeer, make_token, serve_dist  # noqa: E402
from tests.e2e.page import own_chromium  # noqa: E402

from gate import FACTOR, MEMORY_ROW, ROWS, TIME_ROWS, check, readme_ratios  # noqa: E402  (bench/gate.py)

OURS, THEIRS, BARE, BEFORE = "livekit_pyweb", "livekit-client", "bare", "livekit_pyweb before"
PAGES = {OURS: ("index.html", "lkpw", "firstFrameAtMs"),
         BEFORE: ("index.html", "lkpw", "firstFrameAtMs"),  # --compare: the same page from another build
         THEIRS: ("js-peer.html", "jsPeer", "firstFrameAtMs"),
         BARE: ("bare.html", "bare", "sdkReadyMs")}
ROOM = "bench"
PUBLISHER = "bench-publisher"



def _visit(driver: Any, url: str, state_name: str, done_key: str) -> dict[str, float]:
    driver.get(url)
    deadline = time.monotonic() + 60
    while True:
        state = json.loads(driver.execute_script(f"return JSON.stringify(window.{state_name} || null)") or "null")
        if state and state.get("timings", {}).get(done_key):
            break
        if state and state.get("state") == "error":
            raise RuntimeError(f"{url.split('?')[0]}: {state.get('error')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url.split('?')[0]}: not done in 60 s; state={state}")
        time.sleep(0.02)
    out = {k: float(v) for k, v in state["timings"].items() if isinstance(v, (int, float))}
    if "sdkReadyMs" not in out and "navigationToBootMs" in out:  # an index.html that does not stamp it
        out["sdkReadyMs"] = out["navigationToBootMs"] + out.get("wheelLoadImportMs", 0.0)
    driver.execute_script("if (window.gc) gc();")
    out["jsHeapMB"] = driver.execute_script("return performance.memory.usedJSHeapSize") / 1e6
    out["wasmMB"] = driver.execute_script(
        "return window.lkpwPyodide ? lkpwPyodide._module.HEAP8.byteLength : 0") / 1e6
    return out


def measure(base: str, name: str, room: str, tag: str,
            linger: float = 0.0) -> tuple[dict[str, float], dict[str, float]]:
    """One fresh browser, two visits of one page: (cold, warm) timings and memory. The cold visit stays ``linger``
    seconds on the page once measured (in the call), as a visit that lasts does, before the warm one."""
    page, state_name, done_key = PAGES[name]
    with own_chromium() as driver:
        visits = []
        for visit in ("cold", "warm"):
            token = make_token(f"{name}-{tag}-{visit}", room)
            url = f"{base}/{page}?" + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": token})
            visits.append(_visit(driver, url, state_name, done_key))
            if visit == "cold" and linger:
                time.sleep(linger)
            driver.get("about:blank")  # leave the room before the next visit joins
        return visits[0], visits[1]


def wheel_sizes(dist: Path) -> dict[str, int]:
    """Bytes of our wheel and of every wheel the loader fetches with it (the pruned lock's dependency closure)."""
    lock = json.loads((dist / "pyodide-lock.json").read_text())["packages"]
    todo, seen = ["livekit-pyweb"], set()
    while todo:
        name = todo.pop()
        if name not in seen and name in lock:
            seen.add(name)
            todo.extend(lock[name].get("depends", []))
    return {name: (dist / lock[name]["file_name"]).stat().st_size for name in sorted(seen)}


def decode_bench(dist: Path, n: int, js: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """bench/decode.mjs (Pyodide on Node) on frames captured from this run's server (bench/frames.py); with ``js``
    also bench/decode_js.mjs (npm @livekit/protocol's decoder against ours, crossing included)."""
    import frames as frames_mod  # bench/frames.py

    with tempfile.TemporaryDirectory() as tmp:
        for kind, data in frames_mod.capture("bench-frames").items():
            (Path(tmp) / f"{kind}.bin").write_bytes(data)
        outs = []
        for script in ("decode.mjs", "decode_js.mjs") if js else ("decode.mjs",):
            out = subprocess.run(["node", str(ROOT / "bench" / script), str(dist), tmp, str(n)],
                                 check=True, capture_output=True, text=True, timeout=300).stdout
            outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs[0], (outs[1] if js else None)


def _fmt(v: float) -> str:
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def _ratio(v: float) -> str:
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--decode-n", type=int, default=1000)
    parser.add_argument("--linger", type=float, default=15.0,
                        help="seconds each page's cold visit stays on the page (in the call) before the warm visit "
                             "(default 15: Chromium writes V8's code cache of a wasm module ~2 s after its last "
                             "tier-up, which a visit that leaves at its first frame never reaches and a busy page may "
                             "reach late; 0: leave at once)")
    parser.add_argument("--decode-js", action="store_true",
                        help="also time decoding with npm @livekit/protocol (bench/decode_js.mjs) against ours")
    parser.add_argument("--gate", type=Path, help="README.md whose Measured ratios this run must stay within 2x of")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist",
                        help="the dist folder to serve (default: this checkout's; another build for before/after)")
    parser.add_argument("--compare", type=Path, metavar="BEFORE_DIST",
                        help="also measure livekit_pyweb from this other build, alternating with ours in every round "
                             "(a before/after on a busy machine: both see the same load)")
    parser.add_argument("--raw", type=Path, metavar="JSON",
                        help="also write every visit's timings (the loader's steps too) here: {page: [[cold, warm]...]}")
    args = parser.parse_args()
    started = time.monotonic()
    load_before = f"{os.getloadavg()[0]:.2f}"
    recorded = readme_ratios(args.gate) if args.gate else {}
    if args.gate and sorted(recorded) != sorted(ROWS):
        sys.exit(f"bench: {args.gate} records ratios for {sorted(recorded)}; the gate needs every row: {ROWS}")
    base = serve_dist(args.dist)
    bases = {name: base for name in PAGES}
    names = [OURS, THEIRS, BARE]
    if args.compare:
        bases[BEFORE] = serve_dist(args.compare)
        names = [BEFORE, OURS, THEIRS, BARE]
    results: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {n: [] for n in PAGES}
    for i in range(args.rounds):
        # A publisher per round, in a room of its own (the official SDK peer runs 5 minutes at most).
        room = f"{ROOM}-{i}"
        peer = PyPeer(PUBLISHER, room, video=True, audio=False)
        try:
            peer.wait_for(lambda e: e["event"] == "track_published", 30, "the publisher")
            for name in names:
                results[name].append(measure(bases[name], name, room, str(i), 0.0 if name == BARE else args.linger))
                cold, warm = results[name][-1]
                print(f"  {name}: " + ", ".join(f"{k} {cold.get(k, 0):.0f}/{warm.get(k, 0):.0f}"
                                                for _, k in TIME_ROWS), file=sys.stderr)
        finally:
            peer.close()
        print(f"bench: round {i + 1}/{args.rounds} done ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    if args.raw:
        args.raw.write_text(json.dumps(results, indent=1))
    decode, decode_js = decode_bench(args.dist, args.decode_n, args.decode_js)
    wheels = wheel_sizes(args.dist)

    def med(name: str, warm: bool, key: str) -> float:
        values = [r[1 if warm else 0][key] for r in results[name] if key in r[1 if warm else 0]]
        return statistics.median(values) if values else float("nan")

    measured: dict[str, list[float]] = {}
    print(f"\nbench/startup.py: median of {args.rounds} rounds (Chromium headless, a fresh browser per round: first "
          f"visit cold, staying {args.linger:g} s, second warm; loopback SFU; load average before/after "
          f"{load_before} / {os.getloadavg()[0]:.2f})\n")
    print(f"| | {OURS} | {THEIRS} | ratio | bare `loadPyodide()` |")
    print("|---|---|---|---|---|")
    for label, key in TIME_ROWS:
        ours = [med(OURS, w, key) for w in (False, True)]
        theirs = [med(THEIRS, w, key) for w in (False, True)]
        measured[label] = [a / b for a, b in zip(ours, theirs)]
        bare = f"{_fmt(med(BARE, False, key))} / {_fmt(med(BARE, True, key))} ms" if key == "sdkReadyMs" else ""
        print(f"| {label} | {' / '.join(map(_fmt, ours))} ms | {' / '.join(map(_fmt, theirs))} ms | "
              f"{' / '.join(_ratio(r) for r in measured[label])} | {bare} |")
    mem = {n: (med(n, False, "jsHeapMB"), med(n, False, "wasmMB")) for n in names}
    measured[MEMORY_ROW] = [sum(mem[OURS]) / sum(mem[THEIRS])]
    print(f"| {MEMORY_ROW} | {mem[OURS][0]:.1f} + {mem[OURS][1]:.1f} MB | {mem[THEIRS][0]:.1f} MB | "
          f"{_ratio(measured[MEMORY_ROW][0])} | {mem[BARE][0]:.1f} + {mem[BARE][1]:.1f} MB |")
    if args.compare:
        print(f"\nbefore ({args.compare}) → after ({args.dist}), alternating in every round, ratio to livekit-client "
              "of the same round set:\n")
        print(f"| | before | after | before ratio | after ratio |")
        print("|---|---|---|---|---|")
        for label, key in TIME_ROWS:
            before = [med(BEFORE, w, key) for w in (False, True)]
            after = [med(OURS, w, key) for w in (False, True)]
            theirs = [med(THEIRS, w, key) for w in (False, True)]
            print(f"| {label} | {' / '.join(map(_fmt, before))} ms | {' / '.join(map(_fmt, after))} ms | "
                  f"{' / '.join(_ratio(a / b) for a, b in zip(before, theirs))} | "
                  f"{' / '.join(_ratio(a / b) for a, b in zip(after, theirs))} |")
    frames = decode["frames"]
    names = {"join": "JoinResponse", "update": "ParticipantUpdate"}
    print(f"\nper-message decode in Pyodide (Node, median of {args.decode_n}, bytes → what the room model reads): "
          + ", ".join(f"{names.get(k, k)} {f['bytes']} B {f['median_ms']:.3f} ms = {f['ms_per_kb']:.2f} ms/KB"
                      for k, f in sorted(frames.items())))
    if decode_js:
        print(f"decoding on the JS side (npm @livekit/protocol {decode_js['npm_version']}, PyPI livekit-protocol "
              f"{decode_js['pypi_version']}: {decode_js['schema_messages']} messages compared, "
              f"{len(decode_js['schema_diff'])} differ), ms/KB, median of {args.decode_n}: "
              + "; ".join(f"{names.get(k, k)}: ours {f['python']:.2f}, JS alone {f['js']:.2f}, JS + to_py "
                          f"{f['js+to_py']:.2f}, JS + JSON {f['js+json']:.2f}"
                          for k, f in sorted(decode_js["frames"].items())))
    print(f"import of the protocol (livekit.protocol rtc + models) in Pyodide on Node: {decode['import_ms']} ms")
    total = sum(wheels.values())
    print(f"wheels the loader fetches: {total / 1024:.0f} KB = "
          + " + ".join(f"{name} {size / 1024:.0f} KB" for name, size in wheels.items()))
    print(f"(bench took {time.monotonic() - started:.0f} s)")

    if args.gate:
        print(f"\ngate: every ratio must stay within {FACTOR:g}x the ratio {args.gate.name} records")
        verdicts = check(measured, recorded)
        for _, ok, text in verdicts:
            print(f"  {'ok' if ok else 'FAIL':4s} {text}")
        failed = [label for label, ok, _ in verdicts if not ok]
        if failed:
            sys.exit(f"bench gate: {len(failed)} ratio(s) worse than {FACTOR:g}x the recorded figure: {failed}")


if __name__ == "__main__":
    main()
