"""RXC components of a non-IV compound (a cream, a mouthwash) -> the order's compound.

Only an order whose route (RXR-1, table 0162) is one of the non-parenteral routes below, with no IV order type
(RXE-44 S/O) and no give rate (RXE-23), is read as a compound; every other order with RXC stays an IV admixture
refused with AE 200 (``order_scope``). Each RXC is one ingredient: RXC-2 its code (an NDC: ``code^text^NDC``),
RXC-3 the amount of it in the whole compound, RXC-4 that amount's unit. The final form is RXE-6 (else RXO-5),
the dispensing unit RXE-11 (else RXO-12). What cannot be billed whole is an AE at the field: 101 when the NDC
or amount is missing, 103 when a form or unit is not one the hub knows. An ingredient is never dropped.
"""

from __future__ import annotations

from pydantic import ValidationError

from adapters.hl7.field_values import read_decimal
from adapters.hl7.message_model import Hl7Segment
from adapters.hl7.order_groups import OrderGroup
from hub.domain.compound import MAX_INGREDIENTS, Compound, CompoundDosageForm, CompoundIngredient, DispensingUnit
from hub.errors import Problem

#: table 0162 routes a retail compound is given by: oral, topical, mouth/throat, sublingual, buccal, rectal,
#: vaginal, nasal, ophthalmic, otic, transdermal, dental
NON_PARENTERAL_ROUTES = frozenset({"PO", "TOP", "MTH", "SL", "BUC", "PR", "VG", "NS", "OP", "OT", "TD", "DT"})
_IV_ORDER_TYPES = frozenset({"S", "O"})
_NDC_SYSTEMS = frozenset({"NDC", "N4", "NDC11", "NDC10"})
_UNITS = {
    "G": DispensingUnit.GRAMS,
    "GM": DispensingUnit.GRAMS,
    "ML": DispensingUnit.MILLILITERS,
    "EA": DispensingUnit.EACH,
    "TAB": DispensingUnit.EACH,
    "CAP": DispensingUnit.EACH,
}
#: per detail segment: (give dosage form, dispense units); and the give code, whose text names the compound
_FIELDS = {"RXE": (6, 11), "RXO": (5, 12)}
_CODE_FIELD = {"RXE": 2, "RXO": 1}


def is_non_iv_compound(group: OrderGroup) -> bool:
    """RXC components on an order given by a non-parenteral route, without an IV order type or a rate."""
    rxe, route = group.first("RXE"), group.first("RXR")
    if group.first("RXC") is None or route is None or route.get(1).upper() not in NON_PARENTERAL_ROUTES:
        return False
    return rxe is None or (rxe.get(44).upper() not in _IV_ORDER_TYPES and not rxe.get(23))


def read_compound(group: OrderGroup, detail: Hl7Segment, problems: list[Problem]) -> Compound | None:
    """The compound of a non-IV compound order (None for any other order); problems are added to ``problems``."""
    if not is_non_iv_compound(group):
        return None
    found: list[Problem] = []
    form_field, unit_field = _FIELDS[detail.segment_id]
    form = _form(detail, form_field, found)
    unit = _UNITS.get((detail.get(unit_field, 1) or detail.get(unit_field, 2)).upper())
    if unit is None:
        text = f"a compound is dispensed in g, mL or units (EA, TAB, CAP), not {detail.get(unit_field)!r}"
        found.append(Problem("103", text, detail.location(unit_field)))
    components = group.all("RXC")
    if not 2 <= len(components) <= MAX_INGREDIENTS:
        text = f"a compound has 2 to {MAX_INGREDIENTS} RXC components, not {len(components)}"
        found.append(Problem("103", text, components[0].location()))
    ingredients = [_ingredient(rxc, found) for rxc in components]
    problems.extend(found)
    if found or form is None or unit is None:
        return None
    return Compound(
        ingredients=tuple(i for i in ingredients if i is not None),
        dosage_form=form,
        dispensing_unit=unit,
        description=detail.get(_CODE_FIELD[detail.segment_id], 2) or None,
    )


def _form(detail: Hl7Segment, field: int, found: list[Problem]) -> CompoundDosageForm | None:
    words = f"{detail.get(field, 1)} {detail.get(field, 2)}".casefold().split()
    form = next((f for f in CompoundDosageForm if f.value in words), None)
    if form is None:
        known = ", ".join(f.value for f in CompoundDosageForm)
        text = f"{detail.segment_id}-{field} must name the compound's form ({known})"
        found.append(Problem("103", text, detail.location(field)))
    return form


def _ingredient(rxc: Hl7Segment, found: list[Problem]) -> CompoundIngredient | None:
    code, name, system = rxc.get(2, 1), rxc.get(2, 2), rxc.get(2, 3).upper()
    if not code or system not in _NDC_SYSTEMS:
        found.append(Problem("101", f"RXC-2 {name or code or ''} needs an NDC (code^text^NDC)", rxc.location(2)))
        return None
    amount = read_decimal(rxc.get(3), rxc.location(3), found)
    if amount is None or amount <= 0:
        if amount is not None or not rxc.get(3):
            found.append(Problem("101", f"RXC-3 the amount of {name or code} is required", rxc.location(3)))
        return None
    try:
        return CompoundIngredient(product_id=code, quantity=amount, unit=rxc.get(4, 1) or None, name=name or None)
    except ValidationError as exc:
        found.append(Problem("103", f"RXC-2 {name or code}: {exc.errors()[0]['msg']}", rxc.location(2)))
        return None
