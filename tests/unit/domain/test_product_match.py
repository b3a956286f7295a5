"""A technician's product choice is refused only on evidence that it is another drug than the order's."""

from __future__ import annotations

import pytest

from hub.domain.catalogue import Product
from hub.domain.order_parts import Coding, DrugInfo
from hub.domain.product_match import product_mismatch
from tests.unit.domain.builders import CATALOGUE


def _product(ndc: str) -> Product:
    found = CATALOGUE.by_ndc(ndc)
    assert found is not None
    return found


AMPICILLIN, LISINOPRIL, NICARDIPINE, HYDROCODONE_APAP = "00047040230", "00378020801", "00143963401", "00591040501"


@pytest.mark.parametrize(
    ("drug", "ndc"),
    [
        (DrugInfo(rxnorm="314077", text="lisinopril"), LISINOPRIL),
        (DrugInfo(text="Polycillin 500 mg TAB"), AMPICILLIN),  # a brand the catalogue does not know: no evidence
        (DrugInfo(ndc="0143963401", text="NICARDIPINE 40 MG/200 ML premixed"), NICARDIPINE),
        (DrugInfo(text="Hydrocodone/APAP 5/325"), HYDROCODONE_APAP),
        (DrugInfo(other_codes=(Coding(code="x", system="urn:local", display="Lisinopril tab"),)), LISINOPRIL),
        (DrugInfo(rxnorm="314077"), NICARDIPINE),  # the product has no RxNorm code to compare with
    ],
)
def test_a_product_that_may_be_the_ordered_drug_is_taken(drug: DrugInfo, ndc: str) -> None:
    assert product_mismatch(drug, _product(ndc), CATALOGUE) is None


@pytest.mark.parametrize(
    ("drug", "ndc", "words"),
    [
        (DrugInfo(rxnorm="308191", text="amoxicillin"), LISINOPRIL, "RxNorm 308191"),
        (DrugInfo(text="nicardipine 40 mg/200 mL"), LISINOPRIL, "names nicardipine"),
        (DrugInfo(other_codes=(Coding(code="x", display="Warfarin 5 mg"),)), LISINOPRIL, "names warfarin"),
    ],
)
def test_a_product_the_order_says_is_another_drug_is_refused(drug: DrugInfo, ndc: str, words: str) -> None:
    reason = product_mismatch(drug, _product(ndc), CATALOGUE)
    assert reason is not None and words in reason
