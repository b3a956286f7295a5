"""A status-unknown claim's reversal is sent again until the payer answers it, however long the host is down
(issue #33 item 7): the hub and the payer agree on the fill, paid exactly once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.d0.claim_response import build_claim_response
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.payer.adjudicator import Adjudicator
from adapters.ncpdp.payer.config import PayerConfig, load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator, SimAnswer
from hub.persistence.prescriptions import load_aggregate
from hub.persistence.tables import claim_transmissions
from tests.e2e.test_claims import _ledger, _order, _settings
from tests.support.pharmacy import pharmacy

#: more than the transient resend budget (3), which is all the reversal got before
REFUSED = 5


class HostDownForReversals(PayerSimulator):
    """Pays the first claim but loses its answer; then answers every reversal 92 (host down) until ``up``."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        self._down = Adjudicator(config.model_copy(update={"transient_bins": config.bins}))
        self.refused = 0
        self.refused_enough = threading.Event()
        self.up = threading.Event()

    def answer(self, body: bytes) -> SimAnswer:
        request = read_claim_request(parse_request(body))
        if request.transaction_code == "B2" and not self.up.is_set():
            self.refused += 1
            if self.refused >= REFUSED:
                self.refused_enough.set()
            return SimAnswer(build_claim_response(self._down.adjudicate(request, self._history)), "B2: 92 host down")
        decided = super().answer(body)
        if self._received == 1:
            return SimAnswer(None, decided.summary + "; answer lost")
        return decided

    def unreversed_paid(self) -> int:
        return sum(not claim.reversed for claim in self._history._paid.values())


def test_a_reversal_refused_while_the_host_is_down_is_retried_until_answered(amqp_url: str, sqlite_url: str) -> None:
    """Fails on the code before this change: after three resends the reversal was given up, the fill stayed in
    the exception queue (rejected TO) while the payer held the first claim paid."""
    settings = _settings(amqp_url, sqlite_url, reversal_retry_base_ms=100, reversal_retry_cap_ms=400)
    sim = HostDownForReversals(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=sim) as ph:
        pid = _order(ph)
        assert sim.refused_enough.wait(60), f"the reversal was sent {sim.refused} times only"
        waiting = ph.wait_state(pid, "claim_rejected")
        claim = load_aggregate(waiting).current_fill.claim
        assert claim is not None and (claim.payer_message or "").startswith("reversal pending")
        sim.up.set()  # the switch is back
        done = ph.wait_state(pid, "data_verification")
        with ph.engine.connect() as conn:
            resends = conn.execute(
                select(claim_transmissions.c.resends).where(
                    claim_transmissions.c.prescription_id == pid, claim_transmissions.c.transaction == "B2"
                )
            ).scalar_one()
    paid = load_aggregate(done).current_fill.claim
    assert paid is not None and paid.status.value == "paid" and paid.attempt == 2
    assert _ledger(ph, pid) == [(1, "B1", "timeout"), (1, "B2", "A"), (2, "B1", "P")]
    assert resends >= REFUSED, "the ledger shows the reversal's tries"
    assert sim.unreversed_paid() == 1, "the payer holds the fill paid exactly once, as the hub does"
