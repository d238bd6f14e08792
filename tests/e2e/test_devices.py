"""Devices (issue 9 item 6) in a Chromium with several fake cameras (``--use-fake-device-for-media-stream=device-count=3``),
against the real server. One page, two rooms: ``publisher`` publishes camera and microphone, ``room`` subscribes.

* ``Room.get_local_devices()`` before any room: two cameras, several microphones and outputs, with labels;
* ``switch_active_device("videoinput", other)`` while published: the publication and its sid stay, the subscriber
  keeps the same track and keeps decoding frames, the sender now sends the new capture (replaceTrack), the old one
  ended, ``getSettings().deviceId`` is the new camera; ``active_device_changed`` in order after
  ``local_track_published``;
* the same for the microphone (the subscriber keeps hearing it: audio energy at playout);
* ``switch_active_device("audiooutput", id)``: ``sinkId`` of the subscriber's audio element reads back, and of an
  element attached later;
* a camera that does not exist (exact deviceId): ``DeviceError`` NotFound (OverconstrainedError), in
  ``last_camera_error`` and ``media_devices_error``, and the camera goes on; a denied camera permission (a Chromium
  whose fake prompt denies): ``DeviceError`` PermissionDenied from ``set_camera_enabled`` (in ``last_camera_error``
  and ``media_devices_error``) and from ``get_local_devices``;
* the camera restarted at another size (480x270 after 640x360; measured: asked for 800x450, fake_device_2 gave 640x450): the
  sender's encodings are recomputed (q scaled by 1.5 instead of 2) and the subscriber receives 480 wide;
* through the worker bridge: enumerate, switch the camera while published (sid kept, frames go on), a missing
  camera typed the same, ``restart_track(options)`` back to the first camera, audio output.

DeviceInUse and a real devicechange cannot be caused headless: tests/unit/test_devices.py proves them (and the
default-device rules a device change applies) on the port fakes; here the page's navigator.mediaDevices dispatches
a devicechange event, which proves the listeners (direct, and pushed by the page host across the bridge).

Why three cameras: Chromium's ``fake_device_1`` is a depth camera (16-bit grey) whose frames WebRTC never encodes
(measured here: 0 frames encoded, published first or switched to with replaceTrack, while a <video> plays it at
20 fps); ``fake_device_0`` and ``fake_device_2`` encode. The switch goes between those two.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token
from .page import (AUDIO_ENERGY_PER_S_LOUD, PRELUDE, SETTLED_LOG, WORKER_PRELUDE, open_main_thread_page, own_chromium,
                   run_on_page)

ENCODABLE_CAMERAS = ("fake_device_0", "fake_device_2")


@pytest.fixture
def cameras_driver() -> Any:
    """The shared flags, with three fake cameras."""
    flag = "--use-fake-device-for-media-stream"
    with own_chromium({flag: f"{flag}=device-count=3"}) as driver:
        yield driver


SETUP = """
from livekit_pyweb import DeviceError, VideoCaptureOptions
t0 = js.performance.now()
listed = await Room.get_local_devices()  # no room yet: the page's own navigator.mediaDevices
list_ms = js.performance.now() - t0
kinds = {}
for d in listed:
    kinds.setdefault(d.kind, []).append([d.device_id, d.label, d.group_id])

publisher = Room()
pub_events = []
def _on(name):
    return lambda *args: pub_events.append([name] + [describe(a) for a in args])
for name in ("local_track_published", "active_device_changed"):
    publisher.on(name, _on(name))
publisher.on("media_devices_error", lambda error, kind: pub_events.append(
    ["media_devices_error", error.reason.name, error.name, kind]))
await publisher.connect(URL, PUB_TOKEN)
cam_pub = await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(width=640, height=360))
mic_pub = await publisher.local_participant.set_microphone_enabled(True, RAW_MIC)

room = Room()
record(room)
await room.connect(URL, SUB_TOKEN)
video = await remote_track("publisher", "VIDEO")
audio = await remote_track("publisher", "AUDIO")
velement = video.attach()
js.document.body.append(velement)
aelement = audio.attach()
js.document.body.append(aelement)

async def frames():
    return int((await video.get_stats()).get("framesDecoded", 0))

async def frames_after(count, timeout=20.0):
    # frames decoded from now on, waiting until at least `count` more arrived
    start = await frames()
    deadline = js.performance.now() + timeout * 1000
    series = []
    while js.performance.now() < deadline:
        await asyncio.sleep(0.25)
        series.append(await frames() - start)
        if series[-1] >= count:
            break
    return series

