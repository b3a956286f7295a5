"""The claim and claim-responses workers' handlers against the fake unit of work: sending, the payer's answers,
timeouts, late answers, the exception queue and eligibility checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hub.domain.claim_codes import NO_ANSWER_CODE
from hub.domain.eligibility import CheckEligibility
from hub.domain.order_parts import CoverageInfo
from hub.domain.workflow_commands import CheckClaimTimeout, ResolveClaimRejection, SendClaim
from hub.errors import IllegalTransition, MessageContentError
from hub.persistence.claims import WireEvent
from hub.service.workflow.claim_responses import reversal_retry_delay
from hub.service.workflow.claim_steps import exchange_id
from tests.unit.domain.builders import TECHNICIAN
from tests.unit.service.pharmacy import TOPOLOGY, Pharmacy, paid_answer


def test_a_claim_is_recorded_in_the_ledger_and_leaves_through_the_outbox() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    assert xid == exchange_id(pid, 0, 1, "B1")
    sent = pharmacy.store.claims.rows[xid]
    assert (sent.transaction, sent.purpose, sent.answered) == ("B1", "billing", False)
    (request,) = pharmacy.codec.encoded
    assert request.exchange_id == xid and request.pharmacy_npi == "1234567893"


def test_the_claim_row_is_routed_to_the_payer_with_the_reply_queue() -> None:
    pharmacy = Pharmacy()
    _, received = pharmacy.ordered()
    (sending,) = pharmacy.follow(received)
    (row,) = sending.raw
    assert row["target"] == "payer" and row["routing_key"] == "610014.TESTPCN"
    assert row["headers"]["reply_to"] == TOPOLOGY.payer_responses_queue


def test_without_a_payer_codec_a_claim_is_bad_content() -> None:
    pharmacy = Pharmacy(claim_codec=None)
    pid = pharmacy.order()
    with pytest.raises(MessageContentError, match="claim codec missing"):
        pharmacy.deliver(SendClaim(prescription_id=pid, fill_number=0, attempt=1))


def test_a_paid_answer_pays_the_claim_and_closes_the_ledger_row() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    uow = pharmacy.deliver(paid_answer(pid, xid))
    assert uow.event_names() == ["claim.paid"]
    assert pharmacy.state(pid) == "data_verification"
    assert pharmacy.store.claims.rows[xid].answered


def test_a_rejection_goes_to_the_exception_queue() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    uow = pharmacy.deliver(paid_answer(pid, xid, status="R", reject_codes=("75",), total_paid=None))
    assert uow.event_names() == ["claim.rejected"] and pharmacy.state(pid) == "claim_rejected"


def test_a_transient_reject_is_resent_later_through_the_delay_queue() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    uow = pharmacy.deliver(paid_answer(pid, xid, status="R", reject_codes=("92",)))
    (row,) = uow.raw
    assert row["target"] == "delay" and row["routing_key"] == TOPOLOGY.claim_resend_queue
    assert uow.events == [] and pharmacy.state(pid) == "claim_pending"


def test_transient_rejects_past_the_resend_budget_go_to_the_exception_queue() -> None:
    pharmacy = Pharmacy(max_transient_resends=0)
    pid, xid = pharmacy.billed()
    uow = pharmacy.deliver(paid_answer(pid, xid, status="R", reject_codes=("92",)))
    assert uow.raw == [] and pharmacy.state(pid) == "claim_rejected"


def test_an_answer_to_a_claim_answered_before_is_only_noted() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    pharmacy.deliver(paid_answer(pid, xid))
    again = pharmacy.deliver(paid_answer(pid, xid))
    assert again.events == []
    assert (xid, WireEvent.LATE_ANSWER, "P") in pharmacy.store.claims.notes


def test_a_late_approved_reversal_undoes_a_paid_claim() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.paid()
    b2 = exchange_id(pid, 0, 1, "B2")
    uow = pharmacy.deliver(paid_answer(pid, b2, transaction="B2", status="A"))
    assert "claim.reversed" in uow.event_names()
    assert pharmacy.store.prescriptions.aggregate(pid).current_fill.claim.status.value == "reversed"


def test_an_unanswered_claim_is_reversed_before_any_resubmission() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    uow = pharmacy.deliver(CheckClaimTimeout(exchange_id=xid, prescription_id=pid, fill_number=0, attempt=1))
    assert uow.event_names() == ["claim.status_unknown"]
    (reversal,) = uow.commands
    assert reversal.type == "SendClaim" and reversal.payload["transaction"] == "B2"
    assert pharmacy.store.prescriptions.aggregate(pid).current_fill.claim.reject_codes == [NO_ANSWER_CODE]


def _reversal_retried(pharmacy: Pharmacy, pid: str, b2: str, answer: str, tries: int) -> datetime:
    """Answer the reversal's try ``tries`` with ``answer`` (none, or a reject code): when it is to be sent again."""
    before = datetime.now(UTC)
    if answer == "timeout":
        uow = pharmacy.deliver(CheckClaimTimeout(exchange_id=b2, prescription_id=pid, fill_number=0, attempt=1))
    else:
        uow = pharmacy.deliver(paid_answer(pid, b2, transaction="B2", status="R", reject_codes=(answer,)))
    after = datetime.now(UTC)
    assert uow.events == [] and uow.raw == [], "nothing sent at once: the claim sweeper sends it when due"
    due = pharmacy.store.claims.retries[b2]
    assert due is not None
    delay = reversal_retry_delay(pharmacy.ctx, tries - 1)
    assert before + delay <= due <= after + delay
    return due


