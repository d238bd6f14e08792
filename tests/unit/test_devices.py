"""Devices (issue 9 item 6) on the port fakes: Room.get_local_devices, switch_active_device (capture restarted with
replaceTrack, the publication kept; audio output through setSinkId, now and for later elements), restart_track,
get_active_device, and the events media_devices_changed / media_devices_error / active_device_changed with
last_camera_error / last_microphone_error. DeviceInUse and devicechange cannot be caused in a headless Chromium:
they are proven here."""

from __future__ import annotations

import asyncio

import pytest

from livekit_pyweb import (
    AudioCaptureOptions,
    DeviceError,
    DeviceErrorReason,
    MediaDeviceFailure,
    MediaDeviceInfo,
    Room,
    VideoCaptureOptions,
)
from livekit_pyweb._core import proto
from livekit_pyweb.errors import UnsupportedError
from livekit_pyweb.events import EVENT_NAMES, ActiveDeviceChanged, MediaDevicesChanged, MediaDevicesError

from .fakes import (FakePlatform, FakeTrack, TrackEvent, answer_offers, confirm_track, connected_room, participant,
                    room_with_remote_audio, until)


async def _publish(room, socket, enable, sid: str, kind: int, source: int):
    publishing = asyncio.ensure_future(enable())
    count = len(socket.requests("add_track"))
    await until(lambda: len(socket.requests("add_track")) > count)
    confirm_track(socket, socket.requests("add_track")[-1].add_track.cid, sid, kind, source)
    return await asyncio.wait_for(publishing, 1)


async def _published_room(platform: FakePlatform | None = None):
    m = proto.models()
    platform = platform or FakePlatform()
    room, socket, pc = await connected_room(platform)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    events: list[tuple] = []
    for name in ("local_track_published", "active_device_changed", "media_devices_error", "media_devices_changed"):
        room.on(name, lambda *args, name=name: events.append((name, *args)))
    cam = await _publish(room, socket, room.local_participant.set_camera_enabled, "TR_cam", m.TrackType.VIDEO,
                         m.TrackSource.CAMERA)
    mic = await _publish(room, socket, room.local_participant.set_microphone_enabled, "TR_mic", m.TrackType.AUDIO,
                         m.TrackSource.MICROPHONE)

    async def close():
        done.set()
        await server
        await room.disconnect()

    return room, socket, pc, cam, mic, events, close


def test_names_are_livekit_clients_in_snake_case():
    assert {"media_devices_changed", "media_devices_error", "active_device_changed"} <= EVENT_NAMES
    assert MediaDeviceFailure is DeviceErrorReason
    assert [r.name for r in DeviceErrorReason] == ["PermissionDenied", "NotFound", "DeviceInUse", "Other"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("NotAllowedError", DeviceErrorReason.PermissionDenied),
     ("PermissionDeniedError", DeviceErrorReason.PermissionDenied),
     ("SecurityError", DeviceErrorReason.PermissionDenied),
     ("NotFoundError", DeviceErrorReason.NotFound), ("DevicesNotFoundError", DeviceErrorReason.NotFound),
     ("OverconstrainedError", DeviceErrorReason.NotFound),
     ("NotReadableError", DeviceErrorReason.DeviceInUse), ("TrackStartError", DeviceErrorReason.DeviceInUse),
     ("AbortError", DeviceErrorReason.DeviceInUse), ("TypeError", DeviceErrorReason.Other), ("", DeviceErrorReason.Other)],
)
def test_dom_exception_names_map_as_media_device_failure(name, reason):
    assert DeviceErrorReason.get_failure(name) is reason
    assert DeviceErrorReason.get_failure(DeviceError("x", DeviceErrorReason.Other, name)) is reason


async def test_get_local_devices_before_connect_asks_permission_once_for_labels():
    platform = FakePlatform()
    cams = await Room.get_local_devices("videoinput", platform=platform)
    assert cams == [MediaDeviceInfo(device_id="cam-a", kind="videoinput", label="fake_device_0", group_id="g-cam"),
                    MediaDeviceInfo(device_id="cam-b", kind="videoinput", label="fake_device_1", group_id="g-cam2")]
    assert platform.captures == [{"video": True}]  # labels were empty: one capture, stopped at once
    everything = await Room().get_local_devices(platform=platform)
    assert len(everything) == 7 and platform.captures == [{"video": True}]  # labelled now: no second capture
    outputs = await Room.get_local_devices("audiooutput", request_permissions=False, platform=platform)
    assert [d.device_id for d in outputs] == ["default", "out-b"]
    with pytest.raises(ValueError):
        await Room.get_local_devices("speakers", platform=platform)


