from livekit_pyweb import enums
from livekit_pyweb._core import convert, proto


def test_participant_kind_details_keep_their_order_and_names():
    m = proto.models()
    info = m.ParticipantInfo(kind=m.ParticipantInfo.Kind.AGENT,
                             kind_details=[m.ParticipantInfo.KindDetail.CLOUD_AGENT,
                                           m.ParticipantInfo.KindDetail.FORWARDED])
    details = convert.participant_kind_details(info.kind_details)
    assert details == [enums.ParticipantKindDetail.PARTICIPANT_KIND_DETAIL_CLOUD_AGENT,
                       enums.ParticipantKindDetail.PARTICIPANT_KIND_DETAIL_FORWARDED]
    assert all(isinstance(d, enums.ParticipantKindDetail) for d in details)
    assert convert.participant_kind_details(m.ParticipantInfo().kind_details) == []
