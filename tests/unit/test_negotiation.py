from livekit_pyweb._core.negotiation import NegotiationQueue


def test_one_offer_in_flight_and_rerun():
    q = NegotiationQueue()
    assert q.request()
    first = q.start_offer()
    assert not q.request()  # in flight: remembered
    assert not q.answer_received(first + 5)  # stale id ignored
    assert q.answer_received(first)
    assert q.should_renegotiate
    assert q.request()
    second = q.start_offer()
    assert second == first + 1 and not q.should_renegotiate
    assert q.answer_received(0)  # unnumbered answer accepted
    assert not q.answer_received(second)  # nothing in flight


def test_failed_offer_frees_queue():
    q = NegotiationQueue()
    q.start_offer()
    q.offer_failed()
    assert q.request()