async def test_get_local_devices_without_permission_leaves_labels_empty_and_captures_nothing():
    platform = FakePlatform()
    mics = await Room.get_local_devices("audioinput", False, platform=platform)
    assert [d.label for d in mics] == ["", "", ""] and platform.captures == []


async def test_publishing_makes_the_device_active_after_local_track_published():
    room, socket, pc, cam, mic, events, close = await _published_room()
    assert [e[0] for e in events] == ["local_track_published", "active_device_changed",
                                      "local_track_published", "active_device_changed"]
    assert events[1][1:] == ("videoinput", "cam-a") and events[3][1:] == ("audioinput", "mic-a")
    assert room.get_active_device("videoinput") == "cam-a" and room.get_active_device("audiooutput") is None
    assert cam.track.get_device_id() == "cam-a"
    await close()


async def test_switch_camera_restarts_on_the_new_device_keeping_the_publication():
    room, socket, pc, cam, mic, events, close = await _published_room()
    events.clear()
    old_port = cam.track._port
    restarted: list = []
    cam.track.on("restarted", restarted.append)
    element = cam.track.attach()
    cam.track.mute()
    offers = len(socket.requests("offer"))
    assert await room.switch_active_device("videoinput", "cam-b") is True
    new_port = cam.track._port
    assert room._platform.captures[-1]["video"]["deviceId"] == {"exact": "cam-b"}
    sender = pc.senders[0]
    assert sender.replaced == [new_port] and ("replace_track", new_port.id) in pc.calls  # replaceTrack, same sender
    assert old_port.stopped and old_port.released and not new_port.stopped
    assert new_port.settings["deviceId"] == "cam-b" and cam.track.get_device_id() == "cam-b"
    assert new_port.enabled is False and cam.track.muted  # the mute carries over
    assert new_port.attached == [element]  # the element plays the new capture
    assert room.local_participant.track_publications["TR_cam"] is cam and cam.sid == "TR_cam"
    assert not socket.requests("add_track")[2:] and len(socket.requests("offer")) == offers  # no renegotiation
    assert events == [("active_device_changed", "videoinput", "cam-b")] and restarted == [cam.track]
    assert room.get_active_device("videoinput") == "cam-b"
    assert await room.switch_active_device("videoinput", "cam-b") is True  # already there: nothing happens
    assert cam.track._port is new_port and len(events) == 1
    await close()


async def test_switch_microphone_inexact_and_restart_track_with_options():
    room, socket, pc, cam, mic, events, close = await _published_room()
    events.clear()
    assert await room.switch_active_device("audioinput", "mic-b", exact=False) is True
    assert room._platform.captures[-1]["audio"]["deviceId"] == "mic-b"
    assert mic.track.get_device_id() == "mic-b" and pc.senders[1].replaced == [mic.track._port]
    assert events == [("active_device_changed", "audioinput", "mic-b")]
    # An inexact wish the browser does not follow: False, nothing raised.
    assert await room.switch_active_device("audioinput", "mic-gone", exact=False) is False
    assert mic.track.get_device_id() == "mic-a"
    assert events[-1] == ("active_device_changed", "audioinput", "mic-a")
    await mic.track.restart_track(AudioCaptureOptions(device_id="mic-b", echo_cancellation=False))
    assert room._platform.captures[-1] == {"audio": {"echoCancellation": False, "noiseSuppression": True,
                                                     "autoGainControl": True, "deviceId": {"exact": "mic-b"}}}
    assert mic.track.get_device_id() == "mic-b" and events[-1] == ("active_device_changed", "audioinput", "mic-b")
    with pytest.raises(TypeError):
        await mic.track.restart_track(VideoCaptureOptions())
    await close()


async def test_a_missing_exact_device_is_not_found_and_the_track_goes_on():
    room, socket, pc, cam, mic, events, close = await _published_room()
    events.clear()
    port = cam.track._port
    with pytest.raises(DeviceError) as caught:
        await room.switch_active_device("videoinput", "cam-nope")
    error = caught.value
    assert error.reason is DeviceErrorReason.NotFound and error.name == "OverconstrainedError"
    assert room.local_participant.last_camera_error is error and room.local_participant.last_microphone_error is None
    assert events == [("media_devices_error", error, "videoinput")]
    assert cam.track._port is port and not port.stopped and pc.senders[0].replaced == []  # nothing lost
    assert room.get_active_device("videoinput") == "cam-a"
    assert room._capture_devices.get("videoinput") is None  # the failed choice is not kept for later captures
    await close()


