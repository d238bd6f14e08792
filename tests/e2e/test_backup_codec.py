"""Backup codecs and a codec a subscriber lacks, against the real server, with a real subscriber that lacks H264:
Firefox ESR here has no OpenH264 plugin (offline), so its WebRTC has no H264 at all (``RTCRtpReceiver.
getCapabilities("video")``: AV1, VP8, VP9; asserted). Our SDK runs in both browsers: Chromium publishes (and
subscribes in a second room), Firefox (tests/e2e/firefox/drive.mjs, dist/bare.html + the package) subscribes.

What the server does (livekit-server 1.13 ``MediaTrackReceiver.AddSubscriber`` / ``DownTrack.Bind`` /
``MediaTrack`` codec regression): it offers a subscriber every codec the track was announced with (the primary and
the backup of ``simulcast_codecs``); one that answers only the backup is bound to it, and dynacast asks the
publisher for that codec in ``SubscribedQualityUpdate.subscribed_codecs``, which makes livekit-client (and us)
publish the track again in it. Once the backup arrives, with ``BackupCodecPolicy.PREFER_REGRESSION`` (the default)
and fewer than ``codec_regression_threshold`` (5) participants, the server *regresses* the track: every subscriber
is switched to the backup and the primary is no longer asked for (its qualities all disabled); with ``SIMULCAST``
both codecs keep flowing. A track without a backup that a subscriber cannot decode fails that subscription with
``SubscriptionResponse(err=SE_CODEC_UNSUPPORTED)``.
"""

from __future__ import annotations

import time

import pytest

from .conftest import LIVEKIT_URL, FirefoxPage, make_token, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_page
from .test_codecs import HELPERS

# Python on the Firefox page: dist/bare.html boots Pyodide (window.lkpwPyodide); the package comes from dist's lock.
FIREFOX_BOOT = """
import pyodide_js
await pyodide_js.loadPackage("livekit-pyweb")
import json
json.dumps(True)
"""

SENDING = """
async def sending(pub):
    # frames encoded per codec by this publication's senders (the primary and each backup), all encodings summed;
    # the codec is what each outbound-rtp entry's codecId names ("vp8", "h264")
    out = {}
    for sender in [pub._sender, *[b.sender for b in pub._backups.values()]]:
        stats = await sender.get_stats()
        mimes = {s["id"]: s.get("mimeType", "") for s in stats if s.get("type") == "codec"}
        for s in stats:
            if s.get("type") == "outbound-rtp" and s.get("codecId") in mimes:
                codec = mimes[s["codecId"]].rpartition("/")[2].lower()
                out[codec] = out.get(codec, 0) + int(s.get("framesEncoded", 0))
    return out

async def growing(fn, key, by, timeout, what):
    # wait until fn()[key] grew by `by` over its first value; returns (first, last)
    first = (await fn())[key]
    deadline = now() + timeout
    while True:
        last = (await fn())[key]
        if last - first >= by:
            return first, last
        if now() > deadline:
            raise AssertionError(f"{what}: {key} went {first} -> {last} in {timeout} s")
        await asyncio.sleep(0.25)
json.dumps(True)
"""

PUBLISH = """
from livekit_pyweb import BackupCodecPolicy, create_local_video_track
publisher = Room(RoomOptions())
await publisher.connect({url!r}, {pub_token!r})
# "regress": h264 with a vp8 backup, default policy (PREFER_REGRESSION), 960x540 (three layers); "both": the
# same with SIMULCAST, 640x360 (two layers: LOW and MEDIUM, the case our announced spatial layers fix)
regress = await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(
    resolution=VideoPresets.h540), TrackPublishOptions(video_codec="h264", backup_codec="vp8",
                                                       source=TrackSource.SOURCE_CAMERA))
second = await create_local_video_track(VideoCaptureOptions(resolution=VideoPresets.h360))
both = await publisher.local_participant.publish_track(second, TrackPublishOptions(
    name="both", video_codec="h264", backup_codec="vp8", backup_codec_policy=BackupCodecPolicy.SIMULCAST))
subscriber = Room()
await subscriber.connect({url!r}, {sub_token!r})
async def sub_pub(sid):
    await wait_until(lambda: any(p.track is not None for p in subscriber.remote_participants["publisher"]
                                 .track_publications.values() if p.sid == sid), 30, "subscribed " + sid)
    return subscriber.remote_participants["publisher"].track_publications[sid]
sub_regress, sub_both = await sub_pub(regress.sid), await sub_pub(both.sid)
before = {{"regress": await receive(sub_regress, "video/H264"), "both": await receive(sub_both, "video/H264"),
          "backups": [sorted(regress._backups), sorted(both._backups)],
          "announced": [sub_regress.mime_type, sub_both.mime_type]}}
room = publisher  # what logged_warnings() waits on
json.dumps({{"sids": [regress.sid, both.sid], "before": before}})
"""

