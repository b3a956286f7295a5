"""Mapping ORDER groups to commands on synthetic messages: field rules and every content error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import Coding, Setting
from hub.errors import MessageContentError, Problem

MSH = "MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20250101120000||RDE^O11^RDE_O11|C1|P|2.5.1"
PID = "PID|1||MRN1^^^HOSP^MR||DOE^JANE||19800102|F"
PV1 = "PV1|1|O"
ORC = "ORC|NW|ORD1^EHR_ORDERS|||||||20250101|||1234567893^WELBY^MARCUS^^^^^^^^^^NPI"
RXE = (
    "RXE||00071015523^Lipitor 10 mg tab^NDC^617312^atorvastatin 10 MG^RXNORM|1||TAB|TAB|"
    "^Take 1 tablet by mouth daily||N|30|TAB|3|AP5836727^WELBY^MARCUS"
)
RXR = "RXR|PO^Oral"


def commands(*segments: str) -> list[Command]:
    return to_commands(parse_message("\r".join(segments).encode()))


def one_order(*segments: str) -> ReceivePrescription:
    [cmd] = commands(*segments)
    assert isinstance(cmd, ReceivePrescription)
    return cmd


def problems_of(*segments: str) -> list[tuple[str, str]]:
    with pytest.raises(MessageContentError) as caught:
        commands(*segments)
    assert caught.value.control_id == "C1"
    return [(p.code, p.location) for p in caught.value.problems]


def test_complete_new_order() -> None:
    cmd = one_order(MSH, PID, PV1, ORC, RXE, RXR)
    assert (cmd.placer_order_number, cmd.placer_system) == ("ORD1", "EHR_ORDERS")
    assert (cmd.drug.ndc, cmd.drug.rxnorm, cmd.drug.text) == ("00071015523", "617312", "Lipitor 10 mg tab")
    assert cmd.drug.route == "PO"
    assert cmd.quantity is not None and (cmd.quantity.value, cmd.quantity.unit) == (Decimal("30"), "TAB")
    assert (cmd.refills, cmd.sig) == (3, "Take 1 tablet by mouth daily")
    assert cmd.substitution_allowed is False  # RXE-9 N
    assert (cmd.prescriber.npi, cmd.prescriber.dea, cmd.prescriber.family_name) == (
        "1234567893",
        "AP5836727",
        "WELBY",
    )
    assert cmd.setting is Setting.OUTPATIENT and str(cmd.written_date) == "2025-01-01"
    assert str(cmd.patient.birth_date) == "1980-01-02" and cmd.patient.sex == "F"


def test_placer_system_falls_back_to_msh3_msh4() -> None:
    cmd = one_order(MSH, PID, ORC.replace("ORD1^EHR_ORDERS", "ORD1"), RXE)
    assert cmd.placer_system == "EHR^CLINIC"


def test_empty_order_control_with_rxe_is_a_new_order() -> None:
    assert one_order(MSH, PID, ORC.replace("ORC|NW|", "ORC||"), RXE).placer_order_number == "ORD1"


@pytest.mark.parametrize("control", ["CA", "DC"])
def test_cancel_and_discontinue(control: str) -> None:
    [cmd] = commands(MSH, PID, f"ORC|{control}|ORD1^EHR_ORDERS||||||||||||||Patient request^Patient request")
    assert isinstance(cmd, CancelPrescription)
    assert (cmd.control, cmd.placer_order_number, cmd.reason) == (control, "ORD1", "Patient request")


def test_rxo_only_order_maps_from_rxo_fields() -> None:
    rxo = "RXO|00047040230^Ampicillin 250 mg^NDC|250||mg|CAP||^Take 1 capsule QID||N||40|CAP|1|AB1234563"
    cmd = one_order(MSH.replace("RDE^O11^RDE_O11", "OMP^O09"), PID, ORC, rxo, RXR)
    assert (cmd.drug.ndc, cmd.refills, cmd.prescriber.dea) == ("00047040230", 1, "AB1234563")
    assert cmd.quantity is not None and cmd.quantity.value == Decimal("40")
    assert cmd.substitution_allowed is False  # RXO-9 N (table 0161)
    assert cmd.sig == "Take 1 capsule QID"


@pytest.mark.parametrize(("code", "allowed"), [("0", True), ("1", False), ("7", False), ("G", True), ("", True)])
def test_rxe_9_substitution_status(code: str, allowed: bool) -> None:
    rxe = RXE.replace("||N|30|", f"||{code}|30|")
    assert one_order(MSH, PID, ORC, rxe).substitution_allowed is allowed


def test_unknown_coding_systems_become_other_codes() -> None:
    rxe = RXE.replace("00071015523^Lipitor 10 mg tab^NDC^617312^atorvastatin 10 MG^RXNORM", "L123^Local drug^99LOCAL")
    drug = one_order(MSH, PID, ORC, rxe).drug
    assert (drug.ndc, drug.rxnorm) == (None, None)
    assert drug.other_codes == (Coding(code="L123", system="99LOCAL", display="Local drug"),)


def test_escaped_text_is_unescaped_in_commands() -> None:
    rxe = RXE.replace("Lipitor 10 mg tab", r"Drug A\T\B \S\ 10\F\20 mg")
    assert one_order(MSH, PID, ORC, rxe).drug.text == "Drug A&B ^ 10|20 mg"


def test_schedule_and_inpatient_setting() -> None:
    rxe = RXE + "|" * 22 + "II"
    cmd = one_order(MSH, PID, "PV1|1|I", ORC, rxe)
    assert cmd.drug.schedule == "2" and cmd.setting is Setting.INPATIENT


@pytest.mark.parametrize(
    ("orc12", "npi", "ids"),
    [
        ("1234567893^WELBY^MARCUS", "1234567893", []),  # untyped, valid NPI check digit
        ("1234567890^WELBY^MARCUS", None, ["1234567890"]),  # untyped, check digit wrong
        ("1234567890^WELBY^MARCUS^^^^^^NPI", "1234567890", []),  # XCN.9 assigning authority says NPI
        ("1234567890^WELBY^MARCUS^^^^^^&2.16.840.1.113883.4.6&ISO", "1234567890", []),  # NPI OID
        ("1234567893^WELBY^MARCUS^^^^^^HOSP^^^^EI", None, ["1234567893"]),  # typed as something else
        ("12345678\u00b23^WELBY^MARCUS", None, ["12345678\u00b23"]),  # a non-decimal "digit" is not an NPI
    ],
)
def test_npi_rule(orc12: str, npi: str | None, ids: list[str]) -> None:
    orc = ORC.replace("1234567893^WELBY^MARCUS^^^^^^^^^^NPI", orc12)
    prescriber = one_order(MSH, PID, orc, RXE).prescriber
    assert prescriber.npi == npi and [i.value for i in prescriber.identifiers] == ids


def test_every_problem_of_the_message_is_reported_with_its_erl() -> None:
    found = problems_of(
        MSH,
        "PID|1||MRN1||DOE^JANE||19801345|F",
        ORC,
        RXE,
        ORC.replace("ORD1^EHR_ORDERS", ""),
        RXE.replace("|3|AP5836727", "|three|AP5836727"),
        ORC.replace("ORC|NW|ORD1", "ORC|NW|ORD3"),
        RXE.replace("00071015523^Lipitor 10 mg tab^NDC^617312^atorvastatin 10 MG^RXNORM", ""),
        ORC.replace("ORC|NW|ORD1", "ORC|XO|ORD4"),
        RXE,
        ORC.replace("ORC|NW|ORD1", "ORC|NW|ORD5"),
        RXR,
    )
    assert found == [
        ("102", "PID^1^7"),
        ("101", "ORC^2^2"),
        ("102", "RXE^2^12"),
        ("101", "RXE^3^2"),
        ("103", "ORC^4^1"),
        ("100", "ORC^5"),
    ]


def test_rxe_before_any_orc_is_a_sequence_error() -> None:
    assert problems_of(MSH, PID, RXE) == [("100", "RXE^1"), ("100", "ORC^1")]


def test_new_order_without_pid_is_a_sequence_error() -> None:
    assert problems_of(MSH, ORC, RXE) == [("100", "PID^1")]


def test_bad_quantity_and_refills_are_data_type_errors() -> None:
    rxe = RXE.replace("|30|TAB|3|", "|thirty|TAB|2.5|")
    assert problems_of(MSH, PID, ORC, rxe) == [("102", "RXE^1^10"), ("102", "RXE^1^12")]


def test_problem_type_is_the_hub_problem() -> None:
    with pytest.raises(MessageContentError) as caught:
        commands(MSH, PID, ORC.replace("ORC|NW|", "ORC|ZZ|"), RXE)
    assert caught.value.problems == [
        Problem("103", "ORC-1 order control 'ZZ' is not one the hub accepts (NW, CA, DC)", "ORC^1^1")
    ]
