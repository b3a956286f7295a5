"""Several coverages from HL7 IN1 repetitions (issue 33, part 3): billing order by IN1-22 coordination of
benefits priority, then IN1-1 set id; only an IN1 naming a BIN is billable."""

from __future__ import annotations

from adapters.hl7.insurance_fields import read_coverages
from adapters.hl7.parsing import parse_message
from hub.domain.order_parts import CoverageInfo
from tests.unit.hl7.corpus import sample
from tests.unit.hl7.test_mapping import MSH, ORC, PID, PV1, RXE, RXR, one_order


def in1(**fields: str) -> str:
    """An IN1 segment with the given fields (``f3="..."`` is IN1-3)."""
    numbered = {int(k[1:]): v for k, v in fields.items()}
    return "|".join(["IN1", *(numbered.get(n, "") for n in range(1, max(numbered) + 1))])


# synthetic: the secondary is sent first, with set id 1, and says so in IN1-22
SECONDARY = in1(
    f1="1",
    f2="SUPP^Supplemental Rx",
    f3="999003^^^^BIN~SECPCN^^^^PCN",
    f4="Second Plan Co",
    f8="SEC1",
    f17="SPO^Spouse",
    f22="2",
    f49="SEC-CH-9",
)
PRIMARY = in1(
    f1="2",
    f2="MAIN^Main Rx",
    f3="999001^^^BIN~MAINPCN^^^PCN",
    f4="Main Plan Co",
    f8="GRP1",
    f17="SEL^Self",
    f22="1",
    f36="POL-77",
)
MEDICAL_ONLY = "IN1|3|BAV^Blue Advantage HMO|IC-1.31^^^NIIP|Medical Co||||GRP9"


def test_in1_repetitions_become_coverages_in_coordination_of_benefits_order() -> None:
    order = one_order(MSH, PID, PV1, SECONDARY, PRIMARY, MEDICAL_ONLY, ORC, RXE, RXR)
    assert order.coverage == CoverageInfo(
        bin="999001", pcn="MAINPCN", group_id="GRP1", cardholder_id="POL-77", relationship="1", plan_name="Main Plan Co"
    )
    assert order.other_coverages == (
        CoverageInfo(
            bin="999003",
            pcn="SECPCN",
            group_id="SEC1",
            cardholder_id="SEC-CH-9",
            relationship="2",
            plan_name="Second Plan Co",
        ),
    )


def test_without_priorities_the_set_id_orders_them() -> None:
    first = in1(f1="1", f3="610014^^^^BIN", f8="G1")
    second = in1(f1="2", f3="999003^^^^BIN", f8="G2")
    order = one_order(MSH, PID, PV1, second, first, ORC, RXE, RXR)
    assert order.coverage is not None and order.coverage.bin == "610014"
    assert [c.bin for c in order.other_coverages] == ["999003"]


def test_public_sample_in1_without_a_bin_leaves_billing_to_the_pharmacy_profile() -> None:
    """FHIR-Converter's RDE^O11 carries a medical IN1 (HMO, IN1-3 typed NIIP): nothing a pharmacy can bill."""
    message = parse_message(sample("fhirconverter_rde_o11_two_orders.hl7"))
    assert message.all("IN1") and read_coverages(message) == ()
