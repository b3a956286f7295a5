"""AM05 Coordination of Benefits/Other Payments: what earlier payers paid or rejected, for a secondary claim.

Layout (issue 33 part 3; field ids as NCPDP D.0 names them): 337-4C other payments count, then per other
payer a set opened by 338-5C other payer coverage type with 339-6C id qualifier, 340-7C id, 443-E8 date, the
nested 341-HB count of 342-HC qualifier / 431-DV amount paid pairs, and the nested 471-5E count of 472-6E
reject codes. Sets repeat at most 9 times, amounts 9, reject codes 5.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from adapters.ncpdp.d0.model import Segment
from adapters.ncpdp.d0.segment_view import SegmentView, WireFormat, decode, encode
from hub.domain.order_parts import Frozen

#: 338-5C: 01 primary, 02 secondary, 03 tertiary ... (the payer that answered before this one)
PRIMARY = "01"
#: 339-6C: 03 = BIN (unverified against the licensed data dictionary)
QUALIFIER_BIN = "03"
#: 342-HC: 07 = drug benefit (unverified)
AMOUNT_DRUG_BENEFIT = "07"
MAX_OTHER_PAYERS = 9
MAX_AMOUNTS = 9
MAX_REJECTS = 5


class OtherPayerAmount(Frozen):
    """One 342-HC / 431-DV pair."""

    qualifier: str = AMOUNT_DRUG_BENEFIT
    amount: Decimal


class OtherPayer(Frozen):
    """What one earlier payer did with this claim."""

    coverage_type: str = PRIMARY
    id_qualifier: str | None = None
    payer_id: str | None = None
    payer_date: date | None = None
    amounts_paid: tuple[OtherPayerAmount, ...] = Field(default=(), max_length=MAX_AMOUNTS)
    reject_codes: tuple[str, ...] = Field(default=(), max_length=MAX_REJECTS)

    @property
    def total_paid(self) -> Decimal:
        """Everything this payer paid (sum of 431-DV)."""
        return sum((a.amount for a in self.amounts_paid), Decimal("0"))


_SCALARS = {
    "6C": ("id_qualifier", WireFormat.TEXT),
    "7C": ("payer_id", WireFormat.TEXT),
    "E8": ("payer_date", WireFormat.DATE),
}


class CobSegment(SegmentView):
    """AM05 with its nested repeats (read and written by hand: ``split_repeats`` keeps one value per id)."""

    segment_id: ClassVar[str] = "05"
    other_payers: tuple[OtherPayer, ...] = Field(default=(), max_length=MAX_OTHER_PAYERS)

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        payers: list[dict[str, Any]] = []
        for field_id, raw in segment.fields:
            value = raw.strip()
            if field_id == "5C":
                payers.append({"coverage_type": value, "amounts_paid": [], "reject_codes": []})
            elif not payers or not value:
                continue
            elif field_id in _SCALARS:
                attr, fmt = _SCALARS[field_id]
                payers[-1][attr] = decode(fmt, value, field_id)
            elif field_id == "HC":
                payers[-1]["amounts_paid"].append({"qualifier": value})
            elif field_id == "DV":
                amounts = payers[-1]["amounts_paid"]
                if not amounts or "amount" in amounts[-1]:
                    amounts.append({})
                amounts[-1]["amount"] = decode(WireFormat.MONEY, value, field_id)
            elif field_id == "6E":
                payers[-1]["reject_codes"].append(value)
        return {"other_payers": tuple(payers)}

    def _repeating_fields(self) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = [("4C", str(len(self.other_payers)))]
        for payer in self.other_payers:
            fields.append(("5C", payer.coverage_type))
            fields += [
                (fid, encode(fmt, v))
                for fid, (attr, fmt) in _SCALARS.items()
                if (v := getattr(payer, attr)) is not None
            ]
            if payer.amounts_paid:
                fields.append(("HB", str(len(payer.amounts_paid))))
                for paid in payer.amounts_paid:
                    fields += [("HC", paid.qualifier), ("DV", encode(WireFormat.MONEY, paid.amount))]
            if payer.reject_codes:
                fields.append(("5E", str(len(payer.reject_codes))))
                fields += [("6E", code) for code in payer.reject_codes]
        return fields
