"""How the simulated plan takes a compound claim (406-D6 = 2): AM10 must hold together, and it is priced from its
ingredients, each at the plan's own unit cost for that NDC.

An inconsistent claim is rejected with the M/I code of what is wrong (standards.md §4.4 names M/I codes after
the field; the compound ones are unverified against NCPDP's licensed list): 20 compound code (AM10 without
406-D6 = 2, or 406-D6 = 2 without AM10, or with a product id in 436-E1/407-D7), EF, EG, EC (447-EC is not the
number of ingredient sets, or fewer than two), RE, TE, ED, EE per ingredient. An ingredient the plan does not
cover rejects the claim 70, unless 420-DK 08 asks to pay the covered ingredients only.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.ncpdp.d0.claim_request import ClaimTransaction
from adapters.ncpdp.d0.compound_segment import CompoundIngredientLine
from adapters.ncpdp.payer.config import DrugRule, PayerConfig
from hub.domain.order_parts import Frozen

COMPOUND = "2"
#: 488-RE values the plan knows: 01 UPC, 02 HRI, 03 NDC
KNOWN_QUALIFIERS = frozenset({"01", "02", "03"})
NDC = "03"
#: 420-DK 08: process the compound for its approved (covered) ingredients
APPROVED_INGREDIENTS = "08"
_CENT = Decimal("0.01")


class CompoundTerms(Frozen):
    """What the plan makes of a consistent compound: a rule for the claim and the ingredient cost it pays."""

    rule: DrugRule
    ingredient_cost: Decimal


def is_compound(transaction: ClaimTransaction) -> bool:
    """The claim says it is a compound (406-D6 = 2)."""
    return (transaction.claim.compound_code or "").strip() == COMPOUND


def rejects(transaction: ClaimTransaction) -> list[str]:
    """The M/I codes of an inconsistent compound claim; nothing for a consistent one or a single product."""
    claim, segment = transaction.claim, transaction.compound
    if not is_compound(transaction):
        return ["20"] if segment is not None else []
    product = (claim.product_id or "").strip().strip("0")
    if segment is None or product or (claim.product_id_qualifier or "").strip() not in ("", "00"):
        return ["20"]
    if not segment.dosage_form_code:
        return ["EF"]
    if segment.dispensing_unit_code not in ("1", "2", "3"):
        return ["EG"]
    if segment.component_count != len(segment.ingredients) or len(segment.ingredients) < 2:
        return ["EC"]
    return next((codes for line in segment.ingredients if (codes := _line_rejects(line))), [])


def _line_rejects(line: CompoundIngredientLine) -> list[str]:
    if line.product_id_qualifier not in KNOWN_QUALIFIERS:
        return ["RE"]
    if not line.product_id:
        return ["TE"]
    if line.quantity is None or line.quantity <= 0:
        return ["ED"]
    if line.drug_cost is None:
        return ["EE"]
    return []


def terms(config: PayerConfig, transaction: ClaimTransaction) -> CompoundTerms | None:
    """The plan's rule and ingredient cost for a consistent compound; None for a single product."""
    segment = transaction.compound
    if not is_compound(transaction) or segment is None:
        return None
    paid = [_covered(config, line) for line in segment.ingredients]
    partial_ok = APPROVED_INGREDIENTS in transaction.claim.submission_clarification_codes
    covered = any(p is not None for p in paid) and (partial_ok or all(p is not None for p in paid))
    rule = DrugRule(
        name="compound",
        covered=covered,
        dispensing_fee=config.compound_dispensing_fee,
        copay=config.compound_copay,
    )
    return CompoundTerms(rule=rule, ingredient_cost=sum((p for p in paid if p is not None), Decimal("0")))


def _covered(config: PayerConfig, line: CompoundIngredientLine) -> Decimal | None:
    """What the plan pays for one ingredient (its unit cost times the quantity), None when it is not covered."""
    rule = config.drugs.get(line.product_id or "") if line.product_id_qualifier == NDC else None
    if rule is None or not rule.covered or line.quantity is None:
        return None
    return (rule.unit_cost * line.quantity).quantize(_CENT)
