"""Python run inside the test page (Pyodide in Chromium, pytest-pyodide's ``selenium_standalone``): the shared
helpers every e2e test defines first, joining, and decoding a peer's media.

Strings here are formatted with ``str.format`` (doubled braces are literal) and run with :func:`conftest.run_py`;
the page's last expression is a JSON string.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from .conftest import LIVEKIT_URL, run_py

# Received audio, as the browser's inbound-rtp stats measure it at playout: totalAudioEnergy grows by
# (peak level)^2 x seconds, and only while the track plays in an element (measured: it stays 0 until attached).
# Measured per second of audio: the Python SDK peer's 440 Hz sine at 0.3 of full scale 0.09 (Chromium and Firefox),
# Chromium's raw fake microphone 0.20-0.39, a muted sender exactly 0.0. Loud is 9x under the quietest.
AUDIO_ENERGY_PER_S_LOUD = 0.01

# For a Web Worker (run with test_worker_bridge.run_worker before a test's own code; its globals stay), or a page of
# our own without pytest-pyodide: the proxy baseline, the WARNING collector, wait_until and the received video's
# width_reaches / frames_in, without PRELUDE's room helpers. Not a format string.
WORKER_PRELUDE = """
import asyncio, json, js, logging
from livekit_pyweb._browser import live_proxy_count

base_proxies = live_proxy_count()
log = []        # room events as [name, identity-or-sid-or-str of each argument] (PRELUDE's record())
logged = []     # records of the livekit_pyweb loggers at WARNING and above

class _Collect(logging.Handler):
    def emit(self, record):
        logged.append(f"{record.levelname} {record.name}: {record.getMessage()}")

logging.getLogger("livekit_pyweb").addHandler(_Collect(logging.WARNING))

async def wait_until(predicate, timeout, what):
    deadline = js.performance.now() + timeout * 1000
    while not predicate():
        if js.performance.now() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; log={log}; logged={logged}")
        await asyncio.sleep(0.05)

async def width_reaches(track, test, what, timeout=25.0, interval=0.1):
    # the received video's widths (inbound frameWidth), read every `interval` s until one passes `test`
    widths = []
    deadline = js.performance.now() + timeout * 1000
    while js.performance.now() < deadline:
        widths.append(int((await track.get_stats()).get("frameWidth", 0)))
        if test(widths[-1]):
            return widths
        await asyncio.sleep(interval)
    raise AssertionError(f"the received width never became {what}: {widths[-20:]}")

async def frames_in(track, seconds, settle=1.0):
    # frames of the received video decoded over `seconds`, counted after `settle` seconds (what was in flight is
    # decoded by then)
    async def frames():
        return int((await track.get_stats()).get("framesDecoded", 0))
    await asyncio.sleep(settle)
    first = await frames()
    await asyncio.sleep(seconds)
    return (await frames()) - first

json.dumps(base_proxies)
"""

# The test page's helpers (open_page): WORKER_PRELUDE's, and joining, recording and finding a room's tracks.
PRELUDE = WORKER_PRELUDE + """
import enum
from livekit_pyweb import AudioCaptureOptions, Room, RoomOptions, TrackSource
from livekit_pyweb._browser import live_peer_connection_count

def describe(a):
    if isinstance(a, enum.Enum):
        return a.name
    return getattr(a, "identity", None) or getattr(a, "sid", None) or str(a)

def state_name(room):  # ConnectionState.CONN_CONNECTED -> "connected"
    return room.connection_state.name.removeprefix("CONN_").lower()

def source_name(publication):  # TrackSource.SOURCE_CAMERA -> "CAMERA"
    return publication.source.name.removeprefix("SOURCE_")

def record(room):
    def make(name):
        def handler(*args):
            log.append([name] + [describe(a) for a in args])
        return handler
    for n in ("connected", "participant_connected", "participant_disconnected", "track_published",
              "track_unpublished", "track_subscribed", "track_unsubscribed", "track_muted", "track_unmuted",
              "local_track_published", "local_track_unpublished", "room_metadata_changed", "disconnected"):
        room.on(n, make(n))

