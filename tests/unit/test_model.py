from livekit_pyweb._core import model, proto


def _p(sid, identity, tracks=(), version=1, state=None):
    m = proto.models()
    info = m.ParticipantInfo(sid=sid, identity=identity, version=version,
                             tracks=[m.TrackInfo(sid=t, type=m.TrackType.VIDEO, muted=False) for t in tracks])
    if state is not None:
        info.state = state
    return info


def names(events):
    return [(type(e).__name__, getattr(e, "participant_sid", None) or e.info.sid) for e in events]


def test_join_update_leave_order():
    rm = model.RoomModel()
    rm.local_sid = "PA_me"
    ev = rm.apply([_p("PA_me", "me"), _p("PA_a", "a", ["TR_1"])])
    assert names(ev) == [("ParticipantJoined", "PA_a"), ("TrackPublished", "PA_a")]
    ev = rm.apply([_p("PA_a", "a", ["TR_2"], version=2)])
    assert [type(e).__name__ for e in ev] == ["TrackPublished", "TrackUnpublished"]
    assert rm.apply([_p("PA_a", "a", ["TR_9"], version=1)]) == []  # stale version
    gone = _p("PA_a", "a", ["TR_2"], version=3, state=proto.models().ParticipantInfo.DISCONNECTED)
    ev = rm.apply([gone])
    assert [type(e).__name__ for e in ev] == ["TrackUnpublished", "ParticipantLeft"]
    assert rm.participants == {}


def test_mute_change_and_rejoin_under_new_sid():
    rm = model.RoomModel()
    rm.apply([_p("PA_a", "a", ["TR_1"])])
    muted = _p("PA_a", "a", ["TR_1"], version=2)
    muted.tracks[0].muted = True
    assert [type(e).__name__ for e in rm.apply([muted])] == ["TrackMuteChanged"]
    ev = rm.apply([_p("PA_b", "a")])
    assert [type(e).__name__ for e in ev] == ["TrackUnpublished", "ParticipantLeft", "ParticipantJoined"]


def test_remove_track_and_stream_ids():
    rm = model.RoomModel()
    rm.apply([_p("PA_a", "a", ["TR_1", "TR_2"])])
    (ev,) = rm.remove_track("TR_1")
    assert ev.track.sid == "TR_1" and [t.sid for t in rm.participants["PA_a"].tracks] == ["TR_2"]
    assert model.parse_stream_id("PA_a|TR_1") == ("PA_a", "TR_1")
    assert model.parse_stream_id("TR_1") == ("", "TR_1")
