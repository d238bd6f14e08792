"""Dynacast, sans-IO: which of a published video track's encodings to keep sending, from the server's
``SubscribedQualityUpdate`` (livekit-client ``LocalVideoTrack.setPublishingCodecs`` / ``setPublishingLayersForSender``).

The server tells each publisher, per track, which qualities (LOW/MEDIUM/HIGH) some subscriber currently needs;
an encoding nobody needs is switched off (``RTCRtpEncodingParameters.active = false``), which saves the encoder's
CPU and the uplink. Only with ``RoomOptions.dynacast`` (livekit-client: off by default, the update is then ignored).

Encodings map to qualities by rid as livekit-client does: ``q`` LOW, ``h`` MEDIUM, ``f`` HIGH, and a lone encoding
without a rid counts as ``q`` (LOW): it is sent as long as anyone subscribes. A quality the update does not mention
leaves its encoding as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .simulcast import HIGH, LOW, MEDIUM, Layer

_RID_QUALITY = {"q": LOW, "h": MEDIUM, "f": HIGH}


def rid_quality(rid: str) -> int:
    """livekit-client ``videoQualityForRid``, with its ``"" → "q"`` rule for a lone encoding."""
    return _RID_QUALITY.get(rid or "q", HIGH)


def codec_name(mime_type: str) -> str:
    """``"video/VP8"`` → ``"vp8"`` (the spelling of ``SubscribedCodec.codec``)."""
    return mime_type.rpartition("/")[2].lower()


def subscribed_qualities(update: Any, mime_type: str) -> dict[int, bool] | None:
    """{quality: enabled} for the codec this track is sent with, from a ``SubscribedQualityUpdate``; None if the
    update says nothing about it.

    Entries for other codecs are about a backup codec's sender (the room handles them: it publishes the backup
    codec when first asked, as livekit-client). While the server has not told us our codec yet (``mime_type`` empty), the first entry is ours, as
    livekit-client does for a track without a preferred codec. An update with no codec list (older servers) carries
    the qualities in ``subscribed_qualities``.
    """
    codecs = list(update.subscribed_codecs)
    if codecs:
        own = codec_name(mime_type) if mime_type else ""
        chosen = next((c for c in codecs if codec_name(c.codec) == own), None) if own else codecs[0]
        if chosen is None:
            return None
        qualities = chosen.qualities
    else:
        qualities = update.subscribed_qualities
    return {int(q.quality): bool(q.enabled) for q in qualities}


def encodings_active(layers: Sequence[Layer], qualities: Mapping[int, bool], current: Sequence[bool]) -> list[bool]:
    """The ``active`` flag of each encoding (in ``layers`` order, as sent), given the subscribed qualities and the
    flags as they are now (kept for a quality the update does not mention)."""
    if len(current) != len(layers):
        raise ValueError(f"{len(current)} flags for {len(layers)} layers")
    if any(layer.scalability_mode for layer in layers) and any(qualities.values()):
        # livekit-client: an SVC encoding carries every layer: sent while any quality is wanted
        qualities = dict.fromkeys(qualities, True)
    return [qualities.get(rid_quality(layer.rid), was) for layer, was in zip(layers, current)]
