"""RXC components of a non-IV compound (a cream given topically) are taken as a compound with every ingredient;
IV admixtures keep their AE 200, and a compound that cannot be billed whole is an AE at the field."""

from __future__ import annotations

from decimal import Decimal

from hub.domain.commands import ReceivePrescription
from hub.domain.compound import CompoundDosageForm, DispensingUnit
from hub.errors import MessageContentError
from tests.unit.hl7.test_order_scope import ORC_NW, PID, RDE, refused, run

# a cream of two catalogue NDCs in a base the catalogue lacks (synthetic NDC), 60 g, applied topically
RXE = "RXE||^Lidocaine/prilocaine cream|1||G|CRM^Cream|^Apply twice daily|||60|G|1"
LIDOCAINE = "RXC|A|00054418425^Lidocaine^NDC|6|G"
PRILOCAINE = "RXC|A|52268015001^Prilocaine^NDC|6|G"
BASE = "RXC|B|99999000101^Cream base^NDC|48|G"
OMP = "MSH|^~\\&|EHR|CLINIC|RXHUB|PHARM|20250101120000||OMP^O09^OMP_O09|C1|P|2.5.1"
RXO = "RXO|^Lidocaine/prilocaine cream|1||G|CRM^Cream||^Apply twice daily||N||60|G|1"


def test_a_topical_compound_is_taken_with_every_component() -> None:
    [cmd] = run(RDE, PID, ORC_NW, RXE, "RXR|TOP", LIDOCAINE, PRILOCAINE, BASE)
    assert isinstance(cmd, ReceivePrescription)
    compound = cmd.drug.compound
    assert compound is not None
    assert (compound.dosage_form, compound.dispensing_unit) == (CompoundDosageForm.CREAM, DispensingUnit.GRAMS)
    assert [(i.product_id, i.quantity, i.unit) for i in compound.ingredients] == [
        ("00054418425", Decimal("6"), "G"),
        ("52268015001", Decimal("6"), "G"),
        ("99999000101", Decimal("48"), "G"),
    ]
    assert compound.description == "Lidocaine/prilocaine cream"


def test_an_omp_request_with_rxo_components_is_taken_too() -> None:
    [cmd] = run(OMP, PID, ORC_NW, RXO, "RXR|TOP", LIDOCAINE, BASE)
    assert isinstance(cmd, ReceivePrescription) and cmd.drug.compound is not None
    assert len(cmd.drug.compound.ingredients) == 2


def test_an_iv_admixture_is_still_refused_with_its_ae() -> None:
    error = refused(RDE, PID, ORC_NW, RXE, "RXR|IV", LIDOCAINE, BASE)
    assert [(p.code, p.location) for p in error.problems] == [("200", "RXC^1")]
    rate = refused(RDE, PID, ORC_NW, RXE + "|" * 11 + "125|mL/hr", "RXR|TOP", LIDOCAINE, BASE)
    assert [(p.code, p.location) for p in rate.problems] == [("200", "RXC^1")]


def test_a_compound_that_cannot_be_billed_whole_is_refused_at_the_field() -> None:
    no_ndc = "RXC|B|BASE1^Cream base^L|48|G"
    error = refused(RDE, PID, ORC_NW, RXE, "RXR|TOP", LIDOCAINE, no_ndc)
    assert type(error) is MessageContentError
    assert [(p.code, p.location) for p in error.problems] == [("101", "RXC^2^2")]
    no_amount = refused(RDE, PID, ORC_NW, RXE, "RXR|TOP", LIDOCAINE, "RXC|B|99999000101^Cream base^NDC||G")
    assert [(p.code, p.location) for p in no_amount.problems] == [("101", "RXC^2^3")]
    patch = refused(RDE, PID, ORC_NW, RXE.replace("CRM^Cream", "PAT^Patch"), "RXR|TOP", LIDOCAINE, BASE)
    assert [(p.code, p.location) for p in patch.problems] == [("103", "RXE^1^6")]