async def heard(seconds=1.5, timeout=15.0):
    e0 = await audio_energy(audio)
    deadline = js.performance.now() + timeout * 1000
    e1 = e0
    while js.performance.now() < deadline and e1[1] - e0[1] < seconds:
        await asyncio.sleep(0.1)
        e1 = await audio_energy(audio)
    took = e1[1] - e0[1]
    return {"seconds": took, "energy_per_s": (e1[0] - e0[0]) / took if took else 0.0}

before = await frames_after(15)
json.dumps({"kinds": kinds, "list_ms": list_ms, "cam": cam_pub.track.get_device_id(),
            "mic": mic_pub.track.get_device_id(), "cam_sid": cam_pub.sid, "mic_sid": mic_pub.sid,
            "active": [publisher.get_active_device(k) for k in ("videoinput", "audioinput", "audiooutput")],
            "pub_events": pub_events, "frames_before": before[-1]})
"""

SWITCH_CAMERA = """
sub_pub = room.remote_participants["publisher"].track_publications[cam_pub.sid]
old_native = cam_pub.track.media_stream_track
pub_events.clear()
t0 = js.performance.now()
ok = await publisher.switch_active_device("videoinput", NEW_CAM)
switch_ms = js.performance.now() - t0
native = cam_pub.track.media_stream_track
sending = cam_pub._sender.transceiver.sender.track  # what the peer connection sends now
after = await frames_after(60)
json.dumps({"ok": ok, "switch_ms": switch_ms, "frames_after": after,
            "settings_device": str(native.getSettings().deviceId), "device": cam_pub.track.get_device_id(),
            "sending_new": str(sending.id) == str(native.id), "old_state": str(old_native.readyState),
            "new_state": str(native.readyState), "sid": cam_pub.sid,
            "published": sorted(publisher.local_participant.track_publications),
            "same_remote_track": sub_pub.track is video and video.sid == cam_pub.sid,
            "active": publisher.get_active_device("videoinput"), "pub_events": pub_events,
            "sub_log": [e[0] for e in log if e[0] in ("track_unsubscribed", "track_unpublished", "track_subscribed")]})
"""

SWITCH_MIC = """
old_native = mic_pub.track.media_stream_track
pub_events.clear()
ok = await publisher.switch_active_device("audioinput", NEW_MIC)
native = mic_pub.track.media_stream_track
sending = mic_pub._sender.transceiver.sender.track
sound = await heard()
json.dumps({"ok": ok, "settings_device": str(native.getSettings().deviceId), "sid": mic_pub.sid,
            "sending_new": str(sending.id) == str(native.id), "old_state": str(old_native.readyState),
            "same_remote_track": room.remote_participants["publisher"].track_publications[mic_pub.sid].track is audio,
            "sound": sound, "active": publisher.get_active_device("audioinput"), "pub_events": pub_events})
"""

SINK = """
sub_events = []
room.on("active_device_changed", lambda kind, device_id: sub_events.append([kind, device_id]))
before_sink = str(aelement.sinkId)
ok = await room.switch_active_device("audiooutput", OUTPUT)
now_sink = str(aelement.sinkId)
later = audio.attach()  # attached after the switch: the room's output applies to it too
js.document.body.append(later)
await wait_until(lambda: str(later.sinkId) == OUTPUT, 5, "the later element's sinkId")
sound = await heard()
try:
    await room.switch_active_device("audiooutput", "no-such-output")
    refused = None
except DeviceError as exc:
    refused = [exc.reason.name, exc.name]
json.dumps({"refused": refused, "after_refusal": [str(aelement.sinkId), room.get_active_device("audiooutput")],
            "ok": ok, "before": before_sink, "now": now_sink, "later": str(later.sinkId),
            "track_sink": audio.sink_id, "active": room.get_active_device("audiooutput"), "events": sub_events,
            "sound": sound})
"""

MISSING_CAMERA = """
pub_events.clear()
native = cam_pub.track.media_stream_track
try:
    await publisher.switch_active_device("videoinput", "no-such-camera")
    failure = None
except DeviceError as exc:
    failure = exc