FIREFOX_JOIN = """
from livekit_pyweb import Room
room = Room()
failed = []
room.on("track_subscription_failed", lambda participant, sid, error: failed.append([participant.identity, sid, error]))
participant_failed = []  # the participant-level event of each remote participant, from its arrival
def listen(participant):
    participant.on("track_subscription_failed", lambda sid, error: participant_failed.append([sid, error]))
room.on("participant_connected", listen)
events = []  # the room's subscription events: [name, [sid or value of each argument], seconds since connect]
for name in ("track_subscribed", "track_unsubscribed", "track_subscription_status_changed",
             "track_subscription_failed"):
    room.on(name, (lambda n: lambda *a: events.append([n, [str(getattr(x, "sid", x)) for x in a], now() - t0]))(name))
codecs = sorted({{c.mimeType for c in js.RTCRtpReceiver.getCapabilities("video").codecs}})
t0 = now()
await room.connect({url!r}, {token!r})
for participant in room.remote_participants.values():
    listen(participant)
json.dumps({{"codecs": codecs, "browser": str(js.navigator.userAgent)}})
"""

FIREFOX_RECEIVE = """
pubs = room.remote_participants["publisher"].track_publications
await wait_until(lambda: all(pubs.get(s) is not None and pubs[s].track is not None for s in {sids!r}), 30,
                 "both tracks subscribed")
first = {{}}
for sid in {sids!r}:
    seen = await receive(pubs[sid], "video/VP8", min_frames=1, timeout=30)
    first[sid] = now() - t0
got = {{sid: await receive(pubs[sid], "video/VP8", timeout=30) for sid in {sids!r}}}
await wait_until(lambda: all(task.done() for task in room._tasks), 5, "the room's pending tasks")
json.dumps({{"received": got, "first_frame_s": first, "failed": failed, "logged": logged}})
"""

AFTER = """
# what the server's request did on the publishing side, and to the other (H264-capable) subscriber
await wait_until(lambda: "vp8" in regress._backups and "vp8" in both._backups, 15, "the vp8 backups")
regressed = await receive(sub_regress, "video/VP8", timeout=20)                 # switched to the backup
kept = await received(sub_both)                                                # SIMULCAST: still the primary
vp8 = await growing(lambda: sending(regress), "vp8", 30, 15, "regress: vp8 sent")
# the regression's update disabled every h264 quality: our h264 encodings go inactive and stop encoding
async def h264_active():
    return [bool(e.get("active", True)) for e in (await regress._sender.get_parameters())["encodings"]]
deadline = now() + 15
while any(await h264_active()) and now() < deadline:
    await asyncio.sleep(0.25)
await asyncio.sleep(0.5)
h264_regress = [await h264_active(), (await sending(regress))["h264"]]
await asyncio.sleep(1.5)
h264_regress.append((await sending(regress))["h264"])
both_h264 = await growing(lambda: sending(both), "h264", 30, 15, "both: h264 sent")
both_vp8 = await growing(lambda: sending(both), "vp8", 30, 15, "both: vp8 sent")
kept_more = await receive(sub_both, "video/H264", min_frames=kept["frames"] + 30, timeout=20)
json.dumps({"regressed": regressed, "kept": kept, "kept_more": kept_more, "vp8_regress": vp8,
            "h264_regress": h264_regress, "both_h264": both_h264, "both_vp8": both_vp8,
            "backups": [sorted(regress._backups), sorted(both._backups)]})
"""


def firefox_page(dist_url: str) -> FirefoxPage:
    """Firefox with Pyodide, our package, WORKER_PRELUDE (warning collector, wait_until) and test_codecs' HELPERS."""
    page = FirefoxPage(f"{dist_url}/bare.html", "bare")
    try:
        page.wait_for(lambda s: s.get("state") == "ready", 60, "Pyodide in Firefox")
        page.run_py(FIREFOX_BOOT)
        page.run_py(WORKER_PRELUDE)
        page.run_py(HELPERS)
    except BaseException:
        page.close()
        raise
    return page