@pytest.mark.parametrize("answer", ["timeout", "92"])
def test_a_reversal_of_an_unanswered_claim_is_sent_again_until_the_payer_answers_it(answer: str) -> None:
    """Fails on the code before issue #33 item 7: the fourth unanswered reversal left the fill in the exception
    queue (resent only ``max_transient_resends`` times, 0.5 s apart) while the payer might hold the claim paid."""
    pharmacy = Pharmacy(reversal_retry_base_ms=500, reversal_retry_cap_ms=4000)
    pid, xid = pharmacy.billed()
    pharmacy.follow(pharmacy.deliver(CheckClaimTimeout(exchange_id=xid, prescription_id=pid, fill_number=0, attempt=1)))
    b2 = exchange_id(pid, 0, 1, "B2")
    claim = pharmacy.store.prescriptions.aggregate(pid).current_fill.claim
    assert claim.payer_message is not None and claim.payer_message.startswith("reversal pending")
    for tries in range(1, 9):  # far past the transient resend budget (3)
        _reversal_retried(pharmacy, pid, b2, answer, tries)
        sent = pharmacy.deliver(
            SendClaim(prescription_id=pid, fill_number=0, attempt=1, transaction="B2", resend=tries)
        )
        (row,) = sent.raw
        assert row["target"] == "payer" and row["correlation_id"] == b2
        assert pharmacy.store.claims.rows[b2].resends == tries and b2 not in pharmacy.store.claims.retries
        assert pharmacy.state(pid) == "claim_rejected"
    answered = pharmacy.deliver(paid_answer(pid, b2, transaction="B2", status="A"))
    assert pharmacy.state(pid) == "claim_pending", "answered at last: resubmitted once"
    (resubmission,) = [c for c in answered.commands if c.type == "SendClaim"]
    assert resubmission.payload["transaction"] == "B1"


def test_the_backoff_doubles_up_to_its_cap() -> None:
    ctx = Pharmacy(reversal_retry_base_ms=500, reversal_retry_cap_ms=60000).ctx
    seconds = [reversal_retry_delay(ctx, n).total_seconds() for n in range(10)]
    assert seconds == [0.5, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert reversal_retry_delay(ctx, 10_000).total_seconds() == 60


def test_a_reversal_retry_is_not_sent_once_a_newer_transmission_of_the_fill_is_out() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    pharmacy.follow(pharmacy.deliver(CheckClaimTimeout(exchange_id=xid, prescription_id=pid, fill_number=0, attempt=1)))
    b2 = exchange_id(pid, 0, 1, "B2")
    _reversal_retried(pharmacy, pid, b2, "92", 1)
    pharmacy.follow(pharmacy.deliver(ResolveClaimRejection(prescription_id=pid, action="resubmit"), actor=TECHNICIAN))
    assert exchange_id(pid, 0, 2, "B1") in pharmacy.store.claims.rows
    stale = pharmacy.deliver(SendClaim(prescription_id=pid, fill_number=0, attempt=1, transaction="B2", resend=1))
    assert stale.raw == [] and pharmacy.store.claims.retries[b2] is None, "fenced, and owed no more"


def test_a_claim_the_broker_never_delivered_is_resent_not_reversed() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    pharmacy.store.claims.refused.add(xid)
    uow = pharmacy.deliver(CheckClaimTimeout(exchange_id=xid, prescription_id=pid, fill_number=0, attempt=1))
    assert uow.events == [] and [r["target"] for r in uow.raw] == ["delay"]


def test_a_timeout_check_of_an_answered_claim_does_nothing() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    pharmacy.deliver(paid_answer(pid, xid))
    uow = pharmacy.deliver(CheckClaimTimeout(exchange_id=xid, prescription_id=pid, fill_number=0, attempt=1))
    assert uow.events == [] and uow.commands == [] and uow.raw == []


def test_a_technician_bills_a_rejected_claim_as_cash() -> None:
    pharmacy = Pharmacy()
    pid, xid = pharmacy.billed()
    pharmacy.deliver(paid_answer(pid, xid, status="R", reject_codes=("75",)))
    uow = pharmacy.deliver(
        ResolveClaimRejection(prescription_id=pid, action="cash", cash_amount=Decimal("9.99")), actor=TECHNICIAN
    )
    assert pharmacy.state(pid) == "data_verification"
    assert [a["action"] for a in uow.audits] == ["resolve-claim-cash"]


def test_resolving_a_claim_that_is_not_rejected_is_an_illegal_transition() -> None:
    pharmacy = Pharmacy()
    pid, _ = pharmacy.billed()
    with pytest.raises(IllegalTransition):
        pharmacy.deliver(ResolveClaimRejection(prescription_id=pid, action="resubmit"), actor=TECHNICIAN)


def test_an_eligibility_check_is_sent_once_per_check() -> None:
    pharmacy = Pharmacy()
    check = CheckEligibility(
        check_id=str(uuid.uuid4()), patient_id="pat-unknown", coverage=CoverageInfo(bin="999001", cardholder_id="ZX1")
    )
    first = pharmacy.deliver(check, actor=TECHNICIAN)
    again = pharmacy.deliver(check, actor=TECHNICIAN)
    assert [r["message_type"] for r in first.raw] == ["E1"] and again.raw == []
    (sent,) = pharmacy.store.claims.rows.values()
    assert (sent.transaction, sent.purpose) == ("E1", "eligibility")
    assert [a["action"] for a in first.audits] == ["eligibility-sent"]
