"""Payer sheets: per BIN/PCN, which claim fields a plan requires and how it prices, checked before sending.

A claim missing a field its sheet requires is not sent: it waits in the technician's exceptions with the
missing fields named (reject code ``PS``), since the payer would reject it anyway and a person must add them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from hub.domain.catalogue import Product
from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.order_parts import Frozen

#: what the exceptions list shows when a payer sheet stopped a claim before sending
SHEET_CODE = "PS"
#: ClaimRequestData fields a sheet may require, with their D.0 names for the technician
FIELD_NAMES: dict[str, str] = {
    "cardholder_id": "302-C2 Cardholder ID",
    "group_id": "301-C1 Group ID",
    "person_code": "303-C3 Person Code",
    "prescriber_npi": "411-DB Prescriber ID (NPI)",
    "prescriber_last_name": "427-DR Prescriber Last Name",
    "days_supply": "405-D5 Days Supply",
    "written_date": "414-DE Date Prescription Written",
    "quantity_prescribed": "460-ET Quantity Prescribed",
    "origin_code": "419-DJ Prescription Origin Code",
    "unit_of_measure": "600-28 Unit of Measure",
    "other_coverage_code": "308-C8 Other Coverage Code",
    "ingredient_cost": "409-D9 Ingredient Cost Submitted",
    "dispensing_fee": "412-DC Dispensing Fee Submitted",
    "basis_of_cost": "423-DN Basis of Cost Determination",
    "usual_and_customary": "426-DQ Usual and Customary Charge",
    "gross_amount_due": "430-DU Gross Amount Due",
}
#: 423-DN basis of cost determination (unverified: the value list is in NCPDP's licensed dictionary)
BASIS_OF_COST = {"awp": "01", "acquisition": "05", "usual_and_customary": "07"}
#: schedule II claims must carry 460-ET (CMS/NCPDP, since 2020-09-21), whatever the sheet says
SCHEDULE_II = "2"

CostBasis = Literal["awp", "acquisition", "usual_and_customary"]


class PayerSheet(Frozen):
    """One plan's requirements, matched by BIN and (when given) PCN."""

    bin: str = Field(min_length=1, max_length=6)
    #: None: every PCN of the BIN
    pcn: str | None = None
    name: str = ""
    required: tuple[str, ...] = ()
    #: the unit cost the ingredient cost (409-D9) is priced from
    cost_basis: CostBasis = "usual_and_customary"
    dispensing_fee: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=2)
    #: 308-C8 sent on every claim of this plan (1 = no other coverage), None: not sent
    other_coverage_code: str | None = Field(default=None, pattern=r"^[0-8]$")
    #: days a paid fill may wait in will-call before it is returned to stock and reversed (None: the setting)
    return_to_stock_days: float | None = Field(default=None, gt=0)

    @field_validator("required")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"unknown claim fields {unknown}; known: {sorted(FIELD_NAMES)}")
        return value

    def unit_cost(self, product: Product) -> Decimal | None:
        """The product's unit cost on this plan's basis, None when the catalogue has none."""
        if self.cost_basis == "awp":
            return product.awp_unit_price
        if self.cost_basis == "acquisition":
            return product.acquisition_unit_cost
        return product.unit_price or None


class PayerSheets(Frozen):
    """The shape of the payer-sheet file (``RXHUB_PAYER_SHEETS_PATH``)."""

    notes: tuple[str, ...] = Field(default=(), alias="_notes")
    sheets: tuple[PayerSheet, ...] = ()

    @classmethod
    def from_json_text(cls, text: str) -> PayerSheets:
        """Build from the file's text (raises pydantic's ValidationError when it is wrong)."""
        return cls.model_validate(json.loads(text))

    def for_plan(self, bin_: str, pcn: str | None) -> PayerSheet | None:
        """The sheet for a BIN and PCN: an exact PCN match first, then the BIN's catch-all."""
        pcn = (pcn or "").strip() or None
        exact = [s for s in self.sheets if s.bin == bin_ and s.pcn is not None and s.pcn == pcn]
        return exact[0] if exact else next((s for s in self.sheets if s.bin == bin_ and s.pcn is None), None)


def missing_fields(request: ClaimRequestData, sheet: PayerSheet | None) -> list[str]:
    """The D.0 names of required fields the claim lacks (the CII rule applies without a sheet too)."""
    required = list(sheet.required) if sheet else []
    if request.schedule == SCHEDULE_II:
        required.append("quantity_prescribed")
    missing = [f for f in dict.fromkeys(required) if getattr(request, f) in (None, "")]
    return [FIELD_NAMES[f] for f in missing]