async def remote_track(identity, kind, timeout=30.0):
    deadline = js.performance.now() + timeout * 1000
    while js.performance.now() < deadline:
        participant = room.remote_participants.get(identity)
        if participant is not None:
            for pub in participant.track_publications.values():
                if pub.track is not None and pub.kind.name == "KIND_" + kind:
                    return pub.track
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} track from {identity}; log={log}")

async def audio_energy(track):
    stats = await track.get_stats()
    return float(stats.get("totalAudioEnergy", 0.0)), float(stats.get("totalSamplesDuration", 0.0))

# Chromium's fake microphone beeps. Its audio processing (echo cancellation, noise suppression, gain control)
# reshapes those beeps unpredictably once the page also plays audio (measured: in the interop test our beeps fell to
# silence after ~10 s while the page played the other tab's identical beeps), so the tests capture it raw.
RAW_MIC = AudioCaptureOptions(echo_cancellation=False, noise_suppression=False, auto_gain_control=False)

json.dumps(base_proxies)
"""


def open_page(selenium: Any) -> None:
    """Load livekit_pyweb into the test page and define the helpers of PRELUDE there."""
    selenium.load_package(["livekit-pyweb"])
    run_py(selenium, PRELUDE)


def open_python(selenium: Any, dist_url: str, where: str) -> Callable[[str], Any]:
    """Our SDK ready where a test that runs in both places asks: ``"main"``, the page's main thread (open_page), or
    ``"worker"``, a worker on the bridge (WORKER_PRELUDE run there). Returns the function that runs Python there
    (its last expression a JSON string) and gives back the decoded value."""
    if where == "main":
        open_page(selenium)
        return lambda code: run_py(selenium, code)
    from .test_worker_bridge import open_worker_page, run_worker

    driver = selenium.driver
    open_worker_page(driver, dist_url)
    run_worker(driver, WORKER_PRELUDE)
    return lambda code: run_worker(driver, code)


JOIN = """
room = Room(RoomOptions(single_peer_connection={single}))
record(room)
t0 = js.performance.now()
await room.connect({url!r}, {token!r})
connect_ms = js.performance.now() - t0
await room.local_participant.set_camera_enabled(True)
await room.local_participant.set_microphone_enabled(True, RAW_MIC)
json.dumps({{"connect_ms": connect_ms, "room": room.name, "identity": room.local_participant.identity,
            "remotes": sorted(room.remote_participants), "state": state_name(room),
            "published": sorted(source_name(p) for p in room.local_participant.track_publications.values()),
            "sids": {{source_name(p): p.sid for p in room.local_participant.track_publications.values()}},
            "single_pc": room._engine.single_pc}})
"""

# Decode the peer's video (framesDecoded keeps growing on our <video>) and play its audio in an <audio> element,
# measuring the received audio energy over at least one second of playout.
DECODE = """
video = await remote_track({peer!r}, "VIDEO")
audio = await remote_track({peer!r}, "AUDIO")
element = video.attach()
js.document.body.append(element)
audio_element = audio.attach()
js.document.body.append(audio_element)
energy0 = None
frames = []
for _ in range(80):
    stats = await video.get_stats()
    frames.append(int(stats.get("framesDecoded", 0)))
    energy = await audio_energy(audio)
    if energy0 is None and energy[1] > 0:
        energy0 = energy
    if (frames[-1] >= 30 and len([f for f in frames if f > 0]) >= 3 and energy0 is not None
            and energy[1] - energy0[1] >= 1.0):
        break
    await asyncio.sleep(0.25)
audio_stats = await audio.get_stats()
seconds = energy[1] - energy0[1] if energy0 else 0.0
json.dumps({{"frames": frames, "element_width": int(element.videoWidth), "tag": str(element.tagName),
            "audio_bytes": int(audio_stats.get("bytesReceived", 0)), "audio_seconds": seconds,
            "energy_per_s": (energy[0] - energy0[0]) / seconds if seconds else 0.0, "log": log}})
