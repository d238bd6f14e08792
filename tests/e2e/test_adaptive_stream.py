"""adaptiveStream and the subscriber's manual track settings against the real server. One page, two rooms: one
publishes the camera at 1280x720 with simulcast (q 320, h 640, f 1280 wide), the other subscribes.

* adaptive stream: the video attached in a 1280x720 element is received at the full layer; the element shrunk to
  200x112 makes the received width fall to the q layer; hidden (``display: none``) no frame is decoded any more;
  shown again, frames again. The element watches (ResizeObserver, IntersectionObserver, visibilitychange) cost one
  kept proxy each, destroyed when the element is detached and when the room disconnects.
* set_enabled(False): no frames; True: frames again; set_video_dimensions small: the q layer; large: full again.
* the same adaptive behaviour through the worker bridge: the page host watches the element the worker mounted.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import WORKER_PRELUDE, logged_warnings, open_page
from .test_worker_bridge import open_worker_page, run_worker

SETUP = """
from livekit_pyweb import VideoCaptureOptions, VideoQuality
publisher = Room()
await publisher.connect({url!r}, {pub_token!r})
await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(width=1280, height=720))
room = Room(RoomOptions(adaptive_stream={adaptive}))
record(room)
await room.connect({url!r}, {sub_token!r})
video = await remote_track("publisher", "VIDEO")
pub = room.remote_participants["publisher"].track_publications[video.sid]
await wait_until(lambda: pub.simulcasted, 15, "the publication to be marked simulcast")
proxies_before_attach = live_proxy_count() - base_proxies
element = video.attach()
element.style.width = "1280px"
element.style.height = "720px"
element.style.display = "block"
js.document.body.append(element)

json.dumps({{"simulcasted": pub.simulcasted, "adaptive": video.is_adaptive_stream,
            "proxies_before_attach": proxies_before_attach, "proxies": live_proxy_count() - base_proxies}})
"""

WIDTH = """
{call}
widths = await width_reaches(video, lambda w: {test}, {what!r})
json.dumps(widths[-1])
"""

FRAMES = """
{call}
json.dumps(await frames_in(video, 2.0))
"""

END = """
video.detach(element)
after_detach = live_proxy_count() - base_proxies
await room.disconnect()
await publisher.disconnect()
json.dumps({"after_detach": after_detach, "end": live_proxy_count() - base_proxies})
"""


def _setup(selenium: Any, room_name: str, adaptive: bool) -> dict[str, Any]:
    open_page(selenium)
    return run_py(selenium, SETUP.format(url=LIVEKIT_URL, pub_token=make_token("publisher", room_name),
                                         sub_token=make_token("subscriber", room_name), adaptive=adaptive))


@pytest.mark.driver_timeout(180)
def test_adaptive_stream_follows_the_element(selenium_standalone, room_name):
    selenium = selenium_standalone
    setup = _setup(selenium, room_name, adaptive=True)
    assert setup["simulcasted"] and setup["adaptive"], setup
    # one kept proxy per watched element, and the track's play() reporter (video_playback_started/failed, made at
    # its first attach, released with the track); the rooms' own proxies came before
    assert setup["proxies"] == setup["proxies_before_attach"] + 2, setup
    full = run_py(selenium, WIDTH.format(call="", test="w >= 960", what="the full layer"))
    small = run_py(selenium, WIDTH.format(call='element.style.width = "200px"; element.style.height = "112px"',
                                          test="0 < w <= 400", what="the q layer (at most 400)"))
    hidden = run_py(selenium, FRAMES.format(call='element.style.display = "none"'))
    shown = run_py(selenium, FRAMES.format(call='element.style.display = "block"'))
    big = run_py(selenium, WIDTH.format(call='element.style.width = "1280px"; element.style.height = "720px"',
                                        test="w >= 960", what="the full layer again"))
    assert (full, small, big) == (1280, 320, 1280), (full, small, big)
    assert hidden == 0 and shown >= 20, (hidden, shown)
    end = run_py(selenium, END)
    assert end == {"after_detach": setup["proxies_before_attach"] + 1, "end": 0}, (end, setup)
    assert logged_warnings(selenium) == []


@pytest.mark.driver_timeout(180)
def test_off_screen_pauses_and_scrolling_back_resumes(selenium_standalone, room_name):
    """Not hidden but out of the viewport (IntersectionObserver): paused; back in view: frames again."""
    selenium = selenium_standalone
    _setup(selenium, room_name, adaptive=True)
    run_py(selenium, WIDTH.format(call="", test="w >= 960", what="the full layer"))
    away = run_py(selenium, FRAMES.format(
        call='element.style.position = "absolute"; element.style.left = "-5000px"; element.style.top = "0px"'))
    back = run_py(selenium, FRAMES.format(call='element.style.left = "0px"'))
    assert away == 0 and back >= 20, (away, back)
    assert run_py(selenium, END)["end"] == 0
    assert logged_warnings(selenium) == []


@pytest.mark.driver_timeout(180)
def test_set_enabled_and_set_video_dimensions(selenium_standalone, room_name):
    selenium = selenium_standalone
    setup = _setup(selenium, room_name, adaptive=False)
    assert not setup["adaptive"]
    full = run_py(selenium, WIDTH.format(call="", test="w >= 960", what="the full layer"))
    off = run_py(selenium, FRAMES.format(call="pub.set_enabled(False)"))
    on = run_py(selenium, FRAMES.format(call="pub.set_enabled(True)"))
    small = run_py(selenium, WIDTH.format(call="pub.set_video_dimensions(320, 180)", test="0 < w <= 400",
                                          what="the q layer"))
    medium = run_py(selenium, WIDTH.format(call="pub.set_video_dimensions(640, 360)", test="400 < w < 960",
                                           what="the h layer"))
    large = run_py(selenium, WIDTH.format(call="pub.set_video_dimensions(1280, 720)", test="w >= 960",
                                          what="the full layer again"))
    assert (full, small, medium, large) == (1280, 320, 640, 1280), (full, small, medium, large)
    assert off == 0 and on >= 20, (off, on)
    assert run_py(selenium, END)["end"] == 0
    assert logged_warnings(selenium) == []


# After WORKER_PRELUDE (base_proxies, logged).
WORKER_SETUP = """
from livekit_pyweb import Room, RoomOptions, VideoCaptureOptions
publisher = Room()
await publisher.connect({url!r}, {pub_token!r})
await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(width=1280, height=720))
room = Room(RoomOptions(adaptive_stream=True))
await room.connect({url!r}, {sub_token!r})
video = pub = None
for _ in range(300):
    p = room.remote_participants.get("publisher")
    pubs = [x for x in p.track_publications.values() if x.track is not None] if p else []
    if pubs and pubs[0].simulcasted:
        pub = pubs[0]; video = pub.track
        break
    await asyncio.sleep(0.1)
