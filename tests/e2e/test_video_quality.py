"""Choosing the simulcast layer we receive (RemoteTrackPublication.set_video_quality) against the real server: one
page, two rooms: one publishes the camera at 1280x720 with simulcast (q 320, h 640, f 1280 wide), the other
subscribes and asks for LOW, then HIGH; the width it decodes follows."""

from __future__ import annotations

import pytest

from .conftest import LIVEKIT_URL, make_token, run_py
from .page import logged_warnings, open_page

SETUP = """
from livekit_pyweb import VideoCaptureOptions, VideoQuality
publisher = Room()
await publisher.connect({url!r}, {pub_token!r})
await publisher.local_participant.set_camera_enabled(True, VideoCaptureOptions(width=1280, height=720))
room = Room()
record(room)
await room.connect({url!r}, {sub_token!r})
video = await remote_track("publisher", "VIDEO")
element = video.attach()
js.document.body.append(element)
pub = room.remote_participants["publisher"].track_publications[video.sid]
# The server marks the track simulcast once the publisher's layers arrive (a participant update).
await wait_until(lambda: pub.simulcasted, 15, "the publication to be marked simulcast")

json.dumps({{"simulcasted": pub.simulcasted, "sid": pub.sid}})
"""

STEP = """
{call}
widths = await width_reaches(video, lambda w: {test}, {what!r}, interval=0.25)
json.dumps(widths[-1])
"""


@pytest.mark.driver_timeout(150)
def test_set_video_quality_switches_the_received_layer(selenium_standalone, room_name):
    selenium = selenium_standalone
    open_page(selenium)
    setup = run_py(selenium, SETUP.format(url=LIVEKIT_URL, pub_token=make_token("publisher", room_name),
                                          sub_token=make_token("subscriber", room_name)))
    assert setup["simulcasted"], setup
    full = run_py(selenium, STEP.format(call="pass", test="w >= 960", what="the full layer (at least 960)"))
    low = run_py(selenium, STEP.format(call="pub.set_video_quality(VideoQuality.VIDEO_QUALITY_LOW)",
                                       test="0 < w <= 400", what="the q layer (at most 400)"))
    back = run_py(selenium, STEP.format(call="pub.set_video_quality(VideoQuality.VIDEO_QUALITY_HIGH)",
                                        test="w >= 960", what="the full layer again"))
    assert (full, low, back) == (1280, 320, 1280), (full, low, back)
    run_py(selenium, "await room.disconnect()\nawait publisher.disconnect()\njson.dumps(0)")
    assert logged_warnings(selenium) == []
