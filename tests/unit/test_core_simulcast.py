"""Simulcast layers as livekit-client 2.x computes them (``publishUtils.ts``, ``VideoPresets``/``VideoPresets43``
in ``track/options.ts``), so the SFU sees the same layers from us as from a JS peer on the same camera."""

import math

import pytest

from livekit_pyweb._core import proto
from livekit_pyweb._core.simulcast import compute_layers, top_preset

# livekit-client VideoPresets (16:9) and VideoPresets43 (4:3): (width, height, maxBitrate, maxFramerate).
PRESETS_169 = [(160, 90, 90_000, 20), (320, 180, 160_000, 20), (384, 216, 180_000, 20), (640, 360, 450_000, 20),
               (960, 540, 800_000, 25), (1280, 720, 1_700_000, 30), (1920, 1080, 3_000_000, 30),
               (2560, 1440, 5_000_000, 30), (3840, 2160, 8_000_000, 30)]
PRESETS_43 = [(160, 120, 70_000, 20), (240, 180, 125_000, 20), (320, 240, 140_000, 20), (480, 360, 330_000, 20),
              (640, 480, 500_000, 20), (720, 540, 600_000, 25), (960, 720, 1_300_000, 30),
              (1440, 1080, 2_300_000, 30), (1920, 1440, 3_800_000, 30)]


def _top(width, height):
    (layer,) = compute_layers(width, height, simulcast=False, max_bitrate=top_preset(width, height)[0])
    assert (layer.max_bitrate, layer.max_framerate) == top_preset(width, height)
    return top_preset(width, height)


@pytest.mark.parametrize("width, height, bitrate, fps", PRESETS_169 + PRESETS_43)
def test_a_capture_of_a_preset_size_gets_that_preset(width, height, bitrate, fps):
    assert _top(width, height) == (bitrate, fps)


@pytest.mark.parametrize("family", [PRESETS_169, PRESETS_43], ids=["16:9", "4:3"])
def test_one_line_more_than_a_preset_gets_the_next_one(family):
    aspect = family[0][0] / family[0][1]
    for (_, short, _, _), (_, _, bitrate, fps) in zip(family, family[1:]):
        assert _top(math.ceil((short + 1) * aspect), short + 1) == (bitrate, fps), short
    # Beyond the largest preset: the largest.
    assert _top(2 * family[-1][0], 2 * family[-1][1]) == family[-1][2:]


def test_layer_qualities_are_the_protocol_values():
    vq = proto.models().VideoQuality
    assert [layer.quality for layer in compute_layers(1280, 720)] == [vq.LOW, vq.MEDIUM, vq.HIGH]
    assert [layer.quality for layer in compute_layers(640, 480)] == [vq.LOW, vq.MEDIUM]


def test_encodings_are_rtcrtpencodingparameters():
    q, _, f = compute_layers(1280, 720)
    assert q.encoding() == {"rid": "q", "maxBitrate": 160_000, "maxFramerate": 20, "scaleResolutionDownBy": 4.0}
    assert f.encoding() == {"rid": "f", "maxBitrate": 1_700_000, "maxFramerate": 30, "scaleResolutionDownBy": 1.0}
    # livekit-client: no simulcast and no videoEncoding -> one encoding without limits; with one -> that one
    (single,) = compute_layers(1280, 720, simulcast=False)
    assert single.encoding() == {}
    (single,) = compute_layers(1280, 720, simulcast=False, max_bitrate=1_000_000)
    assert single.encoding() == {"maxBitrate": 1_000_000, "maxFramerate": 30}


@pytest.mark.parametrize("width, height, low, mid", [
    (1280, 800, 160_000, 450_000),   # 16:10 is nearer 16:9
    (960, 640, 125_000, 330_000),    # 3:2 is nearer 4:3
])
def test_the_nearer_aspect_picks_the_lower_layers_presets(width, height, low, mid):
    q, h, _ = compute_layers(width, height)
    assert (q.max_bitrate, h.max_bitrate) == (low, mid)


@pytest.mark.parametrize("width, height, rids", [
    (960, 540, ["q", "h", "f"]),
    (540, 960, ["q", "h", "f"]),     # portrait: the long side counts
    (959, 540, ["q", "h"]),
    (480, 270, ["q", "h"]),
    (479, 270, ["q"]),               # livekit-client names a lone simulcast layer q
    (1, 1, ["q"]),
])
def test_layer_count_follows_the_long_side(width, height, rids):
    layers = compute_layers(width, height)
    assert [layer.rid for layer in layers] == rids
    top = layers[-1]
    assert (top.width, top.height, top.scale_down_by) == (width, height, 1.0)


def test_no_layer_scales_up():
    # 960x240: the 360 p layer would be larger than the capture; it is sent at capture size instead.
    q, h, f = compute_layers(960, 240)
    assert (h.width, h.height, h.scale_down_by) == (960, 240, 1.0)
    assert q.scale_down_by == pytest.approx(240 / 180)


@pytest.mark.parametrize("width, height", [(0, 10), (10, 0), (-640, 480)])
def test_a_size_without_pixels_is_refused(width, height):
    with pytest.raises(ValueError):
        compute_layers(width, height)
