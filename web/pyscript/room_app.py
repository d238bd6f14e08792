"""PyScript demo: join a LiveKit room, publish camera + microphone, show everyone else.

The same file runs in ``main.html`` (``<script type="py">``, the main thread) and in ``worker.html``
(``<script type="py" worker>``, a Web Worker whose Room drives the page through livekit_pyweb's bridge: the page
loads ``/lkpw-host.mjs`` and calls ``serveDiscovery()``). Only ``js`` and ``pyodide.ffi`` are used, never
``pyscript``.

What differs between the two places, and how this file copes:

* ``js.document`` is the page's document on the main thread; in a PyScript worker PyScript makes it a synchronous
  proxy of the page's document (that needs cross-origin isolation: the server sends COOP/COEP for /pyscript/).
  Every page access below goes through ``js.document``, so it is the same code in both.
* ``track.attach()`` returns the ``<video>``/``<audio>`` element on the main thread, and in a worker a
  ``BridgeElement``, a handle the page's host renders: ``track.attach_to(css_selector)`` puts a playing element in
  place the same way in both, so this file never branches on it.
* Relative URLs: a PyScript worker's own location is a ``blob:`` URL, so the token URL is built from the page's
  origin.

Connection parameters come from the page URL: ``?url=&token=``, or ``?room=&identity=`` to fetch a development token
from ``/token`` (``build/demo.py``). State for people and tests is JSON in ``<pre id="lkpw-state">`` (see
``publish_state()``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from typing import Any

import js

from livekit_pyweb import LiveKitError, Room, RoomOptions, TrackKind

logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
log = logging.getLogger("room_app")

IN_WORKER = hasattr(js, "WorkerGlobalScope")  # the interface exists only inside workers
document = js.document  # the page's document (PyScript's proxy of it in a worker)

state: dict[str, Any] = {"mode": "worker" if IN_WORKER else "main", "state": "booting", "identity": None,
                         "room": None, "published": [], "remote": {}, "error": None, "timings": {}}


def publish_state() -> None:
    """Write ``state`` as JSON into ``#lkpw-state``.

    A DOM element rather than a ``window`` property or a BroadcastChannel: it is per page by construction (two
    tabs never mix), it is a value not a message (a reader that comes late still sees the latest, nothing is lost
    before a listener exists), a string crosses PyScript's worker proxy as a copy (no proxy to own or destroy), it
    needs no JavaScript on the page, and people see it too. In a worker each write is one synchronous round trip to
    the page: a few per second.
    """
    document.getElementById("lkpw-state").textContent = json.dumps(state, sort_keys=True)


def status(text: str) -> None:
    document.getElementById("status").textContent = text
    log.info("%s", text)


def page_now() -> float:
    """Milliseconds since the page's navigation start (the worker's own clock starts later)."""
    return float(document.defaultView.performance.now())


def add_tile(tile_id: str, label: str, *, hidden: bool = False, **data: str) -> None:
    tile = document.createElement("div")
    tile.id = tile_id
    tile.className = "tile"
    for key, value in data.items():
        tile.setAttribute(f"data-{key}", value)
    if hidden:
        tile.style.display = "none"
    else:
        caption = document.createElement("span")
        caption.textContent = label
        tile.append(caption)
    document.getElementById("tiles").append(tile)


def remove_tile(tile_id: str) -> None:
    tile = document.getElementById(tile_id)
    if tile:
        tile.remove()


async def connection_params() -> tuple[str, str]:
    location = document.location
    query = dict(urllib.parse.parse_qsl(str(location.search).lstrip("?")))
    if query.get("url") and query.get("token"):
        return query["url"], query["token"]
    room = query.get("room", "demo")
    identity = query.get("identity", f"pyscript-{state['mode']}-{int(js.Math.random() * 1e6)}")
    response = await js.fetch(f"{location.origin}/token?{urllib.parse.urlencode({'room': room, 'identity': identity})}")
    if not response.ok:
        raise LiveKitError(f"the demo server gave no token (HTTP {response.status})")
    data = (await response.json()).to_py()
    return data["url"], data["token"]


async def main() -> None:
    state["timings"]["pythonReadyMs"] = page_now()
    state["state"] = "loaded"
    publish_state()
    url, token = await connection_params()
    room = Room(RoomOptions())
    subscribed: dict[str, Any] = {}  # sid -> remote track

    @room.on("track_subscribed")
    def on_track(track: Any, publication: Any, participant: Any) -> None:
        kind = track.kind.name.removeprefix("KIND_").lower()
        tile_id = f"tile-{track.sid}"
        add_tile(tile_id, f"{participant.identity} · {kind}", hidden=track.kind != TrackKind.KIND_VIDEO,
                 remote=participant.identity, kind=kind)
        track.attach_to(f"#{tile_id}")
        subscribed[track.sid] = track
        state["remote"][track.sid] = {"identity": participant.identity, "kind": kind}
        publish_state()

    @room.on("track_unsubscribed")
    def on_untrack(track: Any, publication: Any, participant: Any) -> None:
        track.detach()
        remove_tile(f"tile-{track.sid}")
        subscribed.pop(track.sid, None)
        state["remote"].pop(track.sid, None)
        publish_state()

    @room.on("disconnected")
    def on_disconnected(reason: Any) -> None:
        state["state"] = "disconnected"
        status(f"disconnected: {getattr(reason, 'name', reason)}")
        publish_state()

    status("joining…")
    t_connect = page_now()
    try:
        await room.connect(url, token)
    except LiveKitError as exc:
        state["state"] = "error"
        state["error"] = f"{type(exc).__name__}: {exc}"
        status(f"could not join: {exc}")
        publish_state()
        return
    state["timings"]["connectMs"] = page_now() - t_connect
    state["identity"] = room.local_participant.identity
    state["room"] = room.name
    state["state"] = "connected"
    publish_state()
    status(f"joined {room.name!r} as {room.local_participant.identity!r}; publishing camera and microphone…")

    camera = await room.local_participant.set_camera_enabled(True)
    await room.local_participant.set_microphone_enabled(True)
    if camera is not None and camera.track is not None:
        add_tile("tile-local", f"{room.local_participant.identity} (you)", local="1", kind="video")
        camera.track.attach_to("#tile-local")
    state["published"] = sorted(p.source.name.removeprefix("SOURCE_")
                                for p in room.local_participant.track_publications.values())
    status(f"in {room.name!r} as {room.local_participant.identity!r} ({state['mode']} thread): "
           f"publishing {', '.join(state['published']).lower()}")

    # Mirror what we receive (the receivers' inbound-rtp statistics), for people and tests.
    while room.isconnected():
        for sid, track in list(subscribed.items()):
            stats = await track.get_stats()
            entry = state["remote"].get(sid)
            if entry is None:
                continue
            if track.kind == TrackKind.KIND_VIDEO:
                entry["framesDecoded"] = int(stats.get("framesDecoded", 0))
                entry["frameWidth"] = int(stats.get("frameWidth", 0))
            else:
                entry["bytesReceived"] = int(stats.get("bytesReceived", 0))
                entry["totalAudioEnergy"] = float(stats.get("totalAudioEnergy", 0.0))
                entry["totalSamplesDuration"] = float(stats.get("totalSamplesDuration", 0.0))
        publish_state()
        await asyncio.sleep(0.5)


async def run() -> None:
    try:
        await main()
    except Exception as exc:  # shown in the page and the state (the demo has no other place to report)
        log.exception("room_app failed")
        state["state"] = "error"
        state["error"] = f"{type(exc).__name__}: {exc}"
        status(f"error: {state['error']}")
        publish_state()


# Not a top-level await: PyScript runs this file to the end first, then the event loop runs the task.
_task = asyncio.ensure_future(run())