element = video.attach_to("body")
json.dumps({{"platform": room._platform.name, "channel": room._platform.channel, "handle": element.handle}})
"""

STYLE = """
const el = livekitPyweb.hosts.get(arguments[0]).element(arguments[1]);
Object.assign(el.style, arguments[2]);
return livekitPyweb.hosts.get(arguments[0]).watchCount();
"""


@pytest.mark.driver_timeout(180)
def test_adaptive_stream_through_the_worker_bridge(selenium_standalone, dist_url, room_name):
    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    run_worker(driver, WORKER_PRELUDE)
    started = run_worker(driver, WORKER_SETUP.format(url=LIVEKIT_URL, pub_token=make_token("publisher", room_name),
                                                     sub_token=make_token("subscriber", room_name)))
    assert started["platform"] == "bridge", started

    def style(**css: str) -> int:
        return int(driver.execute_script(STYLE, started["channel"], started["handle"], css))

    assert style(display="block", width="1280px", height="720px") == 1  # the host watches the mounted element
    full = run_worker(driver, "json.dumps((await width_reaches(video, lambda w: w >= 960, 'full'))[-1])")
    style(width="200px", height="112px")
    small = run_worker(driver, "json.dumps((await width_reaches(video, lambda w: 0 < w <= 400, 'small'))[-1])")
    style(display="none")
    hidden = run_worker(driver, "json.dumps(await frames_in(video, 2.0))")
    style(display="block")
    shown = run_worker(driver, "json.dumps(await frames_in(video, 2.0))")
    assert (full, small) == (1280, 320) and hidden == 0 and shown >= 20, (full, small, hidden, shown)
    run_worker(driver, "video.detach(element)\nawait asyncio.sleep(0.3)\njson.dumps(0)")
    watches = driver.execute_script("return livekitPyweb.hosts.get(arguments[0]).watchCount()", started["channel"])
    assert watches == 0  # element.unobserve reached the host
    left = run_worker(driver, "await room.disconnect()\nawait publisher.disconnect()\n"
                              "json.dumps({'proxies': live_proxy_count() - base_proxies, 'logged': logged})")
    assert left == {"proxies": 0, "logged": []}, left
