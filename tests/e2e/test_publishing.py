"""Publishing (issue 9 item 2) against the real server, with the official Python SDK peer as the other side:
screen share (getDisplayMedia after a real WebDriver click; direct and through the worker bridge), tracks created
before any Room and published with options then unpublished, concurrent publish calls, a mute requested by the
server (livekit-api), and track subscription permissions both ways (item 8's track_subscription_permission_changed).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, room_service, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_page

ADD_BUTTON = """
const button = document.createElement("button");
button.id = "share";
button.textContent = "Share screen";
document.body.prepend(button);
"""

JOIN_WITH_SHARE_BUTTON = """
from pyodide.ffi import create_proxy
room = Room()
record(room)
for n in ("local_track_unpublished",):
    pass
await room.connect({url!r}, {token!r})
sharing = []
def on_click(event):
    # The handler starts the capture: getDisplayMedia runs within the click's user activation.
    sharing.append(asyncio.ensure_future(room.local_participant.set_screen_share_enabled(True)))
click = create_proxy(on_click)
js.document.getElementById("share").addEventListener("click", click)
json.dumps(room.local_participant.identity)
"""

AFTER_SHARE_CLICK = """
await wait_until(lambda: sharing and sharing[0].done(), 20, "the screen share to publish")
pub = sharing[0].result()
track = pub.track
track.on("ended", lambda t: log.append(["track_ended", t.sid]))
json.dumps({{"sid": pub.sid, "source": source_name(pub), "kind": pub.kind.name, "name": pub.name,
            "width": pub.width, "height": pub.height, "label": str(track.media_stream_track.label),
            "enabled": room.local_participant.is_screen_share_enabled}})
"""

# The user pressing the browser's "Stop sharing" cannot be done headless: the track's own `ended` event is
# dispatched on the page's MediaStreamTrack instead (what the browser fires then); the SDK hears it through the port.
END_SHARE = """
js.eval("(t) => t.dispatchEvent(new Event('ended'))")(track.media_stream_track)
await wait_until(lambda: ["local_track_unpublished", pub.sid] in log, 10, "the ended share to unpublish")
assert not room.local_participant.is_screen_share_enabled
stopped = str(track.media_stream_track.readyState)
js.document.getElementById("share").removeEventListener("click", click)
click.destroy()
await room.disconnect()
json.dumps({{"log": log, "ready_state": stopped, "leaked_proxies": live_proxy_count() - base_proxies}})
"""


@pytest.mark.driver_timeout(120)
def test_screen_share_after_a_click_reaches_the_peer_and_ends_with_the_capture(selenium_standalone, py_peer,
                                                                             room_name):
    from selenium.webdriver.common.by import By

    selenium = selenium_standalone
    peer = py_peer("viewer", room_name, video=False, audio=False)
    open_page(selenium)
    selenium.driver.execute_script(ADD_BUTTON)
    run_py(selenium, JOIN_WITH_SHARE_BUTTON.format(url=LIVEKIT_URL, token=make_token("sharer", room_name)))
    assert run_py(selenium, "json.dumps(bool(js.navigator.userActivation.hasBeenActive))") is False
    selenium.driver.find_element(By.ID, "share").click()  # a real click: user activation for getDisplayMedia
    shared = run_py(selenium, AFTER_SHARE_CLICK.format())
    # (Measured here: with --use-fake-ui-for-media-stream this headless Chromium also lets getDisplayMedia run
    # without a user activation; a real browser does not, hence the click handler, which is what a page needs.)
    assert run_py(selenium, "json.dumps(bool(js.navigator.userActivation.hasBeenActive))") is True
    assert shared["source"] == "SCREENSHARE" and shared["kind"] == "KIND_VIDEO" and shared["enabled"], shared
    assert shared["name"] == "screen_share" and shared["width"] > 0, shared
    sub = peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == shared["sid"], 20,
                        "the peer to subscribe to the screen share")
    assert sub["source"] == "screenshare" and sub["kind"] == "video", sub
    frames = peer.wait_for(lambda e: e["event"] == "frames" and e["sid"] == shared["sid"] and e["count"] >= 30, 30,
                           "frames of the screen share at the peer")
    assert frames["width"] > 0, frames
    mark = peer.mark()
    ended = run_py(selenium, END_SHARE.format())
    assert ["local_track_unpublished", shared["sid"]] in ended["log"], ended
    # the track's own ended event (livekit-client's TrackEvent.Ended) first, then the unpublication
    assert ended["log"].index(["track_ended", shared["sid"]]) < ended["log"].index(
        ["local_track_unpublished", shared["sid"]]), ended
    assert ended["ready_state"] == "ended" and ended["leaked_proxies"] == 0, ended
    peer.wait_for(lambda e: e["event"] == "track_unpublished" and e["sid"] == shared["sid"], 20,
                  "the peer to see the share unpublished", since=mark)
    assert logged_warnings(selenium) == []


BEFORE_ROOM = """
from livekit_pyweb import TrackPublishOptions, create_local_tracks
calls = js.eval("(() => {{ const md = navigator.mediaDevices; const real = md.getUserMedia.bind(md);"
                " window.__gumCalls = 0; md.getUserMedia = (c) => {{ window.__gumCalls++; return real(c); }}; }})()")
