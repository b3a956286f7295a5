"""NewRx field mapping (2017071 and 10.6 spellings) and the content errors a bad NewRx earns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.ncpdp.script import read_message, to_command
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Allergy, Coding, CoverageInfo, Identifier
from hub.errors import MessageContentError, UnsupportedMessageError
from tests.unit.ncpdp_script.samples import NEWRX_10_6, NEWRX_2017071_FULL, replace

MED = "Message/Body/NewRx/MedicationPrescribed"


def new_rx(body: bytes) -> ReceivePrescription:
    command = to_command(read_message(body))
    assert isinstance(command, ReceivePrescription)
    return command


def problems(body: bytes) -> dict[str, str]:
    with pytest.raises(MessageContentError) as exc:
        to_command(read_message(body))
    assert all(p.code == "900" for p in exc.value.problems)
    return {p.location: p.text for p in exc.value.problems}


def test_full_2017071_newrx_maps_every_field() -> None:
    rx = new_rx(NEWRX_2017071_FULL)
    assert (rx.placer_order_number, rx.placer_system) == ("ORDER-42", "D:9988776655001")
    patient = rx.patient
    assert (patient.family_name, patient.given_name, patient.sex) == ("Doe", "Alex", "M")
    assert patient.birth_date == date(1970, 2, 3)
    assert patient.address == "1 Test Way, Springfield, IL 62701"
    assert patient.phone == "5550100123"
    assert patient.identifiers == (Identifier(value="MRN-77", type_code="MedicalRecordIdentificationNumberEHR"),)
    assert patient.allergies == (Allergy(text="Penicillin G", code="7980", system="RXCUI", severity="severe"),)
    prescriber = rx.prescriber
    assert (prescriber.npi, prescriber.dea) == ("1234567893", "AP5836727")
    assert (prescriber.family_name, prescriber.given_name) == ("Smith", "Pat")
    assert prescriber.identifiers == (Identifier(value="LIC-5", type_code="StateLicenseNumber"),)
    drug = rx.drug
    assert (drug.ndc, drug.rxnorm, drug.schedule) == ("00000111122", "835603", "4")
    assert (drug.text, drug.strength, drug.form) == ("Tramadol 50 MG Oral Tablet", "50", "C48542")
    assert drug.other_codes == ()
    assert rx.quantity is not None and (rx.quantity.value, rx.quantity.unit) == (Decimal("12.5"), "tablet")
    assert (rx.days_supply, rx.refills, rx.substitution_allowed) == (5, 2, False)
    assert rx.written_date == date(2026, 1, 14)
    assert rx.sig == "Take 1 tablet by mouth every 6 hours as needed for pain."
    assert rx.note == "Synthetic note & test"
    assert rx.coverage == CoverageInfo(
        bin="999999",
        pcn="TESTPCN",
        group_id="GRP9",
        cardholder_id="CARD123",
        plan_name="Synthetic Health Plan",
    )


def test_namespace_is_optional() -> None:
    plain = replace(NEWRX_2017071_FULL, b' xmlns="http://www.ncpdp.org/schema/SCRIPT"', b"")
    assert new_rx(plain) == new_rx(NEWRX_2017071_FULL)


def test_prefixed_namespace_reads_the_same() -> None:
    body = NEWRX_2017071_FULL.replace(b"<", b"<s:").replace(b"<s:/", b"</s:").replace(b"<s:?xml", b"<?xml")
    body = replace(body, b'xmlns="http', b'xmlns:s="http')
    assert new_rx(body) == new_rx(NEWRX_2017071_FULL)


def test_legacy_10_6_spellings() -> None:
    msg = read_message(NEWRX_10_6)
    assert msg.header.version == "10.6"
    rx = new_rx(NEWRX_10_6)
    assert (rx.patient.family_name, rx.patient.sex, rx.patient.birth_date) == ("Roe", "F", date(1985, 7, 8))
    assert rx.patient.address == "2 Test St, Testville, OH 43004"
    assert rx.patient.phone == "5550100222"
    assert (rx.prescriber.npi, rx.prescriber.dea, rx.prescriber.family_name) == (
        "1993999998",
        "AJ5184279",
        "Jones",
    )
    assert (rx.drug.ndc, rx.drug.rxnorm) == ("00000333344", "314076")
    assert rx.quantity is not None and rx.quantity.unit == "tablet"
    assert (rx.refills, rx.sig, rx.substitution_allowed) == (5, "Take 1 tablet by mouth daily.", True)
    assert rx.placer_order_number == "TEST-NEWRX-106"


def test_product_code_qualifier_as_attribute_and_other_codes_are_kept() -> None:
    body = replace(
        NEWRX_2017071_FULL,
        b"<DrugDBCode><Code>835603</Code><Qualifier>SCD</Qualifier></DrugDBCode>",
        b'<DrugDBCode Qualifier="MMS">12345</DrugDBCode>',
    )
    rx = new_rx(body)
    assert rx.drug.rxnorm is None
    assert rx.drug.other_codes == (Coding(code="12345", system="MMS"),)


@pytest.mark.parametrize(
    ("old", "new", "location"),
    [
        (b"<Value>12.5</Value>", b"<Value>-3</Value>", f"{MED}/Quantity/Value"),
        (b"<Value>12.5</Value>", b"<Value>NaN</Value>", f"{MED}/Quantity/Value"),
        (b"<Value>12.5</Value>", b"<Value></Value>", f"{MED}/Quantity/Value"),
        (b"<DaysSupply>5</DaysSupply>", b"<DaysSupply>five</DaysSupply>", f"{MED}/DaysSupply"),
        (
            b"<NumberOfRefills>2</NumberOfRefills>",
            b"<NumberOfRefills>100</NumberOfRefills>",
            f"{MED}/NumberOfRefills",
        ),
        (b"<Substitutions>1</Substitutions>", b"<Substitutions>7</Substitutions>", f"{MED}/Substitutions"),
        (b"<Code>C48677</Code>", b"<Code>C99999</Code>", f"{MED}/DrugCoded/DEASchedule"),
        (
            b"<DateTime>2026-01-14T18:00:00-05:00</DateTime>",
            b"<DateTime>yesterday</DateTime>",
            f"{MED}/WrittenDate/DateTime",
        ),
        (
            b"<Date>1970-02-03</Date>",
            b"<Date>1970-02-30</Date>",
            "Message/Body/NewRx/Patient/HumanPatient/DateOfBirth/Date",
        ),
        (b"<LastName>Doe</LastName>", b"", "Message/Body/NewRx/Patient/HumanPatient/Name/LastName"),
        (b"<DrugDescription>Tramadol 50 MG Oral Tablet</DrugDescription>", b"", f"{MED}/DrugDescription"),
    ],
)
def test_bad_content_is_a_900_at_its_location(old: bytes, new: bytes, location: str) -> None:
    found = problems(replace(NEWRX_2017071_FULL, old, new))
    assert list(found) == [location]
    assert found[location]


def test_missing_quantity_and_sig_are_both_reported() -> None:
    body = replace(
        NEWRX_2017071_FULL,
        b"<Sig><SigText>Take 1 tablet by mouth every 6 hours as needed for pain.</SigText></Sig>",
        b"",
    )
    start, end = body.index(b"<Quantity>"), body.index(b"</Quantity>") + len(b"</Quantity>")
    found = problems(body[:start] + body[end:])
    assert set(found) == {f"{MED}/Quantity", f"{MED}/Sig/SigText"}


def test_unspecified_schedule_means_not_controlled() -> None:
    assert new_rx(replace(NEWRX_2017071_FULL, b"<Code>C48677</Code>", b"<Code>C38046</Code>")).drug.schedule is None


def test_prn_refills_in_10_6_are_refused() -> None:
    body = replace(NEWRX_10_6, b"<Qualifier>R</Qualifier><Value>5</Value>", b"<Qualifier>PRN</Qualifier>")
    assert list(problems(body)) == [f"{MED}/Refills"]


@pytest.mark.parametrize("version", [b'version="2013071"', b'version="5.0"'])
def test_unsupported_versions_are_refused(version: bytes) -> None:
    body = replace(NEWRX_10_6, b'version="010" release="006"', version)
    with pytest.raises(UnsupportedMessageError) as exc:
        to_command(read_message(body))
    assert [(p.code, p.location) for p in exc.value.problems] == [("900", "Message")]


def test_legacy_refill_response_is_read_as_rx_renewal_response() -> None:
    body = b"""<Message version="010" release="006"><Header><From>D1</From><MessageID>M9</MessageID>
    <RelatesToMessageID>M1</RelatesToMessageID><RxReferenceNumber>RX9</RxReferenceNumber></Header>
    <Body><RefillResponse><Response><Approved/></Response>
    <MedicationPrescribed><Refills><Qualifier>R</Qualifier><Value>4</Value></Refills></MedicationPrescribed>
    </RefillResponse></Body></Message>"""
    msg = read_message(body)
    assert msg.kind == "RxRenewalResponse"
    answer = to_command(msg)
    assert answer.model_dump(include={"decision", "refills_approved", "rx_number"}) == {
        "decision": "approved",
        "refills_approved": 4,
        "rx_number": "RX9",
    }


def test_renewal_response_without_a_decision_is_a_900() -> None:
    body = b"""<Message><Header><From>D1</From><MessageID>M9</MessageID>
    <RelatesToMessageID>M1</RelatesToMessageID></Header><Body><RxRenewalResponse><Response><Maybe/></Response></RxRenewalResponse></Body></Message>"""
    assert list(problems(body)) == ["Message/Body/RxRenewalResponse/Response"]
