"""Orders the hub does not take: other departments' orders (AR 200) and IV admixtures/infusions (AE 200)."""

from __future__ import annotations

import pytest

from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.errors import InboundMessageError, MessageContentError, UnsupportedMessageError

ORM = "MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20250101120000||ORM^O01|C1|P|2.3"
RDE = "MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20250101120000||RDE^O11^RDE_O11|C1|P|2.5.1"
PID = "PID|1||MRN1^^^HOSP^MR||DOE^JANE||19800102|F"
ORC_NW = "ORC|NW|ORD1|||||||20250101|||1234567893^WELBY^MARCUS^^^^^^^^^^NPI"
RXE = "RXE||00071015523^Lipitor 10 mg tab^NDC|1||TAB|TAB|^Take 1 daily||N|30|TAB|3"
RXO = "RXO|00047040230^Ampicillin 250 mg^NDC|250||mg|CAP||^Take 1 capsule QID||N||40|CAP|1"
OBR = "OBR|1|RAD7||71045^Xray exam chest 1 view^C4"


def run(*segments: str) -> list[Command]:
    return to_commands(parse_message("\r".join(segments).encode()))


def refused(*segments: str) -> InboundMessageError:
    with pytest.raises(InboundMessageError) as caught:
        run(*segments)
    assert caught.value.control_id == "C1"
    return caught.value


def test_a_radiology_cancel_is_not_a_pharmacy_cancel() -> None:
    """The issue's case: ORC CA + OBR was read as a cancel of a prescription the hub never held."""
    error = refused(ORM, PID, "ORC|CA|RAD7", OBR)
    assert type(error) is UnsupportedMessageError
    assert [(p.code, p.location) for p in error.problems] == [("200", "OBR^1")]
    assert "not a pharmacy order" in error.problems[0].text and "OBR" in error.problems[0].text


@pytest.mark.parametrize("detail", ["RQD|1|||CATH1", "ODS|D||DIABETIC", "RQ1|10|MFR"])
def test_supply_and_diet_orders_are_refused_alike(detail: str) -> None:
    error = refused(ORM, PID, "ORC|NW|SUP1", detail)
    assert type(error) is UnsupportedMessageError and error.problems[0].location == f"{detail[:3]}^1"


def test_a_message_mixing_pharmacy_and_radiology_orders_is_refused_whole() -> None:
    error = refused(ORM, PID, ORC_NW, RXO, "ORC|NW|RAD7", OBR)
    assert type(error) is UnsupportedMessageError
    assert [(p.code, p.location) for p in error.problems] == [("200", "OBR^1")]
    assert "ORDER group 2" in error.problems[0].text


def test_an_obr_beside_rxo_in_one_group_is_still_a_pharmacy_order() -> None:
    [cmd] = run(ORM, PID, ORC_NW, RXO, OBR)
    assert isinstance(cmd, ReceivePrescription)


def test_a_bare_orc_cancel_is_still_a_pharmacy_cancel() -> None:
    [cmd] = run(ORM, PID, "ORC|CA|ORD1")
    assert isinstance(cmd, CancelPrescription)


def test_not_a_pharmacy_order_is_rejected_before_content_errors() -> None:
    """AR beats AE: fixing the content would not make the order one the hub takes."""
    error = refused(ORM, PID, "ORC|XO|RAD7", OBR)
    assert type(error) is UnsupportedMessageError


@pytest.mark.parametrize(
    ("segments", "location"),
    [
        ((ORC_NW, RXE, "RXR|IV", "RXC|B|D5W^Dextrose 5%^L|500|ML", "RXC|A|KCL^Potassium^L|20|MEQ"), "RXC^1"),
        ((ORC_NW, "RXO|D5W^Dextrose 5%^L", "RXC|B|D5W^Dextrose 5%^L|500|ML", RXE), "RXC^1"),
        ((ORC_NW, RXE + "|" * 32 + "S", "RXR|IV"), "RXE^1^44"),
        ((ORC_NW, RXE + "|" * 11 + "125|mL/hr", "RXR|IV"), "RXE^1^23"),
    ],
    ids=["rxc-after-rxe", "rxc-in-rxo-component-group", "rxe-44-large-volume", "rxe-23-rate"],
)
def test_iv_admixtures_and_infusions_are_refused_with_ae_at_their_first_iv_part(
    segments: tuple[str, ...], location: str
) -> None:
    error = refused(RDE, PID, *segments)
    assert type(error) is MessageContentError
    assert [(p.code, p.location) for p in error.problems] == [("200", location)]
    assert "does not take IV admixtures" in error.problems[0].text


def test_rxe_44_medication_is_an_ordinary_order() -> None:
    [cmd] = run(RDE, PID, ORC_NW, RXE + "|" * 32 + "M", "RXR|PO")
    assert isinstance(cmd, ReceivePrescription)


def test_each_admixture_group_gets_its_own_err() -> None:
    error = refused(
        RDE, PID, ORC_NW, RXE, "RXC|B|D5W^D5W^L|500|ML", ORC_NW.replace("ORD1", "ORD2"), RXE, "RXC|B|NS^Saline^L|250|ML"
    )
    assert [(p.code, p.location) for p in error.problems] == [("200", "RXC^1"), ("200", "RXC^2")]


def test_a_cancel_of_an_admixture_is_still_taken() -> None:
    """An order stored before the refusal existed can still be cancelled, components and all."""
    [cmd] = run(RDE, PID, "ORC|CA|ORD1", RXE, "RXC|B|D5W^D5W^L|500|ML")
    assert isinstance(cmd, CancelPrescription)
