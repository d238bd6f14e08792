"""Video codecs, presets, SVC and publish options against the real server, observed on the receiving side.

One page, two rooms (publisher and subscriber, both livekit_pyweb on the direct path): the subscriber's publication
announces the codec (``mime_type``), its receiver's ``inbound-rtp`` stats name it (the ``codec`` entry its
``codecId`` points to) and count decoded frames and the received size. The publisher's sender is read back through
the port (``getParameters()``: codecs, degradationPreference) and its ``outbound-rtp`` stats (scalabilityMode).
The same codec publish runs once more through the worker bridge (av1).
"""

from __future__ import annotations

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import logged_warnings, open_page
from .test_worker_bridge import open_worker_page, run_worker

# Shared by the page and the worker.
HELPERS = """
import asyncio, json, js
from livekit_pyweb import Room, RoomOptions, TrackPublishOptions, TrackSource, VideoCaptureOptions, VideoPresets

def now():
    return js.performance.now() / 1000

async def first_video(room, identity, timeout=30.0):
    deadline = now() + timeout
    while now() < deadline:
        participant = room.remote_participants.get(identity)
        if participant is not None:
            for pub in participant.track_publications.values():
                if pub.track is not None and pub.kind.name == "KIND_VIDEO":
                    return pub
        await asyncio.sleep(0.1)
    raise AssertionError(f"no video from {identity}")

async def received(pub):
    # the receiver's inbound-rtp entry and the codec entry it points to
    stats = await pub.track._receiver.get_stats()
    inbound = next((s for s in stats if s.get("type") == "inbound-rtp"), {})
    codec = next((s for s in stats if s.get("id") == inbound.get("codecId")), {})
    return {"mime": codec.get("mimeType", ""), "frames": int(inbound.get("framesDecoded", 0)),
            "width": int(inbound.get("frameWidth", 0)), "height": int(inbound.get("frameHeight", 0))}

async def receive(pub, want_mime, min_frames=30, timeout=45.0, width=None):
    deadline = now() + timeout
    seen = {}
    while now() < deadline:
        seen = await received(pub)
        if (seen["mime"].lower() == want_mime.lower() and seen["frames"] >= min_frames
                and (width is None or seen["width"] == width)):
            return seen
        await asyncio.sleep(0.25)
    raise AssertionError(f"never received {min_frames} frames of {want_mime} (width {width}): {seen}")

async def outbound(room):
    stats = await room._engine.publisher.get_stats()
    out = [s for s in stats if s.get("type") == "outbound-rtp" and s.get("kind") == "video"]
    codecs = {s["id"]: s.get("mimeType") for s in stats if s.get("type") == "codec"}
    return [{"rid": s.get("rid"), "mime": codecs.get(s.get("codecId")), "scalabilityMode": s.get("scalabilityMode"),
             "frames": int(s.get("framesEncoded", 0)), "width": s.get("frameWidth")} for s in out]

json.dumps(True)
"""

PUBLISH = """
publisher = Room(RoomOptions({room_options}))
await publisher.connect({url!r}, {pub_token!r})
lp = publisher.local_participant
local = await lp.set_camera_enabled(True, {capture}, {publish})
subscriber = Room()
await subscriber.connect({url!r}, {sub_token!r})
remote = await first_video(subscriber, "publisher")
seen = await receive(remote, {want_mime!r}, width={want_width})
params = await local._sender.get_parameters()
await asyncio.sleep(0.5)
sent = await outbound(publisher)
result = {{"mime_type": remote.mime_type, "received": seen, "platform": publisher._platform.name,
           "sender_codec": (params["codecs"] or [{{}}])[0].get("mimeType"),
           "degradation": params["degradationPreference"], "encodings": params["encodings"], "outbound": sent,
           "local_dims": list(local.track.dimensions), "backups": sorted(local._backups)}}
await subscriber.disconnect()
await publisher.disconnect()
room = publisher  # what logged_warnings() waits on
json.dumps(result)
"""


def _publish(run, room_name, *, want_mime, room_options="", capture="None", publish="None", want_width=None):
    return run(PUBLISH.format(url=LIVEKIT_URL, pub_token=make_token("publisher", room_name),
                              sub_token=make_token("subscriber", room_name), room_options=room_options,
                              capture=capture, publish=publish, want_mime=want_mime, want_width=want_width))


def _page(selenium):
    open_page(selenium)
    run_py(selenium, HELPERS)
    return lambda code: run_py(selenium, code)


def _codecs_here(run) -> list[str]:
    return run("""
mimes = [c.mimeType.lower() for c in js.RTCRtpSender.getCapabilities("video").codecs]
json.dumps(sorted({m.split("/")[1] for m in mimes}))
""")