tracks = await create_local_tracks(audio=RAW_MIC, video=True)  # no Room exists yet
video = next(t for t in tracks if t.kind.name == "KIND_VIDEO")
audio = next(t for t in tracks if t.kind.name == "KIND_AUDIO")
room = Room()
record(room)
await room.connect({url!r}, {token!r})
vpub = await room.local_participant.publish_track(
    video, TrackPublishOptions(name="slides", source=TrackSource.SOURCE_SCREENSHARE, simulcast=False))
apub = await room.local_participant.publish_track(audio, TrackPublishOptions(name="voice"))
json.dumps({{"gum_calls": int(js.window.__gumCalls), "video": [vpub.sid, vpub.name, source_name(vpub)],
            "audio": [apub.sid, apub.name, source_name(apub)], "simulcast": vpub.simulcasted,
            "same_platform": room._platform is not None}})
"""

UNPUBLISH = """
await room.local_participant.unpublish_track(vpub.sid)  # stop_local_track_on_unpublish: True by default
await room.local_participant.unpublish_track(apub.sid, stop=False)
state = {{"video": str(video.media_stream_track.readyState), "audio": str(audio.media_stream_track.readyState),
         "published": sorted(room.local_participant.track_publications)}}
audio.stop()
json.dumps(state)
"""

CONCURRENT = """
lp = room.local_participant
js.window.__gumCalls = 0
cam1, cam2, mic = await asyncio.gather(lp.set_camera_enabled(True), lp.set_camera_enabled(True),
                                       lp.set_microphone_enabled(True, RAW_MIC))
first = {{"same": cam1 is cam2, "gum_calls": int(js.window.__gumCalls),
         "sources": sorted(source_name(p) for p in lp.track_publications.values())}}
