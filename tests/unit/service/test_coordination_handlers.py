"""Second payers through the claim handlers on the fake unit of work (issue 33, part 3): plans on file bill the
secondary after the primary with the primary's payment; a cancel reverses the secondary's claim, then the
primary's; a corrected paid claim goes out as a B3."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.order_parts import CoverageInfo
from hub.domain.workflow_commands import CancelByPharmacy, CorrectPaidClaim
from hub.service.workflow.claim_steps import exchange_id
from tests.unit.domain.builders import TECHNICIAN
from tests.unit.service.pharmacy import Pharmacy, paid_answer

PRIMARY = CoverageInfo(bin="999001", pcn="RXHUBSIM", cardholder_id="FILE-1")
SECONDARY = CoverageInfo(bin="999003", pcn="SECPCN", cardholder_id="FILE-2")


def _claims(pharmacy: Pharmacy) -> list[ClaimRequestData]:
    return [r for r in pharmacy.codec.encoded if isinstance(r, ClaimRequestData)]


def _second_order_with_plans_on_file(pharmacy: Pharmacy) -> str:
    first = pharmacy.order()
    patient_id = pharmacy.store.prescriptions.patient_of[first]
    assert patient_id is not None
    pharmacy.store.parties.plans[patient_id] = (PRIMARY, SECONDARY)
    pharmacy.correlation = uuid.uuid4()  # another order of the same patient
    pid, received = pharmacy.ordered(placer_order_number="ORD-2")
    pharmacy.follow(received)
    return pid


def test_plans_on_file_bill_the_secondary_with_what_the_primary_paid() -> None:
    pharmacy = Pharmacy()
    pid = _second_order_with_plans_on_file(pharmacy)
    primary = _claims(pharmacy)[-1]
    assert (primary.bin, primary.cardholder_id, primary.other_payments) == ("999001", "FILE-1", ())
    answered = pharmacy.deliver(paid_answer(pid, exchange_id(pid, 0, 1, "B1"), total_paid=Decimal("9.75")))
    assert pharmacy.state(pid) == "claim_pending"
    pharmacy.follow(answered)
    secondary = _claims(pharmacy)[-1]
    assert (secondary.bin, secondary.cardholder_id, secondary.attempt) == ("999003", "FILE-2", 2)
    [paid] = secondary.other_payments
    assert (paid.sequence, paid.bin, paid.amount_paid) == (1, "999001", Decimal("9.75"))
    pharmacy.deliver(paid_answer(pid, exchange_id(pid, 0, 2, "B1"), attempt=2, patient_pay=Decimal("0")))
    assert pharmacy.state(pid) == "data_verification"


def test_a_cancel_reverses_the_secondary_then_the_primary() -> None:
    pharmacy = Pharmacy()
    pid = _second_order_with_plans_on_file(pharmacy)
    pharmacy.follow(pharmacy.deliver(paid_answer(pid, exchange_id(pid, 0, 1, "B1"))))
    pharmacy.deliver(paid_answer(pid, exchange_id(pid, 0, 2, "B1"), attempt=2, patient_pay=Decimal("0")))
    pharmacy.follow(pharmacy.deliver(CancelByPharmacy(prescription_id=pid, reason="declined"), actor=TECHNICIAN))
    first = _claims(pharmacy)[-1]
    assert (first.transaction.value, first.attempt, first.bin) == ("B2", 2, "999003")
    approved = paid_answer(pid, exchange_id(pid, 0, 2, "B2"), attempt=2, transaction="B2", status="A")
    pharmacy.follow(pharmacy.deliver(approved))
    second = _claims(pharmacy)[-1]
    assert (second.transaction.value, second.attempt, second.bin) == ("B2", 1, "999001")


def test_a_corrected_paid_claim_is_rebilled_as_b3() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.paid()
    correction = CorrectPaidClaim(prescription_id=pid, coverage=CoverageInfo(cardholder_id="CH-NEW"))
    pharmacy.follow(pharmacy.deliver(correction, actor=TECHNICIAN))
    rebill = _claims(pharmacy)[-1]
    assert (rebill.transaction.value, rebill.attempt, rebill.cardholder_id) == ("B3", 2, "CH-NEW")
    assert pharmacy.state(pid) == "claim_pending"
