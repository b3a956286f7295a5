"""Whether a catalogue product can be what an order asked for: the technician's product choice at intake.

An order waits for a product because it names none the hub can dispense (free text, RxNorm only, an NDC not
in the catalogue), so most choices cannot be proved right; a choice is refused only on evidence that it is
wrong: the order's RxNorm code is another drug's, or the order's words name a drug the catalogue knows and
the product contains none of what they name. A brand name the catalogue does not know ("Polycillin") is no
evidence either way; the pharmacist sees order and product side by side at data verification.
"""

from __future__ import annotations

import re

from hub.domain.catalogue import Catalogue, Product
from hub.domain.order_parts import DrugInfo

_WORD = re.compile(r"[a-z]+")


def product_mismatch(drug: DrugInfo, product: Product, catalogue: Catalogue) -> str | None:
    """Why ``product`` cannot be the drug the order names, or None when nothing says it is not."""
    rxnorm = (drug.rxnorm or "").strip()
    codes = {code for code in (product.rxcui, *product.rxcui_aliases) if code}
    if rxnorm and codes and rxnorm not in codes:
        return f"the order names RxNorm {rxnorm}; {product.display_name} is RxNorm {', '.join(sorted(codes))}"
    named = _ingredients_named(_words_of(drug), catalogue)
    if named and not named & set(product.ingredients):
        return (
            f"the order names {', '.join(sorted(named))}; {product.display_name} contains "
            f"{', '.join(product.ingredients) or 'nothing the order names'}"
        )
    return None


def _words_of(drug: DrugInfo) -> str:
    """The order's words for the drug: its text and the displays of its other codes, in lower case."""
    texts = [drug.text or "", *(code.display or "" for code in drug.other_codes)]
    return " ".join(_WORD.findall(" ".join(texts).lower()))


def _ingredients_named(words: str, catalogue: Catalogue) -> set[str]:
    """Every ingredient of the catalogue whose name appears as whole words in ``words``."""
    padded = f" {words} "
    known = {i for p in catalogue.products for i in p.ingredients}
    return {i for i in known if f" {' '.join(_WORD.findall(i.lower()))} " in padded}
