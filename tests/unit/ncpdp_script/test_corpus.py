"""Every public SCRIPT sample in the shared corpus gets the answer the standard calls for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.ncpdp.script import read_message, to_command
from hub.domain.commands import CancelPrescription, ReceivePrescription, RecordRenewalResponse
from hub.errors import MessageContentError, UnsupportedMessageError
from tests.unit.ncpdp_script.samples import CORPUS, corpus, replace


def command(name: str) -> object:
    return to_command(read_message(corpus(name)))


def locations(exc: pytest.ExceptionInfo[MessageContentError]) -> set[str]:
    assert all(p.code == "900" for p in exc.value.problems)
    return {p.location for p in exc.value.problems}


def test_every_corpus_file_is_covered_here() -> None:
    assert {p.name for p in CORPUS.glob("*.xml")} == COVERED


def test_basic_newrx_becomes_receive_prescription() -> None:
    rx = command("cosyte_2017071_newrx_basic_amoxicillin.xml")
    assert isinstance(rx, ReceivePrescription)
    assert rx.placer_order_number == "SYNTH-ORDER-0001"
    assert rx.placer_system == "SurescriptsTestPrescriber"
    assert (rx.patient.family_name, rx.patient.given_name, rx.patient.sex) == ("Testpatient", "Avery", "F")
    assert rx.patient.birth_date == date(1990, 4, 12)
    assert (rx.prescriber.npi, rx.prescriber.family_name) == ("1888888888", "Testprescriber")
    assert rx.drug.ndc == "00093310501"
    assert rx.drug.text == "Amoxicillin 500 MG Oral Capsule"
    assert rx.quantity is not None and rx.quantity.value == Decimal(30) and rx.quantity.unit == "capsule"
    assert (rx.days_supply, rx.refills, rx.substitution_allowed) == (10, 1, True)
    assert rx.written_date == date(2026, 1, 15)
    assert rx.sig == "Take 1 capsule by mouth three times daily for 10 days."
    assert rx.note == "Synthetic test note, no real patient."
    assert rx.raw_message_ref == "script:SYNTH-MSG-0001"


def test_structured_sig_newrx_without_patient_and_prescriber_is_rejected_naming_both() -> None:
    with pytest.raises(MessageContentError) as exc:
        command("cosyte_2017071_newrx_structured_sig.xml")
    assert locations(exc) == {"Message/Body/NewRx/Patient", "Message/Body/NewRx/Prescriber"}


def test_structured_sig_is_read_from_sigtext_once_the_parties_are_there() -> None:
    parties = (
        b"<NewRx><Patient><HumanPatient><Name><LastName>P</LastName></Name></HumanPatient></Patient>"
        b"<Prescriber><NonVeterinarian><Identification><NPI>1234567893</NPI></Identification>"
        b"</NonVeterinarian></Prescriber>"
    )
    body = replace(corpus("cosyte_2017071_newrx_structured_sig.xml"), b"<NewRx>", parties)
    rx = to_command(read_message(body))
    assert isinstance(rx, ReceivePrescription)
    assert rx.sig == "Take 1 tablet by mouth twice daily for 10 days for infection."
    # no PrescriberOrderNumber: the NewRx's own MessageID is the placer order number
    assert rx.placer_order_number == "SYNTH-MSG-SIG-01"
    assert rx.quantity is not None and rx.quantity.unit is None


def test_cancelrx_without_any_order_reference_is_rejected_not_silently_accepted() -> None:
    with pytest.raises(MessageContentError) as exc:
        command("cosyte_2017071_cancelrx_request.xml")
    assert locations(exc) == {"Message/Header/PrescriberOrderNumber"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"<PrescriberOrderNumber>SYNTH-ORDER-0001</PrescriberOrderNumber>", "SYNTH-ORDER-0001"),
        (b"<RelatesToMessageID>SYNTH-MSG-0001</RelatesToMessageID>", "SYNTH-MSG-0001"),
    ],
)
def test_cancelrx_becomes_cancel_prescription(header: bytes, expected: str) -> None:
    body = replace(corpus("cosyte_2017071_cancelrx_request.xml"), b"</MessageID>", b"</MessageID>" + header)
    cancel = to_command(read_message(body))
    assert isinstance(cancel, CancelPrescription)
    assert (cancel.placer_order_number, cancel.control) == (expected, "CA")
    assert cancel.placer_system == "SurescriptsTestPrescriber"


def test_cancelrx_reason_comes_from_the_note() -> None:
    body = corpus("cosyte_2017071_cancelrx_request.xml")
    body = replace(body, b"</MessageID>", b"</MessageID><PrescriberOrderNumber>O1</PrescriberOrderNumber>")
    body = replace(body, b"</DrugCoded>", b"</DrugCoded><Note>Patient had a reaction</Note>")
    cancel = to_command(read_message(body))
    assert isinstance(cancel, CancelPrescription) and cancel.reason == "Patient had a reaction"


def test_renewal_approved_with_changes() -> None:
    answer = command("cosyte_2017071_rxrenewal_response_approved_with_changes.xml")
    assert isinstance(answer, RecordRenewalResponse)
    assert answer.decision == "approved_with_changes"
    assert answer.refills_approved == 3
    assert answer.reason == "Dose increased to 40 MG; quantity adjusted."


def test_renewal_denied() -> None:
    answer = command("cosyte_2017071_rxrenewal_response_denied.xml")
    assert isinstance(answer, RecordRenewalResponse)
    assert (answer.decision, answer.refills_approved) == ("denied", None)
    assert answer.reason == "Patient is no longer under this prescriber's care."


def test_renewal_response_carries_the_rx_number() -> None:
    body = replace(
        corpus("cosyte_2017071_rxrenewal_response_denied.xml"),
        b"</SentTime>",
        b"</SentTime><RxReferenceNumber>RX-1001</RxReferenceNumber>",
    )
    answer = to_command(read_message(body))
    assert isinstance(answer, RecordRenewalResponse) and answer.rx_number == "RX-1001"


@pytest.mark.parametrize(
    "name",
    [
        "cosyte_2017071_cancelrx_response_denied.xml",
        "cosyte_2017071_rxrenewal_request.xml",
        "cosyte_2017071_rxchange_request.xml",
        "cosyte_2017071_rxchange_response_validated.xml",
        "cosyte_odd_unsupported_transaction.xml",
    ],
)
def test_pharmacy_side_and_unknown_transactions_are_refused_with_900(name: str) -> None:
    msg = read_message(corpus(name))
    with pytest.raises(UnsupportedMessageError) as exc:
        to_command(msg)
    [problem] = exc.value.problems
    assert problem.code == "900"
    assert problem.location == f"Message/Body/{msg.kind}"
    assert exc.value.control_id == msg.header.message_id


def test_legacy_empty_newrx_names_everything_missing() -> None:
    msg = read_message(corpus("cosyte_odd_legacy_version_10_6_empty_newrx.xml"))
    assert msg.header.version == "10.6"
    with pytest.raises(MessageContentError) as exc:
        to_command(msg)
    assert locations(exc) == {
        "Message/Body/NewRx/Patient",
        "Message/Body/NewRx/Prescriber",
        "Message/Body/NewRx/MedicationPrescribed",
    }


def test_newrx_without_version_or_namespace_is_read_as_2017071() -> None:
    msg = read_message(corpus("cosyte_odd_newrx_no_version_no_namespace.xml"))
    assert (msg.kind, msg.header.version, msg.header.namespace) == ("NewRx", "2017071", None)
    assert msg.header.message_id == "SYNTH-MSG-0003"
    # parsed, but too thin to fill: no patient, prescriber or sig
    with pytest.raises(MessageContentError) as exc:
        to_command(msg)
    assert locations(exc) == {
        "Message/Body/NewRx/Patient",
        "Message/Body/NewRx/Prescriber",
        "Message/Body/NewRx/MedicationPrescribed/Sig/SigText",
    }


def test_version_2023011_is_accepted_and_judged_on_content() -> None:
    msg = read_message(corpus("cosyte_odd_newrx_version_2023011.xml"))
    assert msg.header.version == "2023011"
    with pytest.raises(MessageContentError) as exc:
        to_command(msg)
    assert locations(exc) == {
        "Message/Body/NewRx/Prescriber",
        "Message/Body/NewRx/MedicationPrescribed/Sig/SigText",
    }


COVERED = {
    "cosyte_2017071_newrx_basic_amoxicillin.xml",
    "cosyte_2017071_newrx_structured_sig.xml",
    "cosyte_2017071_cancelrx_request.xml",
    "cosyte_2017071_cancelrx_response_denied.xml",
    "cosyte_2017071_rxchange_request.xml",
    "cosyte_2017071_rxchange_response_validated.xml",
    "cosyte_2017071_rxrenewal_request.xml",
    "cosyte_2017071_rxrenewal_response_approved_with_changes.xml",
    "cosyte_2017071_rxrenewal_response_denied.xml",
    "cosyte_odd_legacy_version_10_6_empty_newrx.xml",
    "cosyte_odd_newrx_no_version_no_namespace.xml",
    "cosyte_odd_newrx_version_2023011.xml",
    "cosyte_odd_unsupported_transaction.xml",
}
