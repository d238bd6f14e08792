"""The demo page's Python: join, publish camera + microphone, render everyone else.

State for people and tests is mirrored into ``window.lkpw`` (state, timings, per remote track: decoded frames for
video; bytes, audio energy, sample duration and level for audio).
Connection parameters come from the page URL: ``?url=&token=``, or ``?room=&identity=`` to fetch a development
token from the demo server's ``/token`` endpoint (``build/demo.py``). ``&audio_processing=0`` captures the microphone
without echo cancellation, noise suppression and gain control (the e2e tests measure what arrives).
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse

import js
from pyodide.ffi import create_proxy, to_js

from livekit_pyweb import AudioCaptureOptions, LiveKitError, Room, RoomOptions, TrackKind

# Python log records go to the browser console (Pyodide prints stderr there).
logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")

state = js.window.lkpw
status = js.document.getElementById("status")
tiles = js.document.getElementById("tiles")


def show(text: str) -> None:
    status.textContent = text
    state.log.push(text)


async def connection_params() -> tuple[str, str]:
    query = dict(urllib.parse.parse_qsl(str(js.location.search).lstrip("?")))
    if query.get("url") and query.get("token"):
        return query["url"], query["token"]
    room = query.get("room", "demo")
    identity = query.get("identity", f"pyweb-{int(js.Math.random() * 1e6)}")
    response = await js.fetch(f"./token?{urllib.parse.urlencode({'room': room, 'identity': identity})}")
    if not response.ok:
        raise LiveKitError(f"the demo server gave no token (HTTP {response.status})")
    data = (await response.json()).to_py()
    return data["url"], data["token"]


async def main() -> None:
    state.timings.appStartAtMs = js.performance.now()  # the app imported (bench/trace_boot.py shows the gap)
    url, token = await connection_params()
    room = Room(RoomOptions())
    js.window.lkpwRoom = room  # for debugging from the console: pyodide proxies
    t_connect = js.performance.now()
    first_frame = [False]  # the first remote video frame is timed with requestVideoFrameCallback
    frame_proxies = []  # callbacks still waiting for a frame; destroyed when we leave

    @room.on("track_subscribed")
    def on_track(track, publication, participant):
        tile = js.document.createElement("div")
        tile.className = "tile"
        tile.id = f"tile-{track.sid}"
        element = track.attach()
        if track.kind == TrackKind.KIND_VIDEO and not first_frame[0]:

            def on_frame(_now, _meta):
                if not first_frame[0]:
                    first_frame[0] = True
                    state.timings.firstRemoteFrameMs = js.performance.now() - t_connect
                    state.timings.firstFrameAtMs = js.performance.now()
                frame_proxies.remove(frame_proxy)
                frame_proxy.destroy()

            frame_proxy = create_proxy(on_frame)
            frame_proxies.append(frame_proxy)
            element.requestVideoFrameCallback(frame_proxy)
        if track.kind == TrackKind.KIND_VIDEO:
            label = js.document.createElement("span")
            label.textContent = f"{participant.identity} · {publication.source.name.removeprefix("SOURCE_").lower()}"
            tile.append(element, label)
            tiles.append(tile)
        else:
            tile.append(element)
            tile.style.display = "none"
            tiles.append(tile)
        entry = {"identity": participant.identity, "kind": track.kind.name.removeprefix("KIND_").lower(), "framesDecoded": 0}
        js.Reflect.set(state.remote, track.sid, to_js(entry, dict_converter=js.Object.fromEntries))

    @room.on("track_unsubscribed")
    def on_untrack(track, publication, participant):
        tile = js.document.getElementById(f"tile-{track.sid}")
        if tile:
            tile.remove()
        track.detach()

    @room.on("disconnected")
    def on_disconnected(reason):
        state.state = "disconnected"
        show(f"disconnected: {reason}")

    try:
        await room.connect(url, token)
    except LiveKitError as exc:
        state.state = "error"
        state.error = f"{type(exc).__name__}: {exc}"
        show(f"could not join: {exc}")
        return
    state.timings.connectMs = js.performance.now() - t_connect
    state.identity = room.local_participant.identity
    state.state = "connected"
    show(f"joined room {room.name!r} as {room.local_participant.identity!r}; publishing camera and microphone…")
    try:
        camera = await room.local_participant.set_camera_enabled(True)
        query = dict(urllib.parse.parse_qsl(str(js.location.search).lstrip("?")))
        raw = query.get("audio_processing") == "0"
        capture = AudioCaptureOptions(echo_cancellation=False, noise_suppression=False, auto_gain_control=False) \
            if raw else None
        await room.local_participant.set_microphone_enabled(True, capture)
        if camera is not None and camera.track is not None:
            tile = js.document.createElement("div")
            tile.className = "tile"
            label = js.document.createElement("span")
            label.textContent = f"{room.local_participant.identity} (you)"
            tile.append(camera.track.attach(), label)
            tiles.prepend(tile)
        state.published = True
        show(f"in room {room.name!r} as {room.local_participant.identity!r}: publishing camera + microphone")
    except LiveKitError as exc:
        state.error = f"{type(exc).__name__}: {exc}"
        show(f"in room {room.name!r}; publishing failed: {exc}")

    leave = js.document.getElementById("leave")
    leave.disabled = False

    def on_leave(_event):
        asyncio.ensure_future(room.disconnect())

    leave_proxy = create_proxy(on_leave)
    leave.addEventListener("click", leave_proxy)

    # Mirror decode progress for people and tests.
    while room.isconnected():
        for participant in room.remote_participants.values():
            for publication in participant.track_publications.values():
                track = publication.track
                if track is None or not js.Object.hasOwn(state.remote, track.sid):
                    continue
                stats = await track.get_stats()
                entry = js.Reflect.get(state.remote, track.sid)
                if track.kind == TrackKind.KIND_VIDEO:
                    entry.framesDecoded = int(stats.get("framesDecoded", 0))
                else:
                    entry.bytesReceived = int(stats.get("bytesReceived", 0))
                    # Measured at playout (the tile's <audio> element): energy grows by level^2 per second.
                    entry.totalAudioEnergy = float(stats.get("totalAudioEnergy", 0.0))
                    entry.totalSamplesDuration = float(stats.get("totalSamplesDuration", 0.0))
                    entry.audioLevel = float(stats.get("audioLevel", 0.0))
        await asyncio.sleep(0.5)
    leave.removeEventListener("click", leave_proxy)
    leave_proxy.destroy()
    for proxy in frame_proxies:
        proxy.destroy()
    frame_proxies.clear()
