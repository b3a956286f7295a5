"""The whole hub billing through the switch connector and a simulated switch over real TCP, and late payer
answers applied to the ledger: status unknown, reversal before one resubmission, rebill after a late reversal."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

from adapters.ncpdp.d0 import ClaimResponse, TransactionResponse, build_claim_response
from adapters.ncpdp.d0.response_segments import ResponseStatusSegment
from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.switch import Fault, SwitchSimulator
from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher
from hub.messaging.headers import ORDER_CORRELATION_HEADER
from hub.persistence.claim_reconciliation import reconcile
from hub.persistence.claims import ClaimLedger
from tests.e2e.test_claims import LosesFirstAnswer, _ledger, _order, _settings
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually


def test_a_dropped_connection_is_reversed_before_one_resubmission(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    """The hub's workers run the switch connector because RXHUB_SWITCH_ROUTES is set."""
    switch = SwitchSimulator(
        load_payer_config(_settings(amqp_url, sqlite_url).payer_sim_config), fault=Fault.DROP, fault_times=1
    )
    switch.start()
    routes = tmp_path / "switch-routes.json"
    routes.write_text(
        json.dumps(
            {
                "switches": [{"name": "sim", "host": "127.0.0.1", "port": switch.port, "answer_timeout_ms": 500}],
                "routes": [{"bin": "999001", "switch": "sim"}],
            }
        )
    )
    settings = _settings(amqp_url, sqlite_url, switch_routes=routes)
    try:
        with pharmacy(settings, payer_up=False) as ph:
            pid = _order(ph)
            done = ph.wait_state(pid, "data_verification")
            with ph.engine.connect() as conn:
                wire = [(n.exchange_id.split(":", 2)[2], n.event) for n in ClaimLedger(conn).wire_log(pid)]
    finally:
        switch.stop()
    claim = done.document["fills"][0]["claim"]
    assert claim["status"] == "paid" and claim["attempt"] == 2
    # the payer paid the first B1 but the switch dropped the connection: reversed, then billed once more
    assert _ledger(ph, pid) == [(1, "B1", "timeout"), (1, "B2", "A"), (2, "B1", "P")]
    assert wire == [
        ("1:B1", "transmitting"),
        ("1:B1", "no-answer"),
        ("1:B2", "transmitting"),
        ("1:B2", "answered"),
        ("2:B1", "transmitting"),
        ("2:B1", "answered"),
    ]
    assert switch.adjudicated == 3


def _late_answer(settings: Settings, correlation_id: str, exchange_id: str, transaction: str, status: str) -> None:
    """What a payer connector publishes for an answer the payer gave after the hub stopped waiting."""
    response = ClaimResponse(
        transaction_code=transaction,
        service_provider_id="1234567893",  # type: ignore[arg-type]
        date_of_service=date.today(),
        transactions=(
            TransactionResponse(status=ResponseStatusSegment(transaction_status=status, authorization_number="LATE1")),
        ),
    )
    props = raw_properties(
        str(uuid.uuid4()),
        content_type="application/x-ncpdp-d0",
        message_type="D0ClaimResponse",
        correlation_id=exchange_id,
        headers={ORDER_CORRELATION_HEADER: correlation_id},
    )
    publisher = BlockingConfirmingPublisher(settings.amqp_url.get_secret_value())
    try:
        publisher.publish(
            OutgoingMessage("", topology_for(settings).payer_responses_queue, build_claim_response(response), props)
        )
    finally:
        publisher.close()


def test_a_late_reversal_after_a_newer_paid_claim_goes_back_to_be_rebilled(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings, simulator=LosesFirstAnswer(load_payer_config(settings.payer_sim_config))) as ph:
        pid = _order(ph)
        paid = ph.wait_state(pid, "data_verification")
        assert reconcile(ph.engine) == []
        # a second copy of the attempt-1 reversal reached the payer after attempt 2 was paid, and it approved it
        _late_answer(settings, paid.correlation_id, f"{pid}:0:1:B2", "B2", "A")
        back = ph.wait_state(pid, "claim_rejected")
        claim = back.document["fills"][0]["claim"]
        assert (claim["status"], claim["reject_codes"], claim["attempt"]) == ("reversed", ["RV"], 2)
        assert reconcile(ph.engine) == [], "the hub now agrees: the payer pays nothing for the fill"
        queue = ph.client("technician").get("/api/queues/claim-exceptions").json()
        [item] = [i for i in queue if i["prescription_id"] == pid]
        assert item["detail"]["reject_texts"]["RV"].endswith("rebill it")
        # the technician rebills: the payer pays attempt 3
        r = ph.client("technician").post(f"/api/prescriptions/{pid}/claim-resolution", json={"action": "resubmit"})
        assert r.status_code == 202, r.text
        rebilled = ph.wait_state(pid, "data_verification")
        assert rebilled.document["fills"][0]["claim"]["attempt"] == 3
        assert reconcile(ph.engine) == []
        # a late "paid" for the attempt the hub recorded as unanswered is listed by the reconciliation
        _late_answer(settings, paid.correlation_id, f"{pid}:0:1:B1", "B1", "P")
        found = eventually(lambda: reconcile(ph.engine) or None, "a disagreement")
    assert [d.problem for d in found] == [f"{pid}:0:1:B1: the ledger recorded timeout, the payer later answered P"]