async def test_device_in_use_on_capture_is_typed_recorded_and_emitted_then_cleared():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    errors: list[tuple] = []
    room.on("media_devices_error", lambda *args: errors.append(args))
    room.local_participant.on("media_devices_error", lambda *args: errors.append(("participant", *args)))
    stream = room.events()
    platform.capture_error = DeviceError("getUserMedia failed: NotReadableError: Could not start video source",
                                         DeviceErrorReason.DeviceInUse, "NotReadableError")
    with pytest.raises(DeviceError) as caught:
        await room.local_participant.set_camera_enabled(True)
    assert caught.value.reason is DeviceErrorReason.DeviceInUse
    assert room.local_participant.last_camera_error is caught.value
    # the participant hears it first, then the room (the convention for participant events)
    assert errors == [("participant", caught.value, "videoinput"), (caught.value, "videoinput")]
    assert await anext(stream) == MediaDevicesError(caught.value, "videoinput")
    with pytest.raises(DeviceError):
        await room.local_participant.enable_camera_and_microphone()
    assert errors[-1][1] is None  # both asked for at once
    assert room.local_participant.last_microphone_error is platform.capture_error
    assert not socket.requests("add_track")
    platform.capture_error = None  # the other application let the camera go
    m = proto.models()
    await _publish(room, socket, room.local_participant.set_camera_enabled, "TR_cam", m.TrackType.VIDEO,
                   m.TrackSource.CAMERA)
    assert room.local_participant.last_camera_error is None  # a capture that worked clears it
    assert room.local_participant.last_microphone_error is not None  # the microphone's failure stays
    done.set()
    await server
    await room.disconnect()


async def test_unsupported_capture_is_a_media_devices_error_too():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    errors: list[tuple] = []
    room.on("media_devices_error", lambda *args: errors.append(args))
    platform.capture_error = UnsupportedError("navigator.mediaDevices is not available here")
    with pytest.raises(UnsupportedError):
        await room.local_participant.set_microphone_enabled(True)
    assert errors == [(platform.capture_error, "audioinput")]
    assert room.local_participant.last_microphone_error is platform.capture_error
    await room.disconnect()


async def test_devicechange_is_media_devices_changed_while_connected():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    seen: list[str] = []
    room.on("media_devices_changed", lambda: seen.append("changed"))
    stream = room.events()
    platform.devices.append({"device_id": "cam-c", "kind": "videoinput", "label": "usb", "group_id": "g3"})
    platform.devicechange()
    await until(lambda: seen == ["changed"])
    assert await anext(stream) == MediaDevicesChanged()
    assert [d.device_id for d in await Room.get_local_devices("videoinput", False, platform=platform)] == \
        ["cam-a", "cam-b", "cam-c"]
    await room.disconnect()
    assert platform.device_handles[0].closed  # the room stopped listening
    platform.devicechange()
    await asyncio.sleep(0.1)
    assert seen == ["changed"]


async def test_switch_before_connect_is_active_at_once_and_used_by_the_first_capture():
    platform = FakePlatform()
    room = Room(platform=platform)
    changed: list[tuple] = []
    room.on("active_device_changed", lambda *args: changed.append(args))
    assert await room.switch_active_device("videoinput", "cam-b") is True
    assert await room.switch_active_device("audiooutput", "out-b") is True
    assert changed == [("videoinput", "cam-b"), ("audiooutput", "out-b")]
    assert room.get_active_device("videoinput") == "cam-b"
    with pytest.raises(ValueError):
        await room.switch_active_device("camera", "cam-b")
    with pytest.raises(ValueError):
        room.get_active_device("speaker")
    # connect (the fake join), then the camera is captured from the chosen device
    room2, socket, pc = await connected_room(platform)
    await room2.switch_active_device("videoinput", "cam-b")
    done = asyncio.Event()
    server = asyncio.ensure_future(answer_offers(socket, done))
    m = proto.models()
    pub = await _publish(room2, socket, room2.local_participant.set_camera_enabled, "TR_cam", m.TrackType.VIDEO,
                         m.TrackSource.CAMERA)
    assert platform.captures[-1]["video"]["deviceId"] == {"exact": "cam-b"} and pub.track.get_device_id() == "cam-b"
    # capture options naming a device win over the room's choice
    await pub.track.restart_track(VideoCaptureOptions(device_id="cam-a"))
    assert pub.track.get_device_id() == "cam-a"
    done.set()
    await server
    await room2.disconnect()


