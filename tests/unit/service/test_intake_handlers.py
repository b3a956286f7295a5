"""The intake worker's handlers against the fake unit of work: orders, duplicates, cancels, product selection,
refills and renewal answers."""

from __future__ import annotations

import uuid

import pytest

from hub.domain.commands import CancelPrescription, RecordRenewalResponse
from hub.domain.order_parts import DrugInfo, Source
from hub.domain.workflow_commands import CancelByPharmacy, RequestRefill, SelectProduct
from hub.errors import MessageContentError, TransientError
from tests.unit.domain.builders import LISINOPRIL, PATIENT, TECHNICIAN, order
from tests.unit.service.pharmacy import Pharmacy


def test_a_new_order_is_stored_after_intake_and_its_claim_queued() -> None:
    pharmacy = Pharmacy()
    pid, uow = pharmacy.ordered()
    stored = pharmacy.store.prescriptions.rows[pid]
    assert stored.version == 1 and stored.state == "claim_pending"
    assert stored.correlation_id == str(pharmacy.correlation)
    assert uow.event_names() == ["prescription.received", "claim.submitted"]
    assert uow.command_types() == ["SendClaim"]
    assert [a["action"] for a in uow.audits] == ["receive"]
    assert pharmacy.store.prescriptions.patient_of[pid] in pharmacy.store.parties.patients


def test_an_order_belongs_to_its_sender_and_a_second_one_finds_the_same_patient() -> None:
    pharmacy = Pharmacy()
    first = pharmacy.order()
    pharmacy.correlation = uuid.uuid4()
    second = pharmacy.order(placer_order_number="ORD-2")
    assert pharmacy.store.prescriptions.aggregate(first).owner == "feed:ehr"
    patients = pharmacy.store.prescriptions.patient_of
    assert patients[first] == patients[second] and len(pharmacy.store.parties.patients) == 1


def test_a_second_order_under_a_held_placer_number_is_refused_and_recorded() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order()
    uow = pharmacy.deliver(order(), source=Source.HL7, principal="feed:ehr")  # same correlation id
    assert uow.event_names() == ["order.refused"]
    assert len(pharmacy.store.prescriptions.rows) == 1
    (refused,) = pharmacy.store.refused_orders.refused
    assert refused.prescription_id == pid
    assert [(a["action"], a["outcome"]) for a in uow.audits] == [("duplicate-order", "refused")]


def test_a_cancel_closes_its_order() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order()
    uow = pharmacy.deliver(CancelPrescription(placer_order_number="ORD-1", control="CA", reason="wrong drug"))
    assert pharmacy.state(pid) == "cancelled"
    assert "prescription.cancelled" in uow.event_names()
    assert uow.refusal is None


def test_a_cancel_of_a_closed_order_is_refused_without_an_error() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order()
    pharmacy.deliver(CancelByPharmacy(prescription_id=pid, reason="duplicate therapy"), actor=TECHNICIAN)
    uow = pharmacy.deliver(CancelPrescription(placer_order_number="ORD-1", control="CA"))
    assert uow.refusal is not None and "already closed" in uow.refusal
    assert uow.events == []


def test_a_cancel_that_overtook_its_order_is_retried_later() -> None:
    with pytest.raises(TransientError, match="arrived before the order"):
        Pharmacy().deliver(CancelPrescription(placer_order_number="ORD-9", control="CA"))


def test_an_order_without_a_product_waits_for_one_and_selecting_it_moves_on() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order(drug=DrugInfo(rxnorm="314077", text="lisinopril 10 MG Oral Tablet"))
    assert pharmacy.state(pid) == "needs_product"
    uow = pharmacy.deliver(SelectProduct(prescription_id=pid, ndc=LISINOPRIL), actor=TECHNICIAN)
    assert pharmacy.state(pid) != "needs_product"
    assert "prescription.updated" in uow.event_names()
    assert [a["action"] for a in uow.audits] == ["select-product"]


def test_a_product_outside_the_catalogue_is_bad_content() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order(drug=DrugInfo(rxnorm="314077", text="lisinopril 10 MG Oral Tablet"))
    with pytest.raises(MessageContentError, match="not in the drug catalogue"):
        pharmacy.deliver(SelectProduct(prescription_id=pid, ndc="00000000000"), actor=TECHNICIAN)


def test_a_refill_with_none_left_is_declined_and_the_prescriber_asked_to_renew() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order(refills=0)
    uow = pharmacy.deliver(RequestRefill(prescription_id=pid), actor=TECHNICIAN)
    assert uow.refusal is not None and "refused" in uow.refusal
    assert uow.event_names()[0] == "refill.refused"
    assert [(a["action"], a["outcome"]) for a in uow.audits] == [("refill", "refused")]


def test_a_renewal_answer_for_an_unknown_rx_number_is_only_audited() -> None:
    pharmacy = Pharmacy()
    uow = pharmacy.deliver(RecordRenewalResponse(rx_number="999", decision="approved", refills_approved=2))
    assert uow.events == [] and [a["action"] for a in uow.audits] == ["renewal-response"]


def test_a_renewal_answer_from_another_sender_is_refused() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order()
    rx_number = pharmacy.store.prescriptions.rows[pid].rx_number
    uow = pharmacy.deliver(
        RecordRenewalResponse(rx_number=rx_number, decision="approved", refills_approved=2),
        source=Source.HL7,
        principal="feed:someone-else",
    )
    assert uow.events == [] and uow.audits[0]["outcome"] == "refused"


def test_a_renewal_approved_by_the_orders_sender_adds_refills() -> None:
    pharmacy = Pharmacy()
    pid = pharmacy.order(refills=0)
    rx_number = pharmacy.store.prescriptions.rows[pid].rx_number
    uow = pharmacy.deliver(
        RecordRenewalResponse(rx_number=rx_number, decision="approved", refills_approved=3),
        source=Source.HL7,
        principal="feed:ehr",
    )
    assert uow.event_names() == ["prescription.updated"]
    assert pharmacy.store.prescriptions.aggregate(pid).refills_remaining == 3
    assert pharmacy.store.prescriptions.rows[pid].version == 2


def test_the_patient_matched_is_the_one_on_file() -> None:
    pharmacy = Pharmacy()
    pharmacy.store.parties.patients[PATIENT.patient_id] = PATIENT
    pid = pharmacy.order()
    assert pharmacy.store.prescriptions.patient_of[pid] == PATIENT.patient_id