# enable/disable interleavings settle to the last request
await asyncio.gather(lp.set_camera_enabled(False), lp.set_camera_enabled(True), lp.set_camera_enabled(False))
first["after_off"] = [cam1.muted, bool(cam1.track.media_stream_track.enabled)]
await asyncio.gather(lp.set_camera_enabled(True), lp.set_camera_enabled(False), lp.set_camera_enabled(True))
first["after_on"] = [cam1.muted, bool(cam1.track.media_stream_track.enabled)]
first["gum_calls_total"] = int(js.window.__gumCalls)
first["cam"] = cam1.sid
first["mic"] = mic.sid
json.dumps(first)
"""


@pytest.mark.driver_timeout(120)
def test_tracks_made_before_the_room_publish_with_options_unpublish_and_concurrent_enables(
        selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("viewer", room_name, video=False, audio=False)
    open_page(selenium)
    made = run_py(selenium, BEFORE_ROOM.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    assert made["gum_calls"] == 1, made
    assert made["video"][1:] == ["slides", "SCREENSHARE"] and made["audio"][1:] == ["voice", "MICROPHONE"], made
    assert made["simulcast"] is False, made
    vsid, asid = made["video"][0], made["audio"][0]
    sub = peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == vsid, 20, "the video")
    assert sub["source"] == "screenshare", sub
    peer.wait_for(lambda e: e["event"] == "frames" and e["sid"] == vsid and e["count"] >= 20, 30, "video frames")
    peer.wait_audio("pyweb", loud=True, windows=2, timeout=20, what="the audio made before the room")
    mark = peer.mark()
    gone = run_py(selenium, UNPUBLISH.format())
    assert gone == {"video": "ended", "audio": "live", "published": []}, gone
    for sid in (vsid, asid):
        peer.wait_for(lambda e: e["event"] == "track_unpublished" and e["sid"] == sid, 20, "unpublished", since=mark)
    result = run_py(selenium, CONCURRENT.format())
    assert result["same"] and result["gum_calls"] == 2, result  # one camera and one microphone capture
    assert result["sources"] == ["CAMERA", "MICROPHONE"], result
    assert result["after_off"] == [True, False] and result["after_on"] == [False, True], result
    assert result["gum_calls_total"] == 2, result
    for sid in (result["cam"], result["mic"]):
        peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == sid, 20, "the new publications")
    assert logged_warnings(selenium) == []


SERVER_MUTE_JOIN = """
room = Room()
record(room)
await room.connect({url!r}, {token!r})
pub = await room.local_participant.set_microphone_enabled(True, RAW_MIC)
json.dumps({{"sid": pub.sid, "room": room.name}})
"""

SERVER_MUTED = """
await wait_until(lambda: pub.muted, 10, "the server's mute")
state = {{"muted": pub.muted, "track_muted": pub.track.muted, "enabled": bool(pub.track.media_stream_track.enabled),
         "events": [e for e in log if e[0] in ("track_muted", "track_unmuted")]}}
json.dumps(state)
"""

SERVER_UNMUTED = """
await wait_until(lambda: not pub.muted, 10, "the server's unmute")
json.dumps({{"enabled": bool(pub.track.media_stream_track.enabled),
            "events": [e for e in log if e[0] in ("track_muted", "track_unmuted")]}})
"""


@pytest.mark.driver_timeout(120)
def test_a_mute_requested_by_the_server_is_obeyed(selenium_standalone, py_peer, room_name):
    from livekit import api

    selenium = selenium_standalone
    peer = py_peer("viewer", room_name, video=False, audio=False)
    open_page(selenium)
    joined = run_py(selenium, SERVER_MUTE_JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    sid = joined["sid"]
    peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == sid, 20, "the peer to subscribe")
    peer.wait_audio("pyweb", loud=True, windows=2, timeout=20, what="our microphone before the mute")
    mark = peer.mark()
    room_service(lambda lk: lk.room.mute_published_track(api.MuteRoomTrackRequest(
        room=room_name, identity="pyweb", track_sid=sid, muted=True)))
    muted = run_py(selenium, SERVER_MUTED.format())
    assert muted["muted"] and muted["track_muted"] and muted["enabled"] is False, muted
    assert muted["events"] == [["track_muted", "pyweb", sid]], muted
    peer.wait_for(lambda e: e["event"] == "track_muted" and e["sid"] == sid, 10, "the peer to see it muted",
                  since=mark)
    peer.wait_audio("pyweb", loud=False, windows=4, timeout=20, since=mark, what="silence once muted")
    assert logged_warnings(selenium) == []


DENY_JOIN = """
from livekit_pyweb import ParticipantTrackPermission, PermissionStatus
room = Room()
record(room)
perm = []
room.on("track_subscription_permission_changed",
        lambda pub, status, p: perm.append([pub.sid, status.name, p.identity]))
await room.connect({url!r}, {token!r})
# Nobody may subscribe to our tracks (the peer is not listed), then publish the camera.
room.local_participant.set_track_subscription_permissions(allow_all_participants=False, participant_permissions=[])
pub = await room.local_participant.set_camera_enabled(True)
json.dumps(pub.sid)
"""

ALLOW_PEER = """
room.local_participant.set_track_subscription_permissions(
    allow_all_participants=False, participant_permissions=[ParticipantTrackPermission("viewer", allow_all=True)])
json.dumps(True)
"""

PEER_VIDEO = """
def peer_video_pub():
    p = room.remote_participants.get("viewer")
    return next((x for x in (p.track_publications.values() if p else []) if x.kind.name == "KIND_VIDEO"), None)