@pytest.mark.driver_timeout(240)
def test_a_subscriber_without_h264_gets_the_backup_codec(selenium_standalone, dist_url, room_name):
    open_page(selenium_standalone)
    run_py(selenium_standalone, HELPERS)
    run_py(selenium_standalone, SENDING)
    pub = run_py(selenium_standalone, PUBLISH.format(url=LIVEKIT_URL, pub_token=make_token("publisher", room_name),
                                                     sub_token=make_token("subscriber", room_name)))
    # Chromium decodes the primary; nobody asked for the backup yet, so it is not sent
    assert pub["before"]["announced"] == ["video/H264", "video/H264"], pub
    assert pub["before"]["regress"]["frames"] >= 30 and pub["before"]["both"]["frames"] >= 30, pub
    assert pub["before"]["backups"] == [[], []], pub
    page = firefox_page(dist_url)
    try:
        joined = page.run_py(FIREFOX_JOIN.format(url=LIVEKIT_URL, token=make_token("firefox", room_name)))
        assert "Firefox/" in joined["browser"] and "video/H264" not in joined["codecs"], joined
        assert "video/VP8" in joined["codecs"], joined
        t0 = time.monotonic()
        ff = page.run_py(FIREFOX_RECEIVE.format(sids=pub["sids"]), 90)
        print(f"firefox: first vp8 frame after its connect (s): {ff['first_frame_s']}; "
              f"host wall time for 30 frames: {time.monotonic() - t0:.1f} s")
        # Firefox decodes both tracks in the backup codec (its receiver's codecId names VP8)
        for sid in pub["sids"]:
            assert ff["received"][sid]["mime"] == "video/VP8" and ff["received"][sid]["frames"] >= 30, ff
        assert ff["failed"] == [] and ff["logged"] == [], ff
        # (Firefox stays: the SIMULCAST track's vp8 is sent only while a subscriber wants it)
        after = run_py(selenium_standalone, AFTER)
        print("publisher and the chromium subscriber after firefox joined:", after)
    finally:
        page.close()
    assert after["backups"] == [["vp8"], ["vp8"]], after
    # PREFER_REGRESSION with 3 participants: the server regressed the track; the Chromium subscriber decodes vp8
    # too and the publisher's h264 encodings stopped (the server disabled every h264 quality)
    assert after["regressed"]["mime"] == "video/VP8" and after["regressed"]["frames"] >= 30, after
    assert after["h264_regress"][0] == [False, False, False], after
    assert after["h264_regress"][2] == after["h264_regress"][1], after  # no h264 frame encoded over 1.5 s
    # SIMULCAST: both codecs are sent; the Chromium subscriber keeps decoding h264
    assert after["kept"]["mime"] == "video/H264" and after["kept_more"]["mime"] == "video/H264", after
    assert logged_warnings(selenium_standalone) == []


PUBLISH_H264_ONLY = """
publisher = Room(RoomOptions())
await publisher.connect({url!r}, {token!r})
local = await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(
    resolution=VideoPresets.h360), TrackPublishOptions(video_codec="h264", backup_codec=False,
                                                       source=TrackSource.SOURCE_CAMERA))
room = publisher  # what logged_warnings() waits on
json.dumps({{"sid": local.sid, "mime": local.mime_type}})
"""

FIREFOX_FAILED = """
await wait_until(lambda: "publisher" in room.remote_participants, 20, "the publisher")
publisher = room.remote_participants["publisher"]
await wait_until(lambda: failed, 30, "track_subscription_failed")
pub = publisher.track_publications[failed[0][1]]
await wait_until(lambda: pub.track is None, 15, "the track dropped")  # if it was bound before the failure
await asyncio.sleep(1.0)  # anything else that would follow (a retry, a late track, a warning) has time to show
await wait_until(lambda: all(task.done() for task in room._tasks), 5, "the room's pending tasks")
json.dumps({"failed": failed, "participant_failed": participant_failed, "logged": logged, "events": events,
            "subscribed": pub.subscribed, "track": pub.track is not None, "mime": pub.mime_type})
"""


@pytest.mark.driver_timeout(180)
def test_track_subscription_failed_for_a_codec_the_subscriber_lacks(selenium_standalone, dist_url, room_name):
    page = firefox_page(dist_url)
    try:
        joined = page.run_py(FIREFOX_JOIN.format(url=LIVEKIT_URL, token=make_token("firefox", room_name)))
        assert "video/H264" not in joined["codecs"], joined
        open_page(selenium_standalone)
        run_py(selenium_standalone, HELPERS)
        pub = run_py(selenium_standalone, PUBLISH_H264_ONLY.format(url=LIVEKIT_URL,
                                                                   token=make_token("publisher", room_name)))
        out = page.run_py(FIREFOX_FAILED, 60)
        print("firefox:", out)
        # The server could not bind Firefox's downtrack (no codec in common): SubscriptionResponse
        # SE_CODEC_UNSUPPORTED, our track_subscription_failed in livekit.rtc's argument order, once
        assert out["failed"] == [["publisher", pub["sid"], "SE_CODEC_UNSUPPORTED"]], out
        assert out["participant_failed"] == [[pub["sid"], "SE_CODEC_UNSUPPORTED"]], out
        assert out["mime"] == "video/H264" and not out["track"], out
        # as livekit-client: a track still being bound when the failure came is dropped (only the failure is told);
        # one bound before it, or arriving just after it (the answer's setRemoteDescription resolves after the
        # SubscriptionResponse was read), goes when the server's renegotiation removes it from its stream
        # (measured: the three orders; ~200 ms from subscribed to unsubscribed)
        names = [e[0] for e in out["events"]]
        assert names.count("track_subscription_failed") == 1, out
        assert [n for n in names if n != "track_subscription_failed"] in (
            [], ["track_subscribed", "track_subscription_status_changed", "track_unsubscribed",
                 "track_subscription_status_changed"]), out
        assert out["logged"] == [], out  # no warning beyond the event
    finally:
        page.close()
    assert logged_warnings(selenium_standalone) == []