after = await frames_after(30)
json.dumps({"reason": failure and failure.reason.name, "name": failure and failure.name,
            "last_camera_error_is_it": publisher.local_participant.last_camera_error is failure,
            "last_microphone_error": repr(publisher.local_participant.last_microphone_error),
            "pub_events": pub_events, "same_capture": cam_pub.track.media_stream_track is native or
            str(cam_pub.track.media_stream_track.id) == str(native.id), "state": str(native.readyState),
            "device": cam_pub.track.get_device_id(), "active": publisher.get_active_device("videoinput"),
            "frames_after": after})
"""

RESIZE = """
# the same camera at another size: the encodings are recomputed for it (livekit-client's refreshSenderEncodings)
scales_before = [e.get("scaleResolutionDownBy") for e in (await cam_pub._sender.get_parameters())["encodings"]]
await cam_pub.track.restart_track(VideoCaptureOptions(width=480, height=270, device_id=NEW_CAM))
scales_after = [e.get("scaleResolutionDownBy") for e in (await cam_pub._sender.get_parameters())["encodings"]]
widths = []
deadline = js.performance.now() + 20000
while js.performance.now() < deadline:
    widths.append(int((await video.get_stats()).get("frameWidth", 0)))
    if widths[-1] == 480:
        break
    await asyncio.sleep(0.25)
json.dumps({"before": scales_before, "after": scales_after, "dims": list(cam_pub.track.dimensions),
            "widths": widths[-5:], "device": cam_pub.track.get_device_id(), "sid_kept": cam_pub.sid == video.sid})