"""


def assert_decoded(result: dict[str, Any]) -> None:
    """What DECODE measured: video frames decoded and growing, audio played with sound in it."""
    decoded = [f for f in result["frames"] if f > 0]
    assert len(decoded) >= 3 and decoded[-1] > decoded[0] and decoded[-1] >= 30, result["frames"]
    assert result["tag"] == "VIDEO" and result["element_width"] > 0
    assert result["audio_bytes"] > 0
    assert result["audio_seconds"] >= 1.0, result
    assert result["energy_per_s"] >= AUDIO_ENERGY_PER_S_LOUD, result


SETTLED_LOG = """
# Work the room has started (e.g. matching an arriving track to its publication, which retries for up to 3 s) may
# still log: let it finish first.
await wait_until(lambda: all(task.done() for task in room._tasks), 5, "the room's pending tasks")
json.dumps(logged)
"""


def open_js_peer_tab(driver: Any, base_url: str, token: str) -> str:
    """A new tab (the driver stays on it) with web/js-peer.html, livekit-client joined with ``token`` capturing
    nothing, once it is connected; returns the tab's handle."""
    driver.switch_to.new_window("tab")
    driver.get(base_url + "/js-peer.html?" + urllib.parse.urlencode({"url": LIVEKIT_URL, "token": token, "media": "0"}))
    deadline = time.monotonic() + 30
    while driver.execute_script("return (window.jsPeer || {}).state") != "connected":
        assert time.monotonic() < deadline, driver.execute_script("return JSON.stringify(window.jsPeer)")
        time.sleep(0.2)
    return str(driver.current_window_handle)


def logged_warnings(selenium: Any) -> list[str]:
    """What the page's livekit_pyweb loggers recorded at WARNING or above (PRELUDE's handler), once the room's
    pending tasks are done."""
    return list(run_py(selenium, SETTLED_LOG))


# -- a page of our own in a Chromium of a test's own ------------------------------------------------------------------
# web/devices.html: Pyodide booted by web/loader.mjs on the page's main thread (window.lkpwPyodide), the direct path,
# in a Chromium whose flags a test changes (autoplay policy, fake devices, a fake microphone file).
RUN_ON_PAGE = """
const done = arguments[arguments.length - 1];
window.lkpwPyodide.runPythonAsync(arguments[0]).then((v) => done(String(v)), (e) => done("ERROR " + e));
"""


def run_on_page(driver: Any, code: str, **values: Any) -> Any:
    """Run async Python on the main thread of :func:`open_main_thread_page`'s page; its last expression is a JSON
    string. ``values`` are defined first (as Python literals)."""
    prefix = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    out = driver.execute_async_script(RUN_ON_PAGE, prefix + code)
    assert not out.startswith("ERROR"), out
    return json.loads(out)


def open_main_thread_page(driver: Any, dist_url: str) -> None:
    """Load web/devices.html and wait until its Pyodide (with livekit_pyweb) is booted."""
    driver.get(f"{dist_url}/devices.html")
    deadline = time.monotonic() + 90
    while driver.execute_script("return window.lkpw.state") == "booting":
        assert time.monotonic() < deadline, "Pyodide did not boot"
        time.sleep(0.2)
    assert driver.execute_script("return window.lkpw.state") == "loaded", driver.execute_script("return window.lkpw")


@contextlib.contextmanager
def own_chromium(replace: dict[str, str] | None = None, add: tuple[str, ...] = (),
                 script_timeout: float = 180) -> Iterator[Any]:
    """A Chromium of one's own (``with own_chromium(...) as driver``, in a test's fixture or a bench script): the
    shared flags (tests/chromium_flags.py), each flag named in ``replace`` (``--name``, with or without its
    ``=value``) replaced by its value, ``add`` appended; its own profile, removed when it has quit."""
    from chromium_flags import CHROMEDRIVER, CHROMIUM_BINARY, CHROMIUM_FLAGS, chromium_flags
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    flags = list(CHROMIUM_FLAGS)
    for name, replacement in (replace or {}).items():
        matches = [i for i, f in enumerate(flags) if f == name or f.startswith(name.split("=")[0] + "=")]
        assert len(matches) == 1, (name, flags)
        flags[matches[0]] = replacement
    profile = tempfile.mkdtemp(prefix="livekit-pyweb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BINARY
    for argument in chromium_flags(profile, base=[*flags, *add]):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(script_timeout)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
