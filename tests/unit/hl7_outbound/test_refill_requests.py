"""Refill authorization requests (RDE^O25 / RF) to the ordering EHR: content, and hl7apy STRICT at 2.3-2.8 (#29)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import hl7
import pytest

from adapters.hl7.outbound.message_inputs import MessageHeader
from adapters.hl7.outbound.refill_requests import RefillRequest, build_refill_request
from hub.domain.order_context import PatientDemographics, PatientLocation
from hub.domain.order_parts import DrugInfo, Identifier, PrescriberInfo, QuantityInfo, Setting
from tests.support.hl7_strict import strict

VERSIONS = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"]
AT = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)
REQUEST = RefillRequest(
    rx_number="RX-100234",
    placer_order_number="ORD-77",
    placer_system="EHR-NORTH",
    setting=Setting.OUTPATIENT,
    patient=PatientDemographics(
        identifiers=(Identifier(value="MRN-0042", system="GENHOSP", type_code="MR"),),
        family_name="Synthetic",
        given_name="Alex",
        birth_date=date(1961, 4, 9),
        sex="F",
    ),
    prescriber=PrescriberInfo(family_name="Welby", given_name="Marcus", npi="1234567893"),
    drug=DrugInfo(ndc="00093005801", text="Lisinopril 10 MG Oral Tablet", route="PO"),
    quantity=QuantityInfo(value=Decimal(30), unit="TAB"),
    give_amount=Decimal(1),
    give_unit="TAB",
    frequency="QD",
    sig="Take 1 tablet by mouth once daily",
    refills_requested=3,
    requested_at=AT,
)


def _header(version: str) -> MessageHeader:
    return MessageHeader(
        sending_application="RXHUB",
        sending_facility="PHARMACY",
        receiving_application="EHR",
        receiving_facility="GENHOSP",
        version=version,
        control_id="C0FFEE01",
        created_at=AT,
    )


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("setting", [Setting.OUTPATIENT, Setting.INPATIENT])
def test_refill_requests_pass_hl7apy_strict_validation(version: str, setting: Setting) -> None:
    message = build_refill_request(_header(version), REQUEST.model_copy(update={"setting": setting}))
    strict(message)


@pytest.mark.parametrize(
    ("version", "message_type"),
    [
        ("2.3", "RDE^O01"),
        ("2.3.1", "RDE^O01^RDE_O01"),
        ("2.4", "RDE^O11^RDE_O11"),
        ("2.5.1", "RDE^O25^RDE_O11"),
        ("2.8", "RDE^O25^RDE_O11"),
    ],
)
def test_the_message_type_is_the_versions_refill_request(version: str, message_type: str) -> None:
    msg = hl7.parse(build_refill_request(_header(version), REQUEST).decode())
    assert str(msg.segment("MSH")[9]) == message_type
    assert str(msg.segment("ORC")[1]) == "RF"


def test_it_names_the_patient_the_order_the_prescriber_and_what_is_asked() -> None:
    msg = hl7.parse(build_refill_request(_header("2.5.1"), REQUEST).decode())
    pid, orc, rxe = msg.segment("PID"), msg.segment("ORC"), msg.segment("RXE")
    assert (str(pid[3]), str(pid[5]), str(pid[7]), str(pid[8])) == (
        "MRN-0042^^^GENHOSP^MR",
        "Synthetic^Alex",
        "19610409",
        "F",
    )
    assert (str(orc[2]), str(orc[3]), str(orc[12])) == (
        "ORD-77^EHR-NORTH",
        "RX-100234^RXHUB",
        "1234567893^Welby^Marcus^^^^^^NPI",
    )
    assert str(rxe[2]) == "00093005801^Lisinopril 10 MG Oral Tablet^NDC"
    assert (str(rxe[3]), str(rxe[5]), str(rxe[10]), str(rxe[11])) == ("1", "TAB", "30", "TAB")
    assert (str(rxe[12]), str(rxe[15]), str(rxe[16])) == ("3", "RX-100234", "0")
    assert str(rxe[7]) == "^Take 1 tablet by mouth once daily"
    assert [str(s[3]) for s in msg.segments("TQ1")] == ["QD", "QD"]
    assert str(msg.segment("RXR")[1]) == "PO"


def test_an_inpatient_request_says_so_and_unknown_required_values_are_hl7_nulls() -> None:
    bare = REQUEST.model_copy(
        update={
            "setting": Setting.INPATIENT,
            "drug": DrugInfo(text="Lisinopril 10 MG"),
            "patient": PatientDemographics(identifiers=REQUEST.patient.identifiers),
            "give_unit": None,
        }
    )
    msg = hl7.parse(build_refill_request(_header("2.4"), bare).decode())
    assert str(msg.segment("PV1")[2]) == "I"
    ward = REQUEST.model_copy(
        update={"setting": Setting.INPATIENT, "location": PatientLocation(point_of_care="4WEST", room="401", bed="A")}
    )
    assert str(hl7.parse(build_refill_request(_header("2.4"), ward).decode()).segment("PV1")[3]) == "4WEST^401^A"
    assert str(msg.segment("PID")[5]) == '""'
    assert str(msg.segment("RXE")[5]) == '""' and str(msg.segment("RXR")[1]) == '""'
    assert str(msg.segment("ORC")[7]) == "1^QD^^20260302140500+0000"
    strict(build_refill_request(_header("2.4"), bare))