"""

DEVICECHANGE = """
# Headless Chromium has no device to plug in: the page's own navigator.mediaDevices dispatches a devicechange event,
# which reaches the rooms through their real listeners (no device changed, so no default to follow).
changed = []
publisher.on("media_devices_changed", lambda: changed.append("publisher"))
room.on("media_devices_changed", lambda: changed.append("subscriber"))
js.navigator.mediaDevices.dispatchEvent(js.Event.new("devicechange"))
await wait_until(lambda: len(changed) == 2, 5, "media_devices_changed in both rooms")
json.dumps({"changed": sorted(changed), "active": [publisher.get_active_device(k) for k in ("videoinput", "audioinput")]})
"""

END = """
state = {}
await room.disconnect()
await publisher.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
json.dumps(state)
"""


def test_devices_enumerate_switch_output_and_failures(cameras_driver, room_name, dist_url):
    driver = cameras_driver
    open_main_thread_page(driver, dist_url)
    run_on_page(driver, PRELUDE)
    setup = run_on_page(driver, SETUP, URL=LIVEKIT_URL, PUB_TOKEN=make_token("publisher", room_name),
                 SUB_TOKEN=make_token("subscriber", room_name))
    kinds = setup["kinds"]
    cams = [d for d, label, _ in kinds["videoinput"]]
    encodable = [d for d, label, _ in kinds["videoinput"] if label in ENCODABLE_CAMERAS]
    mics = [d for d, label, _ in kinds["audioinput"] if d not in ("default", "communications")]
    outputs = [d for d, label, _ in kinds["audiooutput"] if d not in ("default", "communications")]
    assert len(cams) == 3 and len(encodable) == 2 and len(mics) >= 2 and outputs, kinds
    assert all(label for group in kinds.values() for _, label, _ in group), kinds  # labelled (permission asked)
    assert setup["cam"] in cams and setup["active"][:2] == [setup["cam"], setup["mic"]], setup
    assert setup["active"][2] is None
    # Publishing made each device the active one, right after its local_track_published (livekit-client's order).
    assert setup["pub_events"] == [["local_track_published", setup["cam_sid"], setup["cam_sid"]],
                                   ["active_device_changed", "videoinput", setup["cam"]],
                                   ["local_track_published", setup["mic_sid"], setup["mic_sid"]],
                                   ["active_device_changed", "audioinput", setup["mic"]]], setup
    assert setup["frames_before"] >= 15, setup

    assert setup["cam"] == encodable[0], setup  # the default camera: fake_device_0
    new_cam = encodable[1]
    cam = run_on_page(driver, SWITCH_CAMERA, NEW_CAM=new_cam)
    assert cam["ok"] is True and cam["settings_device"] == new_cam and cam["device"] == new_cam, cam
    assert cam["sending_new"] is True and cam["old_state"] == "ended" and cam["new_state"] == "live", cam
    assert cam["sid"] == setup["cam_sid"] and cam["published"] == sorted([setup["cam_sid"], setup["mic_sid"]]), cam
    assert cam["same_remote_track"] is True and cam["sub_log"] == ["track_subscribed", "track_subscribed"], cam
    assert cam["frames_after"][-1] >= 60, cam  # the subscriber keeps decoding, now the new camera's frames
    assert cam["pub_events"] == [["active_device_changed", "videoinput", new_cam]] and cam["active"] == new_cam, cam

    new_mic = next(m for m in mics if m != setup["mic"])
    mic = run_on_page(driver, SWITCH_MIC, NEW_MIC=new_mic)
    assert mic["ok"] is True and mic["settings_device"] == new_mic and mic["active"] == new_mic, mic
    assert mic["sending_new"] is True and mic["old_state"] == "ended" and mic["sid"] == setup["mic_sid"], mic
    assert mic["same_remote_track"] is True, mic
    assert mic["sound"]["seconds"] >= 1.0 and mic["sound"]["energy_per_s"] >= AUDIO_ENERGY_PER_S_LOUD, mic
    assert mic["pub_events"] == [["active_device_changed", "audioinput", new_mic]], mic

    output = outputs[-1]
    sink = run_on_page(driver, SINK, OUTPUT=output)
    assert sink["ok"] is True and sink["before"] == "" and sink["now"] == output and sink["later"] == output, sink
    assert sink["track_sink"] == output and sink["active"] == output and sink["events"] == [["audiooutput", output]]
    assert sink["sound"]["seconds"] >= 1.0, sink  # still playing (on the chosen output)
    # an output that does not exist: typed, and the chosen one stays
    assert sink["refused"] == ["NotFound", "NotFoundError"] and sink["after_refusal"] == [output, output], sink

    missing = run_on_page(driver, MISSING_CAMERA)
    assert missing["reason"] == "NotFound" and missing["name"] == "OverconstrainedError", missing
    assert missing["last_camera_error_is_it"] is True and missing["last_microphone_error"] == "None", missing
    assert missing["pub_events"] == [["media_devices_error", "NotFound", "OverconstrainedError", "videoinput"]]
    assert missing["same_capture"] is True and missing["state"] == "live", missing  # nothing lost
    assert missing["device"] == new_cam and missing["active"] == new_cam, missing
    assert missing["frames_after"][-1] >= 30, missing

    resized = run_on_page(driver, RESIZE, NEW_CAM=new_cam)
    assert resized["before"] == [2, 1] and resized["after"] == [1.5, 1] and resized["dims"] == [480, 270], resized
    assert resized["widths"][-1] == 480 and resized["device"] == new_cam and resized["sid_kept"] is True, resized
    change = run_on_page(driver, DEVICECHANGE)
    assert change == {"changed": ["publisher", "subscriber"], "active": [new_cam, new_mic]}, change
    end = run_on_page(driver, END)
    assert end["leaked_proxies"] == 0, end
    assert run_on_page(driver, SETTLED_LOG) == []


@pytest.fixture
def denying_driver() -> Any:
    """A Chromium of our own whose fake permission prompt says no (``--use-fake-ui-for-media-stream=deny``)."""
    with own_chromium({"--use-fake-ui-for-media-stream": "--use-fake-ui-for-media-stream=deny"}) as driver:
        yield driver


DENIED = """
from livekit_pyweb import DeviceError
try:
    await Room.get_local_devices("videoinput")  # unlabelled: asks for the permission, refused
    listing = None
except DeviceError as exc:
    listing = exc
plain = await Room.get_local_devices("videoinput", request_permissions=False)  # no prompt: ids only, no labels
room = Room()
errors = []
room.on("media_devices_error", lambda error, kind: errors.append([error.reason.name, error.name, kind]))
await room.connect(URL, TOKEN)
try:
    await room.local_participant.set_camera_enabled(True)
    denied = None
except DeviceError as exc:
    denied = exc
state = {"listing": [listing.reason.name, listing.name] if listing else None, "plain": [d.label for d in plain],
         "reason": denied and denied.reason.name, "name": denied and denied.name,
         "last_camera_error_is_it": denied is not None and room.local_participant.last_camera_error is denied,
         "last_microphone_error": repr(room.local_participant.last_microphone_error), "errors": errors,
         "published": len(room.local_participant.track_publications)}
