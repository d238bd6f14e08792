"""The one boundary from signalling enums to the public (livekit.rtc-named) enums."""

import pytest

from livekit_pyweb import enums
from livekit_pyweb._core import convert, proto


def test_every_table_resolves_against_livekit_protocol():
    for what in convert._SPECS:
        table = convert.by_value(what)
        assert len(table) == len(convert._SPECS[what][2])  # every name exists in the signalling enum


def test_track_kind_and_source_both_ways():
    m = proto.models()
    assert convert.track_kind(m.TrackType.AUDIO) is enums.TrackKind.KIND_AUDIO
    assert convert.track_kind(m.TrackType.VIDEO) is enums.TrackKind.KIND_VIDEO
    assert convert.track_kind(m.TrackType.DATA) is enums.TrackKind.KIND_UNKNOWN
    for name in ("UNKNOWN", "CAMERA", "MICROPHONE", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO"):
        public = convert.track_source(m.TrackSource.Value(name))
        assert convert.to_proto_track_source(public) == m.TrackSource.Value(name)
    assert convert.track_source(m.TrackSource.SCREEN_SHARE) is enums.TrackSource.SOURCE_SCREENSHARE
    assert convert.to_proto_track_type(enums.TrackKind.KIND_VIDEO) == m.TrackType.VIDEO
    assert convert.to_proto_track_type(enums.TrackKind.KIND_AUDIO) == m.TrackType.AUDIO


def test_other_enums():
    m, r = proto.models(), proto.rtc()
    assert convert.connection_quality(m.ConnectionQuality.LOST) is enums.ConnectionQuality.QUALITY_LOST
    assert convert.stream_state(r.StreamState.PAUSED) is enums.StreamState.STATE_PAUSED
    assert convert.participant_kind(m.ParticipantInfo.Kind.AGENT) is enums.ParticipantKind.PARTICIPANT_KIND_AGENT
    # CONNECTOR and BRIDGE are 7 and 8 on the wire, 5 and 6 in livekit.rtc.
    assert convert.participant_kind(m.ParticipantInfo.Kind.BRIDGE) is enums.ParticipantKind.PARTICIPANT_KIND_BRIDGE
    assert convert.video_quality(m.VideoQuality.LOW) is enums.VideoQuality.VIDEO_QUALITY_LOW
    assert convert.disconnect_reason(m.DisconnectReason.ROOM_DELETED) is enums.DisconnectReason.ROOM_DELETED
    assert convert.disconnect_reason(999) is enums.DisconnectReason.UNKNOWN_REASON
    for name, value in m.DisconnectReason.items():
        assert enums.DisconnectReason[name] == value
    for name, value in m.ParticipantInfo.State.items():
        assert convert.participant_state(value).name == f"PARTICIPANT_STATE_{name}"


@pytest.mark.parametrize("name", enums.__all__)
def test_public_enums_match_livekit_rtc(name):
    from livekit import rtc

    theirs = getattr(rtc, name)
    members = dict(theirs.items()) if hasattr(theirs, "items") else {k: v.value for k, v in theirs.__members__.items()}
    ours = {k: v.value for k, v in getattr(enums, name).__members__.items()}
    assert ours == members
