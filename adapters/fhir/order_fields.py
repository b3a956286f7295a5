"""Plain MedicationRequest fields an order needs: quantity, days supply, refills, substitution, dates."""

from __future__ import annotations

import math
from datetime import date

from adapters.fhir.elements import JsonObject, codings, number, obj, objs, text
from hub.domain.order_parts import QuantityInfo

_DAYS = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}


def quantity(request: JsonObject) -> QuantityInfo | None:
    """dispenseRequest.quantity (value and unit, else UCUM code)."""
    quantity = obj(obj(request, "dispenseRequest"), "quantity")
    value = number(quantity, "value")
    if value is None:
        return None
    return QuantityInfo(value=value, unit=text(quantity, "unit") or text(quantity, "code"))


def days_supply(request: JsonObject) -> int | None:
    """dispenseRequest.expectedSupplyDuration in whole days (d or wk), else None."""
    duration = obj(obj(request, "dispenseRequest"), "expectedSupplyDuration")
    value = number(duration, "value")
    per_unit = _DAYS.get(text(duration, "code") or text(duration, "unit") or "")
    if value is None or per_unit is None or value < 0:
        return None
    # NCPDP days supply is whole days; rounding up never makes a refill look early (reject 79)
    return math.ceil(value * per_unit)


def refills(request: JsonObject) -> int:
    """dispenseRequest.numberOfRepeatsAllowed, 0 when absent."""
    repeats = number(obj(request, "dispenseRequest"), "numberOfRepeatsAllowed")
    # R4: repeats are dispenses *in addition to* the original, i.e. refills
    return int(repeats) if repeats is not None and repeats >= 0 else 0


def substitution_allowed(request: JsonObject) -> bool:
    """substitution.allowed[x]; allowed unless the prescriber said no."""
    substitution = obj(request, "substitution")
    allowed = substitution.get("allowedBoolean") if substitution else None
    if isinstance(allowed, bool):
        return allowed
    concept = obj(substitution, "allowedCodeableConcept")
    # v3 ActSubstanceAdminSubstitutionCode: "N" = none allowed
    return concept is None or not any(c.code == "N" for c in codings(concept))


def written_date(request: JsonObject) -> date | None:
    """authoredOn's date (the date written)."""
    raw = text(request, "authoredOn")
    try:
        return date.fromisoformat(raw[:10]) if raw is not None and len(raw) >= 10 else None
    except ValueError:
        return None


def note(request: JsonObject) -> str | None:
    """The request's notes (Annotation.text), one per line."""
    return "\n".join(t for t in (text(n, "text") for n in objs(request, "note")) if t) or None
