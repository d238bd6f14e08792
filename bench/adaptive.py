"""adaptiveStream bench: how long from "element shrunk" to "a lower layer received", livekit_pyweb against
livekit-client, in the same page and the same run.

One Chromium page (web/worker.html?mode=direct: Pyodide on the page's main thread) also loads livekit-client's UMD
build. In one room: a livekit-client publisher sends the fake camera at 1280x720 with simulcast (q 320, h 640,
f 1280 wide); two subscribers with adaptive stream on, one livekit-client (``Room({adaptiveStream: true})``,
``track.attach()``), one livekit_pyweb (``Room(RoomOptions(adaptive_stream=True))``, ``track.attach()``). Each
attaches the video in its own element, fixed at the top left of the viewport at 1280x720 CSS px.

Each sample, for each SDK in turn (same JS measuring both): the element is set to 1280x720 and we wait until its
``videoWidth`` is at least 960 (the full layer) plus 1.5 s; then the element is shrunk to 200x112 and the time until
its ``videoWidth`` is at most 400 (the q layer decoded and presented) is measured, polled every 5 ms. Both SDKs
debounce 100 ms before telling the server; the server then switches at the next key frame of the lower layer.

    build/with-server.sh ~/.cache/livekit-pyweb/venv/bin/python -W ignore bench/adaptive.py [--samples 9]

(after build/build_dist.py, e.g. one build/test.sh run). No assertion: it prints the figures and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from chromium_flags import apply_selenium_env  # noqa: E402

apply_selenium_env()

from tests.e2e.conftest import LIVEKIT_URL, make_token, serve_dist  # noqa: E402
from tests.e2e.page import own_chromium  # noqa: E402
from tests.e2e.test_worker_bridge import run_worker  # noqa: E402

STYLE = "position:fixed;left:0;top:0;display:block;width:1280px;height:720px"

LOAD_CLIENT = """
const done = arguments[arguments.length - 1];
const s = document.createElement("script");
s.src = "./livekit-client.umd.js";
s.onload = () => done(true);
s.onerror = () => done(false);
document.head.append(s);
"""

JS_SETUP = """
const [url, pubToken, subToken, style] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const LK = window.LivekitClient;
  const pub = new LK.Room();
  await pub.connect(url, pubToken);
  const cam = await LK.createLocalVideoTrack({ resolution: { width: 1280, height: 720, frameRate: 30 } });
  await pub.localParticipant.publishTrack(cam, { simulcast: true });
  const sub = new LK.Room({ adaptiveStream: true });
  const subscribed = new Promise((resolve) => sub.on(LK.RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === "video") resolve(track);
  }));
  await sub.connect(url, subToken);
  const track = await subscribed;
  const el = track.attach();
  el.style.cssText = style;
  document.body.append(el);
  window.benchRooms = [pub, sub];
  window.theirsEl = el;
  done({ ok: true, version: LK.version });
})().catch((e) => done({ ok: false, error: String(e && e.stack || e) }));
"""

PY_SETUP = """
import asyncio, json, js
from livekit_pyweb import Room, RoomOptions
ours = Room(RoomOptions(adaptive_stream=True))
await ours.connect({url!r}, {token!r})
video = None
for _ in range(300):
    p = ours.remote_participants.get("bench-pub")
    tracks = [x.track for x in p.track_publications.values() if x.track is not None and x.kind.name == "KIND_VIDEO"] \\
        if p else []
    if tracks:
        video = tracks[0]
        break
    await asyncio.sleep(0.1)
element = video.attach()
element.style.cssText = {style!r}
js.document.body.append(element)
js.window.oursEl = element
json.dumps({{"adaptive": video.is_adaptive_stream}})
"""

SAMPLE = """
const name = arguments[0];
const done = arguments[arguments.length - 1];
const el = window[name];
const waitWidth = (test, timeout) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const tick = () => {
    if (test(el.videoWidth)) resolve(performance.now() - t0);
    else if (performance.now() - t0 > timeout) reject(new Error(`videoWidth stayed ${el.videoWidth}`));
    else setTimeout(tick, 5);
  };
  tick();
});
(async () => {
  el.style.width = "1280px";
  el.style.height = "720px";
  await waitWidth((w) => w >= 960, 30000);
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = performance.now();
  el.style.width = "200px";
  el.style.height = "112px";
  await waitWidth((w) => w > 0 && w <= 400, 30000);
  done({ ok: true, ms: performance.now() - t0, width: el.videoWidth });
})().catch((e) => done({ ok: false, error: String(e) }));
"""


def call(driver: Any, script: str, *args: Any) -> Any:
    out = driver.execute_async_script(script, *args)
    if isinstance(out, dict) and out.get("ok") is False:
        raise RuntimeError(out.get("error"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=9)
    args = parser.parse_args()
    base = serve_dist()
    room = "bench-adaptive"
    samples: dict[str, list[float]] = {"livekit_pyweb": [], "livekit-client": []}
    with own_chromium() as driver:
        driver.get(f"{base}/worker.html?mode=direct")
        driver.set_script_timeout(180)
        run_worker(driver, "import json\njson.dumps(1)")  # Pyodide booted
        assert driver.execute_async_script(LOAD_CLIENT), "livekit-client.umd.js did not load"
        setup = call(driver, JS_SETUP, LIVEKIT_URL, make_token("bench-pub", room), make_token("bench-js", room), STYLE)
        ours = run_worker(driver, PY_SETUP.format(url=LIVEKIT_URL, token=make_token("bench-py", room), style=STYLE))
        assert ours["adaptive"], ours
        print(f"livekit-client {setup.get('version')}; {args.samples} samples each, alternating", file=sys.stderr)
        for i in range(args.samples):
            for name, element in (("livekit_pyweb", "oursEl"), ("livekit-client", "theirsEl")):
                out = call(driver, SAMPLE, element)
                samples[name].append(float(out["ms"]))
                print(f"sample {i + 1} {name}: {out['ms']:.0f} ms (width {out['width']})", file=sys.stderr)
        run_worker(driver, "await ours.disconnect()\njson.dumps(0)")
        driver.execute_async_script("const d = arguments[0];"
                                    "Promise.all(window.benchRooms.map((r) => r.disconnect())).then(() => d(0))")

    ours_ms = statistics.median(samples["livekit_pyweb"])
    theirs_ms = statistics.median(samples["livekit-client"])
    print(json.dumps(samples))
    print(f"\nadaptiveStream reaction: element shrunk 1280x720 -> 200x112 CSS px until the q layer (<= 400 wide) is "
          f"presented; median of {args.samples} (Chromium headless, loopback SFU, same page, same publisher)")
    print(f"{'':28s} {'livekit_pyweb':>14s} {'livekit-client':>15s} {'ratio':>7s}")
    print(f"{'median (ms)':28s} {ours_ms:14.0f} {theirs_ms:15.0f} {ours_ms / theirs_ms:7.2f}")
    for label, fn in (("min (ms)", min), ("max (ms)", max)):
        print(f"{label:28s} {fn(samples['livekit_pyweb']):14.0f} {fn(samples['livekit-client']):15.0f}")


if __name__ == "__main__":
    main()