await room.disconnect()
state["leaked_proxies"] = live_proxy_count() - base_proxies
json.dumps(state)
"""


def test_a_denied_camera_is_permission_denied(denying_driver, room_name, dist_url):
    driver = denying_driver
    open_main_thread_page(driver, dist_url)
    run_on_page(driver, PRELUDE)
    state = run_on_page(driver, DENIED, URL=LIVEKIT_URL, TOKEN=make_token("denied", room_name))
    assert state["listing"] == ["PermissionDenied", "NotAllowedError"], state
    assert state["plain"] and all(label == "" for label in state["plain"]), state
    assert state["reason"] == "PermissionDenied" and state["name"] == "NotAllowedError", state
    assert state["last_camera_error_is_it"] is True and state["last_microphone_error"] == "None", state
    assert state["errors"] == [["PermissionDenied", "NotAllowedError", "videoinput"]], state
    assert state["published"] == 0 and state["leaked_proxies"] == 0, state
    assert run_on_page(driver, SETTLED_LOG) == []


WORKER = """
from livekit_pyweb import Room, VideoCaptureOptions

listed = await Room.get_local_devices()  # no room yet: a bridge platform of its own, closed afterwards
cams = [d.device_id for d in listed if d.kind == "videoinput"]
encodable = [d.device_id for d in listed if d.kind == "videoinput" and d.label in ("fake_device_0", "fake_device_2")]
outputs = [d.device_id for d in listed if d.kind == "audiooutput" and d.device_id not in ("default", "communications")]

publisher = Room()
events = []
publisher.on("active_device_changed", lambda kind, device_id: events.append([kind, device_id]))
await publisher.connect(URL, PUB_TOKEN)
assert publisher._platform.name == "bridge"
cam_pub = await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(width=640, height=360))
await publisher.local_participant.set_microphone_enabled(True)
room = Room()
await room.connect(URL, SUB_TOKEN)

def remote(kind):
    p = room.remote_participants.get("publisher")
    for pub in (p.track_publications.values() if p else []):
        if pub.track is not None and pub.kind.name == kind:
            return pub.track
await wait_until(lambda: remote("KIND_VIDEO") is not None, 30, "the publisher's video")
video = remote("KIND_VIDEO")
element = video.attach().mount("#remote")

async def frames_after(count, timeout=20.0):
    async def frames():
        return int((await video.get_stats()).get("framesDecoded", 0))
    start = await frames()
    deadline = js.performance.now() + timeout * 1000
    grown = 0
    while js.performance.now() < deadline and grown < count:
        await asyncio.sleep(0.25)
        grown = await frames() - start
    return grown

before = await frames_after(15)
first = cam_pub.track.get_device_id()
new_cam = next(c for c in encodable if c != first)
ok = await publisher.switch_active_device("videoinput", new_cam)
after = await frames_after(60)
switched = {"device": cam_pub.track.get_device_id(), "active": publisher.get_active_device("videoinput"),
            "sid_kept": cam_pub.sid == video.sid}

from livekit_pyweb import DeviceError
errors = []
publisher.on("media_devices_error", lambda error, kind: errors.append([error.reason.name, error.name, kind]))
try:
    await publisher.switch_active_device("videoinput", "no-such-camera")
    missing = None
except DeviceError as exc:
    missing = exc
missing_state = {"reason": missing and missing.reason.name, "name": missing and missing.name, "errors": errors,
                 "last_camera_error_is_it": missing is not None and
                                            publisher.local_participant.last_camera_error is missing,
                 "device": cam_pub.track.get_device_id(), "frames": await frames_after(20)}
# and back to the first camera with restart_track(options), through the bridge as well
await cam_pub.track.restart_track(VideoCaptureOptions(width=640, height=360, device_id=first))
back = {"device": cam_pub.track.get_device_id(), "frames": await frames_after(30), "sid_kept": cam_pub.sid == video.sid}
state = {"missing": missing_state, "back": back, "switched": switched, "cams": cams, "encodable": encodable, "outputs": outputs, "first": first, "new_cam": new_cam, "ok": ok, "before": before,
         "after": after, "device": cam_pub.track.get_device_id(), "sid_kept": cam_pub.sid == video.sid,
         "same_remote_track": room.remote_participants.get("publisher") is not None and
                              room.remote_participants["publisher"].track_publications[video.sid].track is video,
         "events": events, "active": publisher.get_active_device("videoinput"),
         "remotes": sorted(room.remote_participants), "states": [str(publisher.connection_state), str(room.connection_state)],
         "logged": logged}
json.dumps(state)
"""

WORKER_SINK = """
await wait_until(lambda: remote("KIND_AUDIO") is not None, 30, "the publisher's audio")
audio = remote("KIND_AUDIO")
audio_element = audio.attach().mount("#remote")
ok = await room.switch_active_device("audiooutput", OUTPUT)
try:
    await room.switch_active_device("audiooutput", "no-such-output")
    refused = None
