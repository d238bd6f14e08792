from livekit_pyweb._core.negotiation import NegotiationQueue


def test_an_offer_nobody_asked_to_rerun_is_not_rerun():
    q = NegotiationQueue()
    assert not q.should_renegotiate  # a fresh queue owes nothing
    offer = q.start_offer()
    assert q.answer_received(offer)
    assert not q.should_renegotiate
