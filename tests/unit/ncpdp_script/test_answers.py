"""Answers and the outbound RxRenewalRequest are well-formed SCRIPT that ``read_message`` reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from adapters.ncpdp.script import (
    PharmacyIdentity,
    RenewalRequestInput,
    cancel_rx_response,
    command_message_id,
    dedupe_key,
    describe,
    error_code_for,
    error_response,
    read_message,
    rx_renewal_request,
    status_response,
    to_command,
)
from adapters.ncpdp.script.cursor import Cursor, ProblemLog
from adapters.ncpdp.script.medication import read_drug, read_quantity
from adapters.ncpdp.script.parties import read_patient, read_prescriber
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo
from hub.errors import (
    BrokerUnavailable,
    MessageContentError,
    PublishNotConfirmed,
    TransientError,
    UnsupportedMessageError,
)
from hub.messaging.envelope import derived_message_id
from tests.unit.ncpdp_script.samples import NEWRX_10_6, NEWRX_2017071_FULL, corpus, replace

NOW = datetime(2026, 1, 15, 9, 31, 2, 345000, tzinfo=UTC)


def test_status_010_relates_to_the_request_and_swaps_addresses() -> None:
    request = read_message(NEWRX_2017071_FULL)
    answer = read_message(status_response(request.header, message_id="HUB-1", now=NOW))
    assert answer.kind == "Status"
    assert answer.body.text_at("Code") == "010"
    header = answer.header
    assert (header.message_id, header.relates_to_message_id) == ("HUB-1", "TEST-NEWRX-0001")
    assert (header.to, header.to_qualifier, header.from_, header.from_qualifier) == (
        "9988776655001",
        "D",
        "7654321",
        "P",
    )
    assert header.sent_time == "2026-01-15T09:31:02.345Z"
    assert (header.namespace, header.version) == (request.header.namespace, "2017071")
    assert header.root_attributes == request.header.root_attributes


def test_answers_follow_the_request_style() -> None:
    legacy = read_message(NEWRX_10_6).header
    answer = status_response(legacy, message_id="HUB-2", now=NOW)
    assert b'version="010" release="006"' in answer and b"SenderSoftware" not in answer
    assert read_message(answer).header.version == "10.6"
    plain = read_message(corpus("cosyte_odd_newrx_no_version_no_namespace.xml")).header
    assert read_message(status_response(plain, message_id="HUB-3", now=NOW)).header.namespace is None


def test_error_900_carries_the_description() -> None:
    request = read_message(corpus("cosyte_odd_legacy_version_10_6_empty_newrx.xml"))
    with pytest.raises(MessageContentError) as exc:
        to_command(request)
    text = describe(exc.value)
    assert text.startswith("Message/Body/NewRx/Patient: required element Patient is missing; ")
    body = error_response(request.header, error_code_for(exc.value), None, text, message_id="HUB-4", now=NOW)
    answer = read_message(body)
    assert answer.kind == "Error"
    assert (answer.body.text_at("Code"), answer.body.text_at("Description")) == ("900", text)
    assert answer.body.text_at("DescriptionCode") is None
    assert answer.header.relates_to_message_id == "SYNTH-MSG-0005"


def test_error_for_an_unreadable_request_has_no_relates_to() -> None:
    answer = read_message(error_response(None, "900", "1000", "malformed XML", message_id="HUB-5", now=NOW))
    assert answer.header.relates_to_message_id is None
    assert (answer.header.to, answer.header.version) == (None, "2017071")
    assert answer.body.text_at("DescriptionCode") == "1000"


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (MessageContentError("bad"), "900"),
        (TransientError("later"), "601"),
        (BrokerUnavailable("down"), "601"),
        (PublishNotConfirmed("nack"), "601"),
        (RuntimeError("bug"), "602"),
    ],
)
def test_error_code_for(exc: Exception, code: str) -> None:
    assert error_code_for(exc) == code


def test_unknown_codes_and_long_message_ids_are_programming_errors() -> None:
    header = read_message(NEWRX_2017071_FULL).header
    with pytest.raises(ValueError, match="Status code"):
        status_response(header, "900", message_id="X", now=NOW)
    with pytest.raises(ValueError, match="Error code"):
        error_response(header, "010", None, "x", message_id="X", now=NOW)
    with pytest.raises(ValueError, match="MessageID"):
        status_response(header, message_id="X" * 36, now=NOW)


def test_naive_and_offset_times_are_sent_as_utc() -> None:
    header = read_message(NEWRX_2017071_FULL).header
    offset = datetime(2026, 1, 15, 4, 31, 2, tzinfo=timezone(timedelta(hours=-5)))
    assert read_message(status_response(header, message_id="A", now=offset)).header.sent_time == (
        "2026-01-15T09:31:02.000Z"
    )
    naive = datetime(2026, 1, 15, 9, 31, 2)
    assert read_message(status_response(header, message_id="A", now=naive)).header.sent_time == (
        "2026-01-15T09:31:02.000Z"
    )


def cancel_request() -> bytes:
    body = corpus("cosyte_2017071_cancelrx_request.xml")
    return replace(body, b"</SentTime>", b"</SentTime><PrescriberOrderNumber>SYNTH-ORDER-0001</PrescriberOrderNumber>")


def test_cancel_rx_response_denied_because_dispensed() -> None:
    request = read_message(cancel_request())
    body = cancel_rx_response(
        request,
        False,
        "Prescription was already dispensed.",
        reason_code="AA",
        message_id="HUB-6",
        now=NOW,
        rx_number="RX-77",
    )
    answer = read_message(body)
    assert answer.kind == "CancelRxResponse"
    assert answer.header.relates_to_message_id == "SYNTH-MSG-0401"
    assert (answer.header.rx_reference_number, answer.header.prescriber_order_number) == (
        "RX-77",
        "SYNTH-ORDER-0001",
    )
    assert answer.body.text_at("RequestReferenceNumber") == "SYNTH-REF-0401"
    assert answer.body.text_at("Response", "Denied", "ReasonCode") == "AA"
    assert answer.body.text_at("Response", "Denied", "DenialReason") == "Prescription was already dispensed."


def test_cancel_rx_response_approved() -> None:
    answer = read_message(cancel_rx_response(read_message(cancel_request()), True, None, message_id="H7", now=NOW))
    assert answer.body.find("Response", "Approved") is not None
    assert answer.body.find("Response", "Denied") is None


def test_cancel_rx_response_rules() -> None:
    with pytest.raises(ValueError, match="needs a denial_reason"):
        cancel_rx_response(read_message(cancel_request()), False, None, message_id="H8", now=NOW)
    with pytest.raises(ValueError, match="answers a CancelRx"):
        cancel_rx_response(read_message(NEWRX_2017071_FULL), True, None, message_id="H8", now=NOW)


def renewal_input(**changes: object) -> RenewalRequestInput:
    values: dict[str, object] = {
        "rx_number": "RX-1001",
        "placer_order_number": "ORDER-42",
        "relates_to_message_id": "TEST-NEWRX-0001",
        "prescriber_address": "9988776655001",
        "prescriber": PrescriberInfo(family_name="Smith", given_name="Pat", npi="1234567893", dea="AP5836727"),
        "patient": PatientInfo(family_name="Doe", given_name="Alex", sex="M", birth_date=date(1970, 2, 3)),
        "drug": DrugInfo(ndc="00000111122", rxnorm="835603", text="Tramadol 50 MG Oral Tablet", schedule="4"),
        "quantity": QuantityInfo(value=Decimal("12.5"), unit="tablet"),
        "days_supply": 5,
        "sig": "Take 1 tablet by mouth every 6 hours as needed for pain.",
        "written_date": date(2026, 1, 14),
        "last_fill_date": date(2026, 2, 1),
        "pharmacy": PharmacyIdentity(ncpdp_id="7654321", npi="1993999998", name="Test Pharmacy", city="Springfield"),
    }
    values.update(changes)
    return RenewalRequestInput.model_validate(values)


def test_rx_renewal_request_reads_back() -> None:
    request = renewal_input()
    msg = read_message(rx_renewal_request(request, message_id="HUB-RR-1", now=NOW))
    assert msg.kind == "RxRenewalRequest"
    header = msg.header
    assert (header.to, header.to_qualifier, header.from_, header.from_qualifier) == (
        "9988776655001",
        "D",
        "7654321",
        "P",
    )
    assert (header.rx_reference_number, header.prescriber_order_number) == ("RX-1001", "ORDER-42")
    assert header.relates_to_message_id == "TEST-NEWRX-0001"
    renewal = Cursor(msg.body, "RxRenewalRequest", log := ProblemLog())
    assert read_patient(renewal.at("Patient"), renewal.at("AllergyOrAdverseEvent")) == request.patient
    assert read_prescriber(renewal.at("Prescriber")) == request.prescriber
    dispensed = renewal.at("MedicationDispensed")
    assert read_drug(dispensed) == request.drug
    assert read_quantity(dispensed.at("Quantity")) == request.quantity
    assert dispensed.at("LastFillDate", "Date").text() == "2026-02-01"
    assert dispensed.at("NumberOfRefills").text() == "0"
    assert msg.body.text_at("Pharmacy", "Identification", "NCPDPID") == "7654321"
    assert log.problems == []


def test_the_renewal_request_is_refused_if_sent_back_to_the_pharmacy() -> None:
    msg = read_message(rx_renewal_request(renewal_input(), message_id="HUB-RR-2", now=NOW))
    with pytest.raises(UnsupportedMessageError):
        to_command(msg)


def test_free_text_units_go_out_as_unspecified() -> None:
    msg = read_message(
        rx_renewal_request(
            renewal_input(quantity=QuantityInfo(value=Decimal(3), unit="puffs")),
            message_id="HUB-RR-3",
            now=NOW,
        )
    )
    assert msg.body.text_at("MedicationDispensed", "Quantity", "QuantityUnitOfMeasure", "Code") == "C38046"


def test_dedupe_key_and_command_id_are_stable_per_sender_and_message_id() -> None:
    first, again = read_message(NEWRX_2017071_FULL), read_message(NEWRX_2017071_FULL.replace(b"  ", b" "))
    assert dedupe_key(first) == dedupe_key(again) == "9988776655001|TEST-NEWRX-0001"
    assert command_message_id(first) == command_message_id(again)
    assert command_message_id(first) == derived_message_id("script", "9988776655001", "TEST-NEWRX-0001")
    other_sender = read_message(replace(NEWRX_2017071_FULL, b">9988776655001<", b">1112223334<"))
    assert dedupe_key(other_sender) != dedupe_key(first)
    assert command_message_id(other_sender) != command_message_id(first)