except DeviceError as exc:
    refused = [exc.reason.name, exc.name]
json.dumps({"ok": ok, "refused": refused, "active": room.get_active_device("audiooutput"),
            "channel": audio_element.channel, "handle": audio_element.handle,
            "track_sink": audio.sink_id})
"""

WORKER_DEVICECHANGE = """
changed = []
room.on("media_devices_changed", lambda: changed.append("subscriber"))
publisher.on("media_devices_changed", lambda: changed.append("publisher"))
json.dumps("listening")
"""

WORKER_CHANGED = """
await wait_until(lambda: len(changed) == 2, 5, "media_devices_changed in both rooms")
json.dumps(sorted(changed))
"""

WORKER_END = """
await room.disconnect()
counts = await publisher._platform.counts()
await publisher.disconnect()
json.dumps({"leaked_proxies": live_proxy_count() - base_proxies, "logged": logged, "counts_before_leave": counts})
"""


SENDERS = """
const out = [];
for (const host of livekitPyweb.hosts.values()) {
  for (const entry of host._handles.values()) {
    if (entry.type !== "sender") continue;
    const track = entry.obj.sender.track;
    out.push(track ? [track.kind, track.getSettings().deviceId, track.readyState] : null);
  }
}
return out;
"""


def test_devices_through_the_worker_bridge(cameras_driver, room_name, dist_url):
    from .test_worker_bridge import open_worker_page, run_worker

    driver = cameras_driver
    open_worker_page(driver, dist_url)
    prefix = f"URL = {LIVEKIT_URL!r}\nPUB_TOKEN = {make_token('publisher', room_name)!r}\n" \
             f"SUB_TOKEN = {make_token('subscriber', room_name)!r}\n"
    run_worker(driver, WORKER_PRELUDE)
    state = run_worker(driver, prefix + WORKER)
    assert len(state["cams"]) == 3 and len(state["encodable"]) == 2 and state["outputs"], state
    assert state["first"] == state["encodable"][0], state
    switched = state["switched"]
    assert state["before"] >= 15 and state["ok"] is True and switched["device"] == state["new_cam"], state
    assert switched["active"] == state["new_cam"] and switched["sid_kept"] is True, state
    assert state["same_remote_track"] is True and state["after"] >= 60, state
    assert state["events"][0] == ["videoinput", state["first"]] and state["events"][2:] == \
        [["videoinput", state["new_cam"]], ["videoinput", state["first"]]], state  # camera, microphone, switch, back
    missing = state["missing"]
    assert missing["reason"] == "NotFound" and missing["name"] == "OverconstrainedError", missing
    assert missing["errors"] == [["NotFound", "OverconstrainedError", "videoinput"]], missing
    assert missing["last_camera_error_is_it"] is True and missing["device"] == state["new_cam"], missing
    assert missing["frames"] >= 20, missing  # the camera goes on
    back = state["back"]
    assert back["device"] == state["first"] and back["frames"] >= 30 and back["sid_kept"] is True, back
    assert state["active"] == state["first"], state
    # On the page: the publisher's only video sender sends the new camera's capture, live.
    senders = driver.execute_script(SENDERS)
    assert [s for s in senders if s[0] == "video"] == [["video", state["first"], "live"]], senders
    output = state["outputs"][-1]
    sink = run_worker(driver, f"OUTPUT = {output!r}\n" + WORKER_SINK)
    assert sink["ok"] is True and sink["track_sink"] == output and sink["active"] == output, sink
    assert sink["refused"] == ["NotFound", "NotFoundError"], sink  # typed as on the main thread
    read_back = "return livekitPyweb.hosts.get(arguments[0]).element(arguments[1]).sinkId"
    assert driver.execute_script(read_back, sink["channel"], sink["handle"]) == output
    # the page's navigator.mediaDevices fires devicechange (dispatched: headless has no device to plug in): each
    # room's page host pushes it across the bridge
    run_worker(driver, WORKER_DEVICECHANGE)
    driver.execute_script("navigator.mediaDevices.dispatchEvent(new Event('devicechange'))")
    assert run_worker(driver, WORKER_CHANGED) == ["publisher", "subscriber"]
    end = run_worker(driver, WORKER_END)
    assert end["leaked_proxies"] == 0 and end["logged"] == [], end
