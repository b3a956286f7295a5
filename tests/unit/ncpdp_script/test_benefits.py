"""Several coverages from SCRIPT (issue 33, part 3): every BenefitsCoordination repetition, in the order the
message lists them (primary first)."""

from __future__ import annotations

from adapters.ncpdp.script import read_message, to_command
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import CoverageInfo
from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL, corpus, replace

SECONDARY = b"""<BenefitsCoordination>
        <PayerIdentification>
          <ProcessorIdentificationNumber>SECPCN</ProcessorIdentificationNumber>
          <IINNumber>999003</IINNumber>
        </PayerIdentification>
        <PayerName>Second Synthetic Plan</PayerName>
        <CardholderID>SEC-CH-9</CardholderID>
        <GroupID>SEC1</GroupID>
      </BenefitsCoordination>"""
NAMES_NOTHING = (
    b"<BenefitsCoordination><CardholderName><LastName>Doe</LastName></CardholderName></BenefitsCoordination>"
)


def new_rx(body: bytes) -> ReceivePrescription:
    command = to_command(read_message(body))
    assert isinstance(command, ReceivePrescription)
    return command


def test_second_benefits_coordination_is_the_secondary_coverage() -> None:
    body = replace(NEWRX_2017071_FULL, b"      <Patient>", SECONDARY + NAMES_NOTHING + b"\n      <Patient>")
    rx = new_rx(body)
    assert rx.coverage is not None and (rx.coverage.bin, rx.coverage.cardholder_id) == ("999999", "CARD123")
    assert rx.other_coverages == (
        CoverageInfo(
            bin="999003", pcn="SECPCN", group_id="SEC1", cardholder_id="SEC-CH-9", plan_name="Second Synthetic Plan"
        ),
    )


def test_public_newrx_with_two_plans_added_keeps_both_in_order() -> None:
    """Cosyte's basic 2017071 NewRx (no BenefitsCoordination) with a primary and a secondary added."""
    primary = SECONDARY.replace(b"999003", b"610014").replace(b"SEC-CH-9", b"PRI-CH-1")
    body = replace(corpus("cosyte_2017071_newrx_basic_amoxicillin.xml"), b"<NewRx>", b"<NewRx>" + primary + SECONDARY)
    rx = new_rx(body)
    assert rx.coverage is not None and (rx.coverage.bin, rx.coverage.cardholder_id) == ("610014", "PRI-CH-1")
    assert [(c.bin, c.cardholder_id) for c in rx.other_coverages] == [("999003", "SEC-CH-9")]


def test_one_plan_has_no_others() -> None:
    assert new_rx(NEWRX_2017071_FULL).other_coverages == ()
