"""is_browser_supported / supports_adaptive_stream / supports_dynacast: livekit-client's tests, asked of the page
hosting the media through the Platform port (here the fake)."""

from __future__ import annotations

import pytest

from livekit_pyweb import is_browser_supported, supports_adaptive_stream, supports_dynacast

from .fakes import FakePlatform


@pytest.mark.parametrize(("caps", "expected"), [
    ({}, (True, True, True)),  # the fake's defaults: a modern page
    ({"addTransceiver": False}, (True, True, False)),  # addTrack only: supported, no dynacast
    ({"addTransceiver": False, "addTrack": False}, (False, True, False)),
    ({"RTCPeerConnection": False, "addTransceiver": False, "addTrack": False}, (False, True, False)),
    ({"ResizeObserver": False}, (True, False, True)),
    ({"IntersectionObserver": False}, (True, False, True)),
])
async def test_answers_follow_the_pages_capabilities(caps, expected) -> None:
    platform = FakePlatform()
    platform.caps.update(caps)
    got = (await is_browser_supported(platform), await supports_adaptive_stream(platform),
           await supports_dynacast(platform))
    assert got == expected
    assert platform.started == 3  # each asked the page


async def test_without_a_browser_nothing_is_supported() -> None:
    # CPython: no js module, so no platform to ask.
    assert (await is_browser_supported(), await supports_adaptive_stream(), await supports_dynacast()) == \
        (False, False, False)
