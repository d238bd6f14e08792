"""The room's participant/track model, sans-IO: ParticipantInfo lists in, change events out.

The server describes participants in the JoinResponse (``other_participants``) and in ``update`` messages
(``ParticipantUpdate``), each a full ``ParticipantInfo`` with a ``version``. :class:`RoomModel` keeps the latest
info per participant sid and reports what changed, in a fixed order: participant joined, its tracks published;
tracks unpublished before their participant leaves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import proto, wire


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantJoined:
    info: Any


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantLeft:
    info: Any


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantChanged:
    info: Any


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TrackPublished:
    participant_sid: str
    track: Any


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TrackUnpublished:
    participant_sid: str
    track: Any


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TrackMuteChanged:
    participant_sid: str
    track: Any


ModelEvent = ParticipantJoined | ParticipantLeft | ParticipantChanged | TrackPublished | TrackUnpublished | TrackMuteChanged


def _is_gone(info: Any) -> bool:
    return bool(info.state == proto.models().ParticipantInfo.DISCONNECTED)


class RoomModel:
    """Remote participants by sid, updated from ParticipantInfo messages."""

    def __init__(self) -> None:
        self.local_sid = ""
        self.participants: dict[str, Any] = {}

    def sid_for_identity(self, identity: str) -> str | None:
        for sid, info in self.participants.items():
            if info.identity == identity:
                return sid
        return None

    def apply(self, infos: Any) -> list[ModelEvent]:
        events: list[ModelEvent] = []
        for info in infos:
            if info.sid == self.local_sid:
                continue
            old = self.participants.get(info.sid)
            if _is_gone(info):
                if old is not None:
                    events.extend(self._remove(info.sid, final=info))
                continue
            if old is not None and info.version and old.version and info.version < old.version:
                continue  # stale update
            if old is None:
                # Same identity rejoining under a new sid: the old one leaves first.
                stale = self.sid_for_identity(info.identity)
                if stale is not None:
                    events.extend(self._remove(stale))
                self.participants[info.sid] = info
                events.append(ParticipantJoined(info=info))
                events.extend(TrackPublished(participant_sid=info.sid, track=t) for t in info.tracks)
                continue
            self.participants[info.sid] = info
            old_tracks = {t.sid: t for t in old.tracks}
            new_tracks = {t.sid: t for t in info.tracks}
            for sid, track in new_tracks.items():
                before = old_tracks.get(sid)
                if before is None:
                    events.append(TrackPublished(participant_sid=info.sid, track=track))
                elif before.muted != track.muted:
                    events.append(TrackMuteChanged(participant_sid=info.sid, track=track))
            for sid, track in old_tracks.items():
                if sid not in new_tracks:
                    events.append(TrackUnpublished(participant_sid=info.sid, track=track))
            if (old.name, old.metadata, dict(old.attributes), old.permission) != (
                info.name, info.metadata, dict(info.attributes), info.permission
            ):
                events.append(ParticipantChanged(info=info))
        return events

    def remove_track(self, track_sid: str) -> list[ModelEvent]:
        """A ``track_unpublished`` message for a remote track (rare; usually an update says so)."""
        for psid, info in self.participants.items():
            for t in info.tracks:
                if t.sid == track_sid:
                    updated = proto.models().ParticipantInfo()
                    updated.CopyFrom(wire.to_proto(info))
                    del updated.tracks[:]
                    updated.tracks.extend(x for x in info.tracks if x.sid != track_sid)
                    self.participants[psid] = updated
                    return [TrackUnpublished(participant_sid=psid, track=t)]
        return []

    def _remove(self, sid: str, final: Any = None) -> list[ModelEvent]:
        """Everything ``sid`` published goes, then ``sid`` itself; ``final`` is its last info (the server's
        DISCONNECTED one, with the reason) when there is one."""
        info = self.participants.pop(sid)
        events: list[ModelEvent] = [TrackUnpublished(participant_sid=sid, track=t) for t in info.tracks]
        events.append(ParticipantLeft(info=final if final is not None else info))
        return events

    def clear(self) -> list[ModelEvent]:
        events: list[ModelEvent] = []
        for sid in list(self.participants):
            events.extend(self._remove(sid))
        return events


def parse_stream_id(stream_id: str) -> tuple[str, str]:
    """``"PA_x|TR_y"`` → ``("PA_x", "TR_y")``; a bare id gives ``("", id)`` (livekit-client ``unpackStreamId``)."""
    parts = stream_id.split("|")
    if len(parts) > 1:
        return parts[0], stream_id[len(parts[0]) + 1 :]
    return "", stream_id
