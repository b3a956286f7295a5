"""A compound's claim: its ingredients with their costs, an ingredient cost that is their sum, and 420-DK 08 when
the pharmacy bills compounds for their approved ingredients only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.domain.catalogue import Product
from hub.domain.claim import MAX_CLARIFICATION_CODES
from hub.domain.compound_product import ingredient_prices
from hub.domain.payer_sheet import BASIS_OF_COST
from hub.domain.prescription import Prescription
from hub.service.workflow.context import WorkflowContext


def compound_billing(ctx: WorkflowContext, rx: Prescription, bin_: str, pcn: str | None) -> dict[str, Any]:
    """ClaimRequestData fields for a compound (none for a single product): each ingredient priced on the plan's
    cost basis from the catalogue (no price when it is not there), 409-D9 their sum, 430-DU that plus the fee."""
    compound = rx.drug.compound
    if compound is None:
        return {}
    sheet = ctx.payer_sheets.for_plan(bin_, pcn)

    def unit_cost(product: Product) -> Decimal | None:
        return sheet.unit_cost(product) if sheet else (product.unit_price or None)

    costs = ingredient_prices(compound, ctx.catalogue.by_ndc, unit_cost)
    ingredient = sum((c for c in costs if c is not None), Decimal("0"))
    fee = sheet.dispensing_fee if sheet else None
    return {
        "compound": compound,
        "compound_costs": costs,
        "ingredient_cost": ingredient,
        "dispensing_fee": fee,
        "basis_of_cost": BASIS_OF_COST[sheet.cost_basis] if sheet else BASIS_OF_COST["usual_and_customary"],
        "gross_amount_due": ingredient + (fee or Decimal("0")),
    }


#: 420-DK 08: process the compound for approved ingredients
APPROVED_INGREDIENTS = "08"


def compound_clarification(ctx: WorkflowContext, rx: Prescription, codes: list[str]) -> tuple[str, ...]:
    """The claim's 420-DK codes, with 08 added to a compound's when the setting asks (and room is left)."""
    wanted = ctx.compound_approved_ingredients_only and rx.drug.compound is not None
    if not wanted or APPROVED_INGREDIENTS in codes or len(codes) >= MAX_CLARIFICATION_CODES:
        return tuple(codes)
    return (*codes, APPROVED_INGREDIENTS)
