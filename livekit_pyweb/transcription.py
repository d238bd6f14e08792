"""Transcriptions, as livekit.rtc has them: ``Room`` emits ``transcription_received(segments, participant,
publication)`` for each ``transcription`` data packet (what ``LocalParticipant.publish_transcription`` of livekit.rtc,
and of this package, sends); livekit-client emits the same ``TranscriptionReceived``.

Agents also send their transcripts as text streams on the ``lk.transcription`` topic (attributes
``lk.segment_id``, ``lk.transcribed_track_id``, ``lk.transcription_final``): livekit.rtc hands those to a text
stream handler (``room.register_text_stream_handler("lk.transcription", ...)``), and so does this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List


@dataclass
class Transcription:
    participant_identity: str
    track_sid: str
    segments: List["TranscriptionSegment"]


@dataclass
class TranscriptionSegment:
    id: str
    text: str
    start_time: int
    end_time: int
    language: str
    final: bool