await wait_until(lambda: peer_video_pub() is not None and ["{event}", peer_video_pub().sid] in
                 [e[:2] for e in log] + [["permission", x[0]] for x in perm if x[1] == "{status}"], 20,
                 "{event} {status}")
vp = peer_video_pub()
frames = 0
if vp.track is not None:
    for _ in range(40):
        frames = int((await vp.track.get_stats()).get("framesDecoded", 0))
        if frames >= 10:
            break
        await asyncio.sleep(0.25)
json.dumps({{"sid": vp.sid, "perm": perm, "subscribed": vp.track is not None, "status": vp.permission_status.name,
            "frames": frames, "log": [e for e in log if e[0] in ("track_subscribed", "track_unsubscribed")]}})
"""


@pytest.mark.driver_timeout(150)
def test_track_subscription_permissions_both_ways(selenium_standalone, py_peer, room_name):
    selenium = selenium_standalone
    peer = py_peer("viewer", room_name, video=True, audio=False)
    open_page(selenium)
    sid = run_py(selenium, DENY_JOIN.format(url=LIVEKIT_URL, token=make_token("pyweb", room_name)))
    # We deny the peer: for 4 s it gets neither the track nor a frame of it.
    time.sleep(4)
    peer._drain()
    assert not [e for e in peer.events if e.get("sid") == sid and e["event"] in ("track_subscribed", "frames",
                                                                                    "first_frame")], peer.events
    mark = peer.mark()
    run_py(selenium, ALLOW_PEER)
    peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == sid, 20, "the peer, once allowed",
                  since=mark)
    peer.wait_for(lambda e: e["event"] == "frames" and e["sid"] == sid and e["count"] >= 10, 20, "frames, allowed",
                  since=mark)

    # The peer (official SDK) denies us: our side hears it and is unsubscribed; allowed again, frames again.
    first = run_py(selenium, PEER_VIDEO.format(event="track_subscribed", status=""))
    assert first["subscribed"] and first["frames"] >= 10 and first["status"] == "ALLOWED", first
    peer.send("permissions", allow_all=False, allow=[])
    denied = run_py(selenium, PEER_VIDEO.format(event="permission", status="NOT_ALLOWED"))
    assert denied["perm"] == [[first["sid"], "NOT_ALLOWED", "viewer"]], denied
    assert denied["subscribed"] is False and denied["status"] == "NOT_ALLOWED", denied
    assert [e[0] for e in denied["log"]] == ["track_subscribed", "track_unsubscribed"], denied
    peer.send("permissions", allow_all=False, allow=["pyweb"])
    allowed = run_py(selenium, PEER_VIDEO.format(event="permission", status="ALLOWED"))
    assert allowed["perm"][-1] == [first["sid"], "ALLOWED", "viewer"], allowed
    again = run_py(selenium, """
await wait_until(lambda: peer_video_pub().track is not None, 20, "subscribed again")
vp = peer_video_pub()
for _ in range(40):
    frames = int((await vp.track.get_stats()).get("framesDecoded", 0))
    if frames >= 10:
        break
    await asyncio.sleep(0.25)
json.dumps({"frames": frames, "log": [e[0] for e in log if e[0] in ("track_subscribed", "track_unsubscribed")]})
""")
    assert again["frames"] >= 10 and again["log"] == ["track_subscribed", "track_unsubscribed", "track_subscribed"], again
    assert logged_warnings(selenium) == []


WORKER_JOIN = """
from livekit_pyweb import Room, ScreenShareCaptureOptions, TrackSource, create_local_tracks
unpublished = []
# A track made before any Room, in the worker: captured on the page through the bridge the Room then shares.
early = await create_local_tracks(audio=False, video=True)
room = Room()
room.on("local_track_unpublished", lambda pub: unpublished.append(pub.sid))
await room.connect({url!r}, {token!r})
cam = await room.local_participant.publish_track(early[0])
json.dumps({{"platform": room._platform.name, "channel": room._platform.channel, "cam": cam.sid,
            "shared": room._platform is early[0]._port._platform}})