@pytest.mark.driver_timeout(150)
# av1: the subscriber (on /rtc/v1, its video on our recvonly transceivers) decodes it only with the dependency
# descriptor header extension negotiated there (measured before: 120 frames received, 0 decoded, a PLI a second)
@pytest.mark.parametrize("codec", ["vp9", "h264", "av1"])
def test_the_subscriber_receives_and_decodes_the_chosen_codec(selenium_standalone, room_name, codec):
    run = _page(selenium_standalone)
    assert codec in _codecs_here(run), "Chromium here sends vp9, h264 and av1 (browser-capabilities.md)"
    mime = f"video/{codec.upper()}"
    out = _publish(run, room_name, want_mime=mime,
                   publish=f"TrackPublishOptions(video_codec={codec!r}, source=TrackSource.SOURCE_CAMERA)")
    assert out["mime_type"].lower() == mime.lower(), out       # the server's TrackInfo
    assert out["received"]["mime"].lower() == mime.lower(), out  # what the subscriber's receiver decodes
    assert out["received"]["frames"] >= 30, out
    assert out["sender_codec"].lower() == mime.lower(), out     # the publisher's sender, read back
    assert out["degradation"] == "maintain-framerate", out      # livekit-client's camera default
    if codec in ("vp9", "av1"):  # SVC: one encoding carrying L3T3_KEY (livekit-client's default), no simulcast
        assert [e.get("scalabilityMode") for e in out["encodings"]] == ["L3T3_KEY"], out
        assert [s["scalabilityMode"] for s in out["outbound"]] == ["L3T3_KEY"], out
    else:
        assert [e.get("rid") for e in out["encodings"]] == ["q", "h", "f"], out
    assert all(s["mime"].lower() == mime.lower() for s in out["outbound"]), out
    assert out["backups"] == [], out  # the subscriber decodes the primary: no backup codec asked for
    assert logged_warnings(selenium_standalone) == []


@pytest.mark.driver_timeout(150)
def test_scalability_mode_and_degradation_preference_reach_the_sender(selenium_standalone, room_name):
    run = _page(selenium_standalone)
    out = _publish(run, room_name, want_mime="video/VP9", publish=(
        "TrackPublishOptions(video_codec='vp9', scalability_mode='L2T2_KEY', "
        "degradation_preference='maintain-resolution', source=TrackSource.SOURCE_CAMERA)"))
    assert [e.get("scalabilityMode") for e in out["encodings"]] == ["L2T2_KEY"], out
    assert [s["scalabilityMode"] for s in out["outbound"]] == ["L2T2_KEY"], out
    assert out["degradation"] == "maintain-resolution", out
    assert out["received"]["mime"] == "video/VP9" and out["received"]["frames"] >= 30, out
    assert logged_warnings(selenium_standalone) == []


@pytest.mark.driver_timeout(150)
def test_room_defaults_a_preset_capture_and_a_publish_codec(selenium_standalone, room_name):
    # RoomOptions(video_capture_defaults=h360, publish_defaults=h264) apply to set_camera_enabled() without options
    run = _page(selenium_standalone)
    out = _publish(run, room_name, want_mime="video/H264", want_width=640, room_options=(
        "video_capture_defaults=VideoCaptureOptions(resolution=VideoPresets.h360), "
        "publish_defaults=TrackPublishOptions(video_codec='h264')"))
    assert out["local_dims"] == [640, 360], out
    assert (out["received"]["width"], out["received"]["height"]) == (640, 360), out
    # livekit-client's ladder for 640x360: q (h180: 320 wide, 160 kbit/s), h (itself, 450 kbit/s at 20 fps)
    assert [(e.get("rid"), e.get("scaleResolutionDownBy"), e.get("maxBitrate")) for e in out["encodings"]] == [
        ("q", 2, 160_000), ("h", 1, 450_000)], out
    assert logged_warnings(selenium_standalone) == []


PREPARE = """
room = Room()
await room.prepare_connection("http://127.0.0.1:9", "token-not-sent")  # nothing listens: logged, not raised
bad = list(logged)
logged.clear()
await room.prepare_connection({url!r}, {token!r})
after_good = list(logged)
await room.connect({url!r}, {token!r})
state = state_name(room)
await room.disconnect()
json.dumps({{"bad": bad, "after_good": after_good, "state": state}})
"""


def test_prepare_connection_warms_up_and_never_raises(selenium_standalone, room_name):
    open_page(selenium_standalone)
    out = run_py(selenium_standalone, PREPARE.format(url=LIVEKIT_URL, token=make_token("early", room_name)))
    assert out["state"] == "connected", out
    assert out["after_good"] == [], out
    assert len(out["bad"]) == 1 and "could not prepare the connection to http://127.0.0.1:9" in out["bad"][0], out
    assert "token-not-sent" not in out["bad"][0]


@pytest.mark.driver_timeout(180)
def test_a_codec_and_prepare_connection_through_the_worker_bridge(selenium_standalone, dist_url, room_name):
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    run_worker(driver, HELPERS)
    run_worker(driver, "await Room(platform='bridge').prepare_connection({url!r})\njson.dumps(True)".format(
        url=LIVEKIT_URL))
    # av1 (SVC, like vp9): the worker's subscriber decodes it only with the dependency descriptor negotiated on the
    # page host's recvonly transceivers
    out = _publish(lambda code: run_worker(driver, code), room_name, want_mime="video/AV1", publish=(
        "TrackPublishOptions(video_codec='av1', degradation_preference='balanced', source=TrackSource.SOURCE_CAMERA)"))
    assert out["platform"] == "bridge", out
    assert out["mime_type"] == "video/AV1" and out["received"]["mime"] == "video/AV1", out
    assert out["received"]["frames"] >= 30 and out["sender_codec"] == "video/AV1", out
    assert [e.get("scalabilityMode") for e in out["encodings"]] == ["L3T3_KEY"], out
    assert out["degradation"] == "balanced", out