async def test_audio_output_is_set_on_every_remote_audio_element_now_and_later():
    platform = FakePlatform()
    room, socket, pc, port, track = await room_with_remote_audio(platform)
    changed: list[tuple] = []
    room.on("active_device_changed", lambda *args: changed.append(args))
    first = track.attach()
    assert await room.switch_active_device("audiooutput", "out-b") is True
    assert port.sinks == {first: "out-b"} and track.sink_id == "out-b"
    assert changed == [("audiooutput", "out-b")] and room.get_active_device("audiooutput") == "out-b"
    second = track.attach("<audio #2>")  # attached later: the chosen output applies to it as well
    await until(lambda: second in port.sinks)
    assert port.sinks[second] == "out-b"
    # refused by the browser: typed, the previous output stays the room's choice
    port.sink_error = DeviceError("setSinkId failed: NotFoundError", DeviceErrorReason.NotFound, "NotFoundError")
    with pytest.raises(DeviceError):
        await room.switch_active_device("audiooutput", "out-gone")
    assert room.get_active_device("audiooutput") == "out-b" and room._audio_output == "out-b"
    await room.disconnect()


async def test_a_track_subscribed_after_the_switch_plays_on_the_chosen_output():
    platform = FakePlatform()
    bob = participant("PA_b", "bob", [("TR_b", 0)])
    room, socket, pc = await connected_room(platform, others=[bob])
    await room.switch_active_device("audiooutput", "out-b")
    port = FakeTrack("TR_b", "audio")
    pc.on_track(TrackEvent(port, ["PA_b|TR_b"], mid="1"))
    pub = room.remote_participants["bob"].track_publications["TR_b"]
    await until(lambda: pub.track is not None)
    element = pub.track.attach()
    await until(lambda: element in port.sinks)
    assert port.sinks[element] == "out-b"
    await room.disconnect()


async def test_a_failed_sink_for_a_later_element_is_logged(expect_log):
    platform = FakePlatform()
    room, socket, pc, port, track = await room_with_remote_audio(platform)
    await room.switch_active_device("audiooutput", "out-b")
    port.sink_error = DeviceError("setSinkId failed: AbortError", DeviceErrorReason.DeviceInUse, "AbortError")
    track.attach()
    await until(lambda: any("audio output" in r.getMessage() for r in expect_log))
    await room.disconnect()


async def test_restart_of_a_track_stopped_meanwhile_or_not_ours_is_refused():
    from livekit_pyweb import InvalidStateError, LocalVideoTrack

    room, socket, pc, cam, mic, events, close = await _published_room()
    lone = LocalVideoTrack(FakeTrack("x", "video"))
    with pytest.raises(InvalidStateError):
        await lone.restart_track()
    track = cam.track
    await close()  # disconnect stops every capture
    with pytest.raises(InvalidStateError):
        await track.restart_track()


def test_active_device_changed_fields():
    assert ActiveDeviceChanged("videoinput", "x").kind == "videoinput"


def test_the_bridge_wire_carries_the_device_ops_and_devicechange():
    from livekit_pyweb._core import bridge as B
    from livekit_pyweb.errors import DEVICE_ERROR_NAMES, BridgeError

    assert {"media.enumerateDevices", "element.setSinkId", "sender.replaceTrack"} <= B.OPS
    assert B.call(3, "sender.replaceTrack", [5, -2]) == {"t": "call", "id": 3, "op": "sender.replaceTrack",
                                                         "args": [5, -2]}
    assert B.parse({"t": "event", "h": 0, "type": "devicechange", "data": None}) == B.Event(0, "devicechange", None)
    # setSinkId and enumerateDevices fail as getUserMedia does: typed by the DOMException's name
    for op in ("element.setSinkId", "media.enumerateDevices"):
        error = B.error_from_reply(op, B.ReplyError("NotFoundError", "Requested device not found"), DEVICE_ERROR_NAMES)
        assert isinstance(error, DeviceError) and error.reason is DeviceErrorReason.NotFound
    error = B.error_from_reply("element.setSinkId", B.ReplyError("UnsupportedError", "no setSinkId"), DEVICE_ERROR_NAMES)
    assert isinstance(error, UnsupportedError)
    error = B.error_from_reply("sender.replaceTrack", B.ReplyError("InvalidModificationError", "x"), DEVICE_ERROR_NAMES)
    assert type(error) is BridgeError


