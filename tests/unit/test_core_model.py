"""RoomModel behaviours the Room relies on: which updates count, what a participant keeps when a track goes."""

from livekit_pyweb._core import model, proto


def _p(sid, identity, tracks=(), version=1, **fields):
    m = proto.models()
    return m.ParticipantInfo(sid=sid, identity=identity, version=version,
                             tracks=[m.TrackInfo(sid=t, type=m.TrackType.VIDEO) for t in tracks], **fields)


def _kinds(events):
    return [type(e).__name__ for e in events]


def test_an_update_with_the_same_version_is_applied():
    # livekit-client drops only *older* versions (Participant.updateInfo); an equal version is news.
    rm = model.RoomModel()
    rm.apply([_p("PA_a", "a", ["TR_1"], version=4)])
    assert _kinds(rm.apply([_p("PA_a", "a", ["TR_1", "TR_2"], version=4)])) == ["TrackPublished"]


def test_name_metadata_and_attribute_changes_are_reported():
    rm = model.RoomModel()
    rm.apply([_p("PA_a", "a", name="Alice")])
    (changed,) = rm.apply([_p("PA_a", "a", version=2, name="Alice", metadata='{"hand": true}')])
    assert isinstance(changed, model.ParticipantChanged) and changed.info.metadata == '{"hand": true}'
    assert _kinds(rm.apply([_p("PA_a", "a", version=3, name="Alice", metadata='{"hand": true}',
                               attributes={"role": "host"})])) == ["ParticipantChanged"]
    assert rm.apply([_p("PA_a", "a", version=4, name="Alice", metadata='{"hand": true}',
                        attributes={"role": "host"})]) == []  # nothing changed: no event


def test_a_participant_keeps_its_identity_and_other_tracks_when_one_is_unpublished():
    rm = model.RoomModel()
    rm.apply([_p("PA_a", "alice", ["TR_1", "TR_2"], name="Alice", metadata="m")])
    rm.remove_track("TR_1")
    info = rm.participants["PA_a"]
    assert (info.sid, info.identity, info.name, info.metadata) == ("PA_a", "alice", "Alice", "m")
    assert [t.sid for t in info.tracks] == ["TR_2"]
    assert rm.sid_for_identity("alice") == "PA_a"


def test_unpublishing_an_unknown_track_changes_nothing():
    rm = model.RoomModel()
    rm.apply([_p("PA_a", "a", ["TR_1"])])
    assert rm.remove_track("TR_unknown") == []
    assert [t.sid for t in rm.participants["PA_a"].tracks] == ["TR_1"]


def test_stream_ids_as_the_server_makes_them():
    # Real sids differ in length; a track id keeps anything after the first separator (livekit-client unpackStreamId).
    assert model.parse_stream_id("PA_WVn6pQ9g3tDn|TR_VCx2") == ("PA_WVn6pQ9g3tDn", "TR_VCx2")
    assert model.parse_stream_id("PA_1|TR_a|b") == ("PA_1", "TR_a|b")