"""

WORKER_SHARE = """
pub = await room.local_participant.set_screen_share_enabled(True, ScreenShareCaptureOptions(audio=True))
audio = room.local_participant.get_track_publication(TrackSource.SOURCE_SCREENSHARE_AUDIO)
pub.track.on("ended", lambda t: unpublished.append("ended " + t.sid))
json.dumps({"sid": pub.sid, "source": pub.source.name, "handle": pub.track._port.handle, "width": pub.width,
            "audio": audio.sid if audio is not None else None})
"""

WORKER_ENDED = """
await wait_until(lambda: share_sid in unpublished, 10, "the ended share to unpublish")
await room.disconnect()
early[0].stop()
counts = await platform_ref.counts()
proxies_open = live_proxy_count() - base_proxies  # the shared platform's channel listener: it outlives the room
platform_ref.close()
json.dumps({"unpublished": unpublished, "counts": counts, "logged": logged, "proxies_open": proxies_open,
            "leaked_proxies": live_proxy_count() - base_proxies})
"""


@pytest.mark.driver_timeout(150)
def test_screen_share_through_the_worker_bridge(selenium_standalone, dist_url, py_peer, room_name):
    """In a Web Worker: a track made before the Room through the bridge is published by it; a click on the page
    gives the page user activation, the worker's set_screen_share_enabled() reaches the host's getDisplayMedia
    within it; the peer decodes the share; the page track's ended event unpublishes it."""
    from selenium.webdriver.common.by import By

    from .test_worker_bridge import open_worker_page, run_worker

    driver = selenium_standalone.driver
    peer = py_peer("viewer", room_name, video=False, audio=False)
    open_worker_page(driver, dist_url)
    run_worker(driver, WORKER_PRELUDE)
    joined = run_worker(driver, WORKER_JOIN.format(url=LIVEKIT_URL, token=make_token("worker", room_name)))
    assert joined["platform"] == "bridge" and joined["shared"] is True, joined
    peer.wait_for(lambda e: e["event"] == "frames" and e["sid"] == joined["cam"] and e["count"] >= 10, 30,
                  "frames of the track made before the room")
    driver.execute_script(ADD_BUTTON)
    driver.find_element(By.ID, "share").click()  # the page's user activation covers the host's getDisplayMedia
    shared = run_worker(driver, WORKER_SHARE)
    assert shared["source"] == "SOURCE_SCREENSHARE" and shared["width"] > 0, shared
    assert shared["audio"] is not None, shared  # the fake capture gives tab audio: SOURCE_SCREENSHARE_AUDIO
    audio_sub = peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == shared["audio"], 20,
                              "the share's audio")
    assert audio_sub["source"] == "screenshare_audio" and audio_sub["kind"] == "audio", audio_sub
    sub = peer.wait_for(lambda e: e["event"] == "track_subscribed" and e["sid"] == shared["sid"], 20, "the share")
    assert sub["source"] == "screenshare", sub
    peer.wait_for(lambda e: e["event"] == "frames" and e["sid"] == shared["sid"] and e["count"] >= 20, 30,
                  "frames of the share")
    # The user stopping the share: the page-side track fires ended (dispatched, see END_SHARE).
    driver.execute_script("livekitPyweb.hosts.get(arguments[0])._handles.get(arguments[1]).obj"
                          ".dispatchEvent(new Event('ended'))", joined["channel"], shared["handle"])
    ended = run_worker(driver, f"platform_ref = room._platform\nshare_sid = {shared['sid']!r}\n" + WORKER_ENDED)
    assert shared["sid"] in ended["unpublished"], ended  # the audio stays until the room leaves (its own ended)
    # the track's ended event (through the bridge's pushed ended) before its unpublication
    assert ended["unpublished"].index("ended " + shared["sid"]) < ended["unpublished"].index(shared["sid"]), ended
    assert ended["proxies_open"] == 1 and ended["logged"] == [] and ended["leaked_proxies"] == 0, ended
    assert ended["counts"]["handles"] == 0 and ended["counts"]["pcs"] == 0, ended
    peer.wait_for(lambda e: e["event"] == "track_unpublished" and e["sid"] == shared["sid"], 20, "unpublished")
