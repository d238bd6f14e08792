"""The offer queue of one peer connection we offer on.

Only one offer may be outstanding; a negotiation asked for meanwhile is remembered and run once the answer is
in. Offers carry an increasing ``id`` that the server echoes in its answer; an answer for another id is stale
(livekit-client ``PCTransport``) and ignored. An answer with id 0 comes from a server that does not number
offers and is taken.
"""

from __future__ import annotations


class NegotiationQueue:
    def __init__(self) -> None:
        self._next_id = 1
        self.in_flight: int | None = None
        self._pending = False

    def request(self) -> bool:
        """Ask for a negotiation. True: start an offer now. False: one is in flight; it will be rerun."""
        if self.in_flight is not None:
            self._pending = True
            return False
        return True

    def start_offer(self) -> int:
        """Mark an offer as sent; returns its id."""
        offer_id = self._next_id
        self._next_id += 1
        self.in_flight = offer_id
        self._pending = False
        return offer_id

    def answer_received(self, answer_id: int) -> bool:
        """True if the answer belongs to the offer in flight (apply it); False if stale or unexpected."""
        if self.in_flight is None:
            return False
        if answer_id and answer_id != self.in_flight:
            return False
        self.in_flight = None
        return True

    def offer_failed(self) -> None:
        self.in_flight = None

    @property
    def should_renegotiate(self) -> bool:
        """After an answer: a negotiation was asked for while the offer was in flight."""
        return self._pending and self.in_flight is None