async def test_devicechange_follows_livekit_clients_default_device_rules():
    room, socket, pc, cam, mic, events, close = await _published_room()
    platform = room._platform
    await until(lambda: bool(room._known_devices))  # listed once connected (no permission asked)
    await room.switch_active_device("audiooutput", "out-b")
    events.clear()
    # the active output is unplugged: the first output takes over, then media_devices_changed (livekit-client's order)
    platform.devices = [d for d in platform.devices if d["device_id"] != "out-b"]
    platform.devicechange()
    await until(lambda: any(e[0] == "media_devices_changed" for e in events))
    assert events == [("active_device_changed", "audiooutput", "default"), ("media_devices_changed",)]
    assert room.get_active_device("audiooutput") == "default"
    # a camera plugged in ahead of the active one, which was the first: the published camera follows it
    events.clear()
    platform.devices.insert(3, {"device_id": "cam-usb", "kind": "videoinput", "label": "USB", "group_id": "g9"})
    platform.devicechange()
    await until(lambda: any(e[0] == "media_devices_changed" for e in events))
    assert events == [("active_device_changed", "videoinput", "cam-usb"), ("media_devices_changed",)]
    assert cam.track.get_device_id() == "cam-usb" and pc.senders[0].replaced == [cam.track._port]
    # the system default microphone changed (same id "default", new label) while "default" is the active one
    room._active_devices["audioinput"] = "default"
    events.clear()
    platform.devices[0] = dict(platform.devices[0], label="Default - Headset")
    platform.devicechange()
    await until(lambda: any(e[0] == "media_devices_changed" for e in events))
    assert events[0] == ("active_device_changed", "audioinput", "default"), events
    await close()


async def test_a_restart_at_another_size_recomputes_the_encodings_of_the_active_layers():
    room, socket, pc, cam, mic, events, close = await _published_room()
    sender = pc.senders[0]
    assert [e.get("scaleResolutionDownBy") for e in sender.send_encodings] == [4, 2, 1]  # 1280x720: q, h, f
    room._platform.video_size = (960, 540)
    await cam.track.restart_track(VideoCaptureOptions(width=960, height=540))
    scales = [e.get("scaleResolutionDownBy") for e in sender.send_encodings]
    assert scales == [3, 1.5, 1] and [l.width for l in cam._layers] == [320, 640, 960]  # livekit-client's ladder
    assert cam._encoded_dims == (960, 540)
    # dynacast switched the lowest layer off: a later restart leaves that encoding alone (livekit-client does too)
    await cam._set_subscribed_qualities({0: False, 1: True, 2: True})
    assert sender.active == [False, True, True]
    room._platform.video_size = (1280, 720)
    await cam.track.restart_track(VideoCaptureOptions(width=1280, height=720))
    assert [e.get("scaleResolutionDownBy") for e in sender.send_encodings] == [3, 2, 1]
    assert sender.encodings_set == 2
    # a size whose ladder has fewer layers: the negotiated encodings stay as they are
    room._platform.video_size = (320, 180)
    await cam.track.restart_track(VideoCaptureOptions(width=320, height=180))
    assert sender.encodings_set == 2 and cam._encoded_dims == (1280, 720)
    await close()


async def test_a_refused_screen_share_is_a_media_devices_error_without_kind():
    platform = FakePlatform()
    room, socket, pc = await connected_room(platform)
    errors: list[tuple] = []
    room.on("media_devices_error", lambda *args: errors.append(args))
    platform.capture_error = DeviceError("getDisplayMedia failed: NotAllowedError", DeviceErrorReason.PermissionDenied,
                                         "NotAllowedError")
    with pytest.raises(DeviceError):
        await room.local_participant.set_screen_share_enabled(True)
    assert errors == [(platform.capture_error, None)]
    # neither the camera's nor the microphone's last error (livekit-client keeps those for getUserMedia)
    assert room.local_participant.last_camera_error is None and room.local_participant.last_microphone_error is None
    await room.disconnect()
