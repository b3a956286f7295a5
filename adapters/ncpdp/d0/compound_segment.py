"""AM10 Compound: the ingredients a compound claim (406-D6 = 2) is billed with.

Layout (standards.md §4.2; field ids as NCPDP D.0 names them): 450-EF compound dosage form description code,
451-EG compound dispensing unit form indicator, 447-EC ingredient component count, then per ingredient a set
opened by 488-RE product id qualifier with 489-TE product id, 448-ED ingredient quantity, 449-EE ingredient
drug cost and 490-UE basis of cost determination. At most 25 ingredients.

The count is kept as read, apart from the sets: a payer checks the two against each other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from adapters.ncpdp.d0.model import Segment
from adapters.ncpdp.d0.segment_view import SegmentView, WireField, WireFormat, decode, encode
from hub.domain.order_parts import Frozen

MAX_INGREDIENTS = 25

#: per-ingredient fields after the 488-RE that opens a set, with their formats
_INGREDIENT_FIELDS = {
    "TE": ("product_id", WireFormat.TEXT),
    "ED": ("quantity", WireFormat.QUANTITY),
    "EE": ("drug_cost", WireFormat.MONEY),
    "UE": ("basis_of_cost", WireFormat.TEXT),
}


class CompoundIngredientLine(Frozen):
    """One ingredient set of AM10."""

    #: 488-RE: 01 UPC, 02 HRI, 03 NDC
    product_id_qualifier: str | None = None
    product_id: str | None = None
    quantity: Decimal | None = None
    drug_cost: Decimal | None = None
    #: 490-UE, the 423-DN values
    basis_of_cost: str | None = None


class CompoundSegment(SegmentView):
    """AM10 with its repeating ingredient sets (read and written by hand, as AM05)."""

    segment_id: ClassVar[str] = "10"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "dosage_form_code": WireField("EF"),
        "dispensing_unit_code": WireField("EG"),
    }

    #: 450-EF: 01 capsule, 02 ointment, 03 cream ... (``DOSAGE_FORM_CODES`` in the payer link's codec)
    dosage_form_code: str | None = None
    #: 451-EG: 1 each, 2 grams, 3 milliliters
    dispensing_unit_code: str | None = None
    #: 447-EC as sent; None writes the number of ingredient sets
    component_count: int | None = None
    ingredients: tuple[CompoundIngredientLine, ...] = Field(default=(), max_length=MAX_INGREDIENTS)

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        lines: list[dict[str, Any]] = []
        for field_id, raw in segment.fields:
            value = raw.strip()
            if field_id == "RE":
                lines.append({"product_id_qualifier": value or None})
            elif field_id in _INGREDIENT_FIELDS and value:
                attr, fmt = _INGREDIENT_FIELDS[field_id]
                if not lines or attr in lines[-1]:
                    lines.append({})  # a set whose 488-RE is missing: kept, so the payer can say so
                lines[-1][attr] = decode(fmt, value, field_id)
        count = segment.first("EC")
        declared = decode(WireFormat.INTEGER, count, "EC") if count is not None and count.strip() else None
        return {"component_count": declared, "ingredients": tuple(lines)}

    def _repeating_fields(self) -> list[tuple[str, str]]:
        count = len(self.ingredients) if self.component_count is None else self.component_count
        fields: list[tuple[str, str]] = [("EC", str(count))]
        for line in self.ingredients:
            fields.append(("RE", line.product_id_qualifier or ""))
            fields += [
                (fid, encode(fmt, v))
                for fid, (attr, fmt) in _INGREDIENT_FIELDS.items()
                if (v := getattr(line, attr)) is not None
            ]
        return fields
