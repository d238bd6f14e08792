"""Every signalling message kind is handled or ignored on purpose, and the state messages become livekit.rtc's
events with livekit.rtc's arguments."""

from __future__ import annotations

import asyncio

from livekit_pyweb import ConnectionQuality, StreamState
from livekit_pyweb._core import proto
from livekit_pyweb._engine import ENGINE_SIGNALS
from livekit_pyweb.room import _SIGNAL_HANDLERS, IGNORED_SIGNALS

from .fakes import FakeTrack, TrackEvent, connected_room, participant, until


def test_every_signal_kind_is_handled_or_ignored_on_purpose():
    kinds = {f.name for f in proto.rtc().SignalResponse.DESCRIPTOR.oneofs_by_name["message"].fields}
    room_side = set(_SIGNAL_HANDLERS)
    assert not room_side & set(IGNORED_SIGNALS)
    assert kinds == ENGINE_SIGNALS | room_side | set(IGNORED_SIGNALS), kinds ^ (ENGINE_SIGNALS | room_side | set(IGNORED_SIGNALS))
    assert all(reason for reason in IGNORED_SIGNALS.values())


def _record(room, *names):
    seen: list[tuple] = []
    for name in names:
        room.on(name, lambda *args, n=name: seen.append((n, *args)))
    return seen


async def test_participant_changes_emit_livekit_rtc_events():
    alice = participant("PA_a", "alice")
    alice.attributes["role"] = "host"
    room, socket, pc = await connected_room(others=[alice])
    seen = _record(room, "participant_name_changed", "participant_metadata_changed",
                   "participant_attributes_changed", "participant_permissions_changed")
    update = participant("PA_a", "alice", version=2)
    update.name, update.metadata = "Alice", "{\"x\": 1}"
    update.attributes["mood"] = "happy"  # "role" removed, "mood" added
    update.permission.can_publish = True
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[update]))
    await until(lambda: len(seen) == 4)
    p = room.remote_participants["alice"]
    assert seen[:3] == [("participant_name_changed", p, "", "Alice"),
                        ("participant_metadata_changed", p, "", "{\"x\": 1}"),
                        ("participant_attributes_changed", {"role": "", "mood": "happy"}, p)]
    assert seen[3][0] == "participant_permissions_changed" and seen[3][1] is p and seen[3][2].can_publish
    assert p.name == "Alice" and p.attributes == {"mood": "happy"}
    await room.disconnect()


async def test_our_own_changes_are_reported_too():
    room, socket, pc = await connected_room()
    seen = _record(room, "participant_metadata_changed")
    me = participant("PA_me", "me", version=2)
    me.metadata = "mine"
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[me]))
    await until(lambda: bool(seen))
    assert seen == [("participant_metadata_changed", room.local_participant, "", "mine")]
    await room.disconnect()


async def test_speakers_quality_stream_state_token_room_updates():
    room, socket, pc = await connected_room(others=[participant("PA_a", "alice", [("TR_v", 1)]),
                                                    participant("PA_b", "bob")])
    seen = _record(room, "active_speakers_changed", "connection_quality_changed", "token_refreshed", "room_updated")
    rtc, m = proto.rtc(), proto.models()
    alice, bob = room.remote_participants["alice"], room.remote_participants["bob"]
    socket.push(speakers_changed=rtc.SpeakersChanged(speakers=[
        m.SpeakerInfo(sid="PA_a", level=0.2, active=True), m.SpeakerInfo(sid="PA_b", level=0.7, active=True)]))
    socket.push(speakers_changed=rtc.SpeakersChanged(speakers=[m.SpeakerInfo(sid="PA_b", active=False)]))
    socket.push(connection_quality=rtc.ConnectionQualityUpdate(updates=[
        rtc.ConnectionQualityInfo(participant_sid="PA_me", quality=m.ConnectionQuality.EXCELLENT),
        rtc.ConnectionQualityInfo(participant_sid="PA_a", quality=m.ConnectionQuality.POOR)]))
    socket.push(refresh_token="eyJnew.token.value")
    socket.push(room_update=rtc.RoomUpdate(room=m.Room(name="r", sid="RM_1", num_participants=3)))
    await until(lambda: len(seen) == 6)
    assert seen == [("active_speakers_changed", [bob, alice]), ("active_speakers_changed", [alice]),
                    ("connection_quality_changed", room.local_participant, ConnectionQuality.QUALITY_EXCELLENT),
                    ("connection_quality_changed", alice, ConnectionQuality.QUALITY_POOR),
                    ("token_refreshed",), ("room_updated",)]
    assert alice.connection_quality is ConnectionQuality.QUALITY_POOR
    assert bob.connection_quality is ConnectionQuality.QUALITY_UNKNOWN
    assert room._engine.token == "eyJnew.token.value"

    pc.on_track(TrackEvent(FakeTrack("TR_v", "video"), ["PA_a|TR_v"], mid="1"))
    pub = alice.track_publications["TR_v"]
    await until(lambda: pub.track is not None)
    assert pub.track.stream_state is StreamState.STATE_UNKNOWN
    socket.push(stream_state_update=rtc.StreamStateUpdate(stream_states=[
        rtc.StreamStateInfo(participant_sid="PA_a", track_sid="TR_v", state=rtc.StreamState.PAUSED)]))
    await until(lambda: pub.track.stream_state is StreamState.STATE_PAUSED)
    await room.disconnect()


async def test_unknown_future_kinds_are_not_silent(expect_log):
    room, socket, pc = await connected_room()
    room._on_signal("teleport", object())
    assert [r.getMessage() for r in expect_log] == [
        "signal message 'teleport' is not known to this version of livekit_pyweb"]
    room._on_signal("reconnect", object())  # known, ignored on purpose: debug only
    assert len(expect_log) == 1
    await room.disconnect()


async def test_participant_details():
    m = proto.models()
    info = participant("PA_a", "alice")
    info.kind = m.ParticipantInfo.Kind.AGENT
    info.joined_at_ms = 1_700_000_000_123
    room, socket, pc = await connected_room(others=[info])
    alice = room.remote_participants["alice"]
    assert alice.kind.name == "PARTICIPANT_KIND_AGENT" and alice.state.name == "PARTICIPANT_STATE_ACTIVE"
    assert alice.joined_at is not None and alice.joined_at.timestamp() == 1_700_000_000.123
    assert alice.disconnect_reason is None
    gone = participant("PA_a", "alice", version=2)
    gone.state, gone.disconnect_reason = m.ParticipantInfo.DISCONNECTED, m.DisconnectReason.PARTICIPANT_REMOVED
    left: list = []
    room.on("participant_disconnected", left.append)
    socket.push(update=proto.rtc().ParticipantUpdate(participants=[gone]))
    await until(lambda: bool(left))
    assert left == [alice] and alice.disconnect_reason.name == "PARTICIPANT_REMOVED"
    await room.disconnect()
