"""Simulcast layers for a published video track, following livekit-client's ``publishUtils.ts`` facts.

Layers are rids ``q``/``h``/``f`` in order, lowest first (quality LOW/MEDIUM/HIGH). A capture whose long side
is ≥ 960 px gets the two default lower presets plus itself, ≥ 480 px the lowest preset plus itself (then named
``q``/``h``), smaller ones a single layer. The lower presets are 180 p and 360 p, from the 16:9 or the 4:3 family
(whichever aspect is nearer). Each lower layer is made with
``scaleResolutionDownBy = max(1, short side / preset short side)``.
"""

from __future__ import annotations

import dataclasses
import math

# (short side, max bitrate, max fps), livekit-client VideoPresets (16:9) and VideoPresets43 (4:3)
_PRESETS_169 = ((90, 90_000, 20), (180, 160_000, 20), (216, 180_000, 20), (360, 450_000, 20),
                (540, 800_000, 25), (720, 1_700_000, 30), (1080, 3_000_000, 30), (1440, 5_000_000, 30),
                (2160, 8_000_000, 30))
_PRESETS_43 = ((120, 70_000, 20), (180, 125_000, 20), (240, 140_000, 20), (360, 330_000, 20),
               (480, 500_000, 20), (540, 600_000, 25), (720, 1_300_000, 30), (1080, 2_300_000, 30),
               (1440, 3_800_000, 30))

LOW, MEDIUM, HIGH = 0, 1, 2  # livekit.VideoQuality
_RIDS = ("q", "h", "f")


@dataclasses.dataclass(frozen=True, slots=True)
class Layer:
    rid: str
    quality: int
    width: int
    height: int
    max_bitrate: int
    max_framerate: float
    scale_down_by: float

    def encoding(self) -> dict[str, object]:
        """The RTCRtpEncodingParameters for this layer (no ``rid`` for a lone layer without simulcast)."""
        encoding: dict[str, object] = {
            "maxBitrate": self.max_bitrate,
            "maxFramerate": self.max_framerate,
            "scaleResolutionDownBy": self.scale_down_by,
        }
        if self.rid:
            encoding["rid"] = self.rid
        return encoding


def _family(width: int, height: int) -> tuple[tuple[int, int, int], ...]:
    aspect = max(width, height) / min(width, height)
    return _PRESETS_169 if abs(aspect - 16 / 9) < abs(aspect - 4 / 3) else _PRESETS_43


def top_preset(width: int, height: int) -> tuple[int, float]:
    """(max bitrate, max fps) of the smallest preset that covers this size."""
    short = min(width, height)
    family = _family(width, height)
    for preset_short, bitrate, fps in family:
        if short <= preset_short:
            return bitrate, fps
    return family[-1][1], family[-1][2]


def compute_layers(width: int, height: int, *, simulcast: bool = True, fps: float | None = None,
                   max_bitrate: int | None = None) -> list[Layer]:
    """The encodings to send, lowest first. Without simulcast, one HIGH layer without a rid."""
    if width <= 0 or height <= 0:
        raise ValueError(f"video size must be positive, got {width}x{height}")
    bitrate, preset_fps = top_preset(width, height)
    top_fps = fps or preset_fps
    top_bitrate = max_bitrate or bitrate
    if not simulcast:
        return [Layer("", HIGH, width, height, top_bitrate, top_fps, 1.0)]
    long_side, short_side = max(width, height), min(width, height)
    family = {s: (b, f) for s, b, f in _family(width, height)}
    if long_side >= 960:
        lower = [180, 360]
    elif long_side >= 480:
        lower = [180]
    else:
        return [Layer("", HIGH, width, height, top_bitrate, top_fps, 1.0)]
    layers: list[Layer] = []
    qualities = (LOW, MEDIUM, HIGH) if len(lower) == 2 else (LOW, MEDIUM)
    for idx, preset_short in enumerate(lower):
        scale = max(1.0, short_side / preset_short)
        b, f = family[preset_short]
        layers.append(Layer(_RIDS[idx], qualities[idx], math.ceil(width / scale), math.ceil(height / scale),
                            b, min(f, top_fps), scale))
    idx = len(layers)
    layers.append(Layer(_RIDS[idx], qualities[idx], width, height, top_bitrate, top_fps, 1.0))
    return layers
