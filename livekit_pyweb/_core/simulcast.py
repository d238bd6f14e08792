"""The encodings of a published video track, computed as livekit-client's ``publishUtils.ts`` does
(``computeVideoEncodings``, ``determineAppropriateEncoding``, ``encodingsFromPresets``) and the layers announced to
the server (``videoLayersFromEncodings``), so the SFU sees the same from us as from a JS peer on the same camera.

* The top layer's limits: the given encoding, else the smallest preset of the capture's family (16:9 or 4:3,
  whichever aspect is nearer; screen shares: the screen-share presets) whose width covers the long side, its bitrate
  scaled for the codec (vp9 x0.85, av1/h265 x0.7).
* SVC (vp9/av1 with a scalability mode): one encoding carrying the mode; the announced layers are its spatial
  layers (half size, a third of the bitrate each step down; ``h`` modes 1.5x and half).
* Simulcast: rids ``q``/``h``/``f`` by index, lowest first. The lower presets default to 180 p and 360 p of the
  family (a screen share: one at half size); a capture whose long side is ≥ 960 px gets both plus itself, ≥ 480 px
  the lowest plus itself, a smaller one only itself (as rid ``q``). Each layer is
  ``scaleResolutionDownBy = max(1, capture short side / preset short side)``, its frame rate capped by the top's.
* Without simulcast: the top encoding alone, no rid; without simulcast and without an explicit encoding, one
  encoding with no limits at all (``{}``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

LOW, MEDIUM, HIGH = 0, 1, 2  # livekit.VideoQuality
_RIDS = ("q", "h", "f")
_RID_QUALITY = {"q": LOW, "h": MEDIUM, "f": HIGH}


class Preset(NamedTuple):
    width: int
    height: int
    max_bitrate: int
    max_framerate: float | None = None
    priority: str | None = None


# livekit-client VideoPresets (16:9), VideoPresets43 and ScreenSharePresets (track/options.ts), smallest first.
PRESETS_169 = (Preset(160, 90, 90_000, 20), Preset(320, 180, 160_000, 20), Preset(384, 216, 180_000, 20),
               Preset(640, 360, 450_000, 20), Preset(960, 540, 800_000, 25), Preset(1280, 720, 1_700_000, 30),
               Preset(1920, 1080, 3_000_000, 30), Preset(2560, 1440, 5_000_000, 30),
               Preset(3840, 2160, 8_000_000, 30))
PRESETS_43 = (Preset(160, 120, 70_000, 20), Preset(240, 180, 125_000, 20), Preset(320, 240, 140_000, 20),
              Preset(480, 360, 330_000, 20), Preset(640, 480, 500_000, 20), Preset(720, 540, 600_000, 25),
              Preset(960, 720, 1_300_000, 30), Preset(1440, 1080, 2_300_000, 30), Preset(1920, 1440, 3_800_000, 30))
PRESETS_SCREEN = (Preset(640, 360, 200_000, 3, "medium"), Preset(640, 360, 400_000, 15, "medium"),
                  Preset(1280, 720, 800_000, 5, "medium"), Preset(1280, 720, 1_500_000, 15, "medium"),
                  Preset(1280, 720, 2_000_000, 30, "medium"), Preset(1920, 1080, 2_500_000, 15, "medium"),
                  Preset(1920, 1080, 5_000_000, 30, "medium"), Preset(0, 0, 7_000_000, 30, "medium"))
SCREEN_SHARE_DEFAULT = PRESETS_SCREEN[5]  # h1080fps15: livekit-client's publishDefaults.screenShareEncoding
SVC_CODECS = frozenset({"vp9", "av1"})
DEFAULT_SCALABILITY_MODE = "L3T3_KEY"
_SCALABILITY = re.compile(r"^L(\d)T(\d)(h|_KEY|_KEY_SHIFT)?$")


@dataclasses.dataclass(frozen=True, slots=True)
class Encoding:
    """A top-layer limit (livekit-client ``VideoEncoding``)."""

    max_bitrate: int
    max_framerate: float | None = None
    priority: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Layer:
    """One sender encoding (RTCRtpEncodingParameters), lowest first; ``max_bitrate`` 0 means no limit."""

    rid: str
    quality: int
    width: int
    height: int
    max_bitrate: int
    max_framerate: float | None
    scale_down_by: float | None
    scalability_mode: str | None = None
    priority: str | None = None

    def encoding(self) -> dict[str, object]:
        """The RTCRtpEncodingParameters for this layer (only the members livekit-client would set)."""
        encoding: dict[str, object] = {}
        if self.rid:
            encoding["rid"] = self.rid
        if self.scale_down_by is not None:
            encoding["scaleResolutionDownBy"] = self.scale_down_by
        if self.max_bitrate:
            encoding["maxBitrate"] = self.max_bitrate
        if self.max_framerate:
            encoding["maxFramerate"] = self.max_framerate
        if self.scalability_mode:
            encoding["scalabilityMode"] = self.scalability_mode
        if self.priority:
            encoding["priority"] = self.priority
            encoding["networkPriority"] = self.priority
        return encoding


class AnnouncedLayer(NamedTuple):
    """A ``VideoLayer`` of the AddTrackRequest."""

    quality: int
    width: int
    height: int
    bitrate: int
    spatial_layer: int = 0
    """The layer's rank among the announced qualities, lowest 0: what livekit-server computes for the primary
    codec once the rids are known (``VideoQualityToSpatialLayer``). The server copies these layers to the backup
    codec and computes nothing for it until the backup is published, so without it every backup layer is spatial
    layer 0, and for a track announcing LOW and MEDIUM only (a capture up to 640 wide) the server maps a
    subscriber's first request for the backup codec to OFF and never asks for it (measured with livekit-server
    1.13.5: a subscriber without the primary codec received nothing; see tests/e2e/test_backup_codec.py)."""


def is_svc(codec: str | None) -> bool:
    return codec in SVC_CODECS


def parse_scalability_mode(mode: str) -> tuple[int, int, str]:
    """``"L3T3_KEY"`` → ``(3, 3, "_KEY")``. Raises ValueError for anything else."""
    match = _SCALABILITY.match(mode)
    if match is None:
        raise ValueError(f"invalid scalability mode {mode!r}")
    return int(match.group(1)), int(match.group(2)), match.group(3) or ""


def rid_quality(rid: str) -> int:
    """livekit-client ``videoQualityForRid``: q LOW, h MEDIUM, f (and anything else) HIGH."""
    return _RID_QUALITY.get(rid, HIGH)


def presets_for(is_screen_share: bool, width: int, height: int) -> tuple[Preset, ...]:
    if is_screen_share:
        return PRESETS_SCREEN
    aspect = max(width, height) / min(width, height)
    return PRESETS_169 if abs(aspect - 16 / 9) < abs(aspect - 4 / 3) else PRESETS_43


def appropriate_encoding(is_screen_share: bool, width: int, height: int, codec: str | None = None) -> Encoding:
    """livekit-client ``determineAppropriateEncoding``: the first preset (smallest first) whose width covers the
    long side, else the largest; its bitrate scaled for codecs that need fewer bits than vp8."""
    _check(width, height)
    presets = presets_for(is_screen_share, width, height)
    size = max(width, height)
    chosen = presets[-1]
    for preset in presets:
        if preset.width >= size:
            chosen = preset
            break
    bitrate = chosen.max_bitrate
    if codec in ("av1", "h265"):
        bitrate = int(bitrate * 0.7)
    elif codec == "vp9":
        bitrate = int(bitrate * 0.85)
    return Encoding(bitrate, chosen.max_framerate, chosen.priority)


def top_preset(width: int, height: int) -> tuple[int, float | None]:
    """(max bitrate, max fps) livekit-client gives a camera capture of this size."""
    encoding = appropriate_encoding(False, width, height)
    return encoding.max_bitrate, encoding.max_framerate


def _default_lower_presets(is_screen_share: bool, original: Preset) -> list[Preset]:
    if is_screen_share:  # computeDefaultScreenShareSimulcastPresets: one layer at half size
        fps = original.max_framerate
        bitrate = max(150_000, math.floor(original.max_bitrate / (2 ** 2 * ((fps or 30) / (fps or 30)))))
        return [Preset(math.floor(original.width / 2), math.floor(original.height / 2), bitrate, fps,
                       original.priority)]
    family = presets_for(False, original.width, original.height)
    return [family[1], family[3]]  # h180, h360 of the family


def _sorted_presets(presets: Sequence[Preset]) -> list[Preset]:
    # livekit-client sortPresets: by bitrate, then frame rate
    return sorted(presets, key=lambda p: (p.max_bitrate, p.max_framerate or 0))


def compute_layers(width: int, height: int, *, simulcast: bool = True, encoding: Encoding | None = None,
                   codec: str | None = None, scalability_mode: str | None = None, is_screen_share: bool = False,
                   lower_presets: Sequence[Preset] | None = None, max_bitrate: int | None = None) -> list[Layer]:
    """The sender encodings, lowest first (livekit-client ``computeVideoEncodings``).

    ``max_bitrate`` is a shorthand for ``encoding`` (top bitrate, the preset's frame rate).
    """
    _check(width, height)
    if encoding is None and max_bitrate is not None:
        encoding = Encoding(max_bitrate, appropriate_encoding(is_screen_share, width, height, codec).max_framerate)
    if encoding is None and not simulcast and not scalability_mode:
        return [Layer("", HIGH, width, height, 0, None, None)]
    if encoding is None:
        encoding = appropriate_encoding(is_screen_share, width, height, codec)
    if scalability_mode and is_svc(codec):
        spatial, _, _ = parse_scalability_mode(scalability_mode)
        if spatial > 3:
            raise ValueError(f"unsupported scalability mode {scalability_mode!r}")
        return [Layer("", HIGH, width, height, encoding.max_bitrate, encoding.max_framerate, None,
                      scalability_mode, encoding.priority)]
    if not simulcast:
        return [Layer("", HIGH, width, height, encoding.max_bitrate, encoding.max_framerate, None, None,
                      encoding.priority)]
    original = Preset(width, height, encoding.max_bitrate, encoding.max_framerate, encoding.priority)
    presets = (_sorted_presets(lower_presets) if lower_presets is not None
               else _default_lower_presets(is_screen_share, original))
    size = max(width, height)
    if presets and size >= 960 and len(presets) > 1:
        return _from_presets(width, height, [presets[0], presets[1], original], encoding.max_framerate)
    if presets and size >= 480:
        return _from_presets(width, height, [presets[0], original], encoding.max_framerate)
    return _from_presets(width, height, [original], None)


def _from_presets(width: int, height: int, presets: Sequence[Preset], source_fps: float | None) -> list[Layer]:
    """livekit-client ``encodingsFromPresets`` (Chromium: a priority only on the first encoding)."""
    layers = []
    short = min(width, height)
    for idx, preset in enumerate(presets[: len(_RIDS)]):
        rid = _RIDS[idx]
        scale = max(1.0, short / min(preset.width, preset.height))
        fps = (min(source_fps, preset.max_framerate) if source_fps and preset.max_framerate
               else preset.max_framerate)
        layers.append(Layer(rid, rid_quality(rid), math.ceil(width / scale), math.ceil(height / scale),
                            preset.max_bitrate, fps, scale, None, preset.priority if idx == 0 else None))
    return layers


def announced_layers(width: int, height: int, layers: Sequence[Layer]) -> list[AnnouncedLayer]:
    """The AddTrackRequest's ``layers`` (livekit-client ``videoLayersFromEncodings``)."""
    mode = layers[0].scalability_mode if len(layers) == 1 else None
    if mode:
        top = layers[0]
        spatial, _, suffix = parse_scalability_mode(mode)
        res_ratio, rate_ratio = (1.5, 2) if suffix == "h" else (2.0, 3)
        return _ranked([AnnouncedLayer(min(HIGH, spatial - 1) - i, math.ceil(width / res_ratio ** i),
                                       math.ceil(height / res_ratio ** i),
                                       math.ceil(top.max_bitrate / rate_ratio ** i) if top.max_bitrate else 0)
                        for i in range(spatial)])
    announced = [AnnouncedLayer(rid_quality(layer.rid), math.ceil(width / (layer.scale_down_by or 1)),
                                math.ceil(height / (layer.scale_down_by or 1)), layer.max_bitrate) for layer in layers]
    return _ranked(announced)


def _ranked(layers: list[AnnouncedLayer]) -> list[AnnouncedLayer]:
    qualities = sorted({layer.quality for layer in layers})
    return [layer._replace(spatial_layer=qualities.index(layer.quality)) for layer in layers]


def _check(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"video size must be positive, got {width}x{height}")


def codec_preference_order(codecs: Sequence[tuple[str, str]], mime_type: str) -> list[int] | None:
    """The order to hand ``setCodecPreferences`` for the browser's codec capabilities ``[(mimeType, sdpFmtpLine)]``
    with ``mime_type`` preferred (livekit-client's former ``setPreferredCodec``): that codec first (for h264 the
    ``profile-level-id=42e01f`` variants before the other h264 ones), then every other codec in the browser's
    order (audio/opus entries count as preferred too). None when the browser lacks that codec."""
    wanted = mime_type.lower()
    first, partial, rest = [], [], []
    for i, (mime, fmtp) in enumerate(codecs):
        m = mime.lower()
        if m == "audio/opus" or m == wanted:
            if m == "video/h264" and "profile-level-id=42e01f" not in (fmtp or ""):
                partial.append(i)
            else:
                first.append(i)
        else:
            rest.append(i)
    if not any(codecs[i][0].lower() == wanted for i in first + partial):
        return None
    return first + partial + rest
