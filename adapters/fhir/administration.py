"""Where and how an order is given, for outbound feeds: one dose, its repeat code, and the inpatient's bed.

The first dosageInstruction's first doseQuantity is the dose (RXE-3/5); its timing code (v3
GTSAbbreviation, the same codes as HL7 table 0335) or repeat frequency/period is the repeat pattern; the
encounter's first location, walked up ``partOf`` by physicalType (bd bed, ro room, wa ward, bu/si site),
is PV1-3.
"""

from __future__ import annotations

from adapters.fhir.elements import JsonObject, codings, number, obj, objs, text
from adapters.fhir.references import BundleContext, Scope, Target, resolve
from hub.domain.order_context import Dosage, PatientLocation
from hub.domain.repeat_pattern import TimeUnit, repeat_code

_UNITS = {
    "s": TimeUnit.SECOND,
    "min": TimeUnit.MINUTE,
    "h": TimeUnit.HOUR,
    "d": TimeUnit.DAY,
    "wk": TimeUnit.WEEK,
    "mo": TimeUnit.MONTH,
}
_GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
#: Location.physicalType code -> PatientLocation field
_PLACES = {"bd": "bed", "ro": "room", "wa": "point_of_care", "bu": "facility", "si": "facility"}
#: how far up ``partOf`` a bed is followed (bed, room, ward, building)
_DEPTH = 4


def dosage_of(request: JsonObject) -> Dosage | None:
    """The first dosageInstruction as one dose and repeat code; None when it says neither."""
    dosage = next(iter(objs(request, "dosageInstruction")), None)
    if dosage is None:
        return None
    dose = next((q for q in (obj(d, "doseQuantity") for d in objs(dosage, "doseAndRate")) if q), None)
    amount = number(dose, "value")
    unit = text(dose, "unit") or text(dose, "code")
    frequency = _frequency(dosage)
    if amount is None and unit is None and frequency is None:
        return None
    return Dosage(amount=amount, unit=unit, frequency=frequency)


def _frequency(dosage: JsonObject) -> str | None:
    timing = obj(dosage, "timing")
    coded = next((c.code for c in codings(obj(timing, "code")) if c.system in (None, _GTS)), None)
    if coded:
        return coded
    repeat = obj(timing, "repeat")
    if repeat is not None and (number(repeat, "frequency") is not None or number(repeat, "period") is not None):
        unit = _UNITS.get(text(repeat, "periodUnit") or "")
        return repeat_code(number(repeat, "frequency"), number(repeat, "period"), unit)
    return "PRN" if dosage.get("asNeededBoolean") is True else None


def location_of(encounter: Target | None, context: BundleContext | None) -> PatientLocation | None:
    """The encounter's first location as ward/room/bed/site; only its display when it cannot be read."""
    first = next(iter(objs(encounter.resource, "location")), None) if encounter else None
    reference = obj(first, "location")
    if encounter is None or reference is None:
        return None
    places: dict[str, str] = {}
    target = _follow(reference, encounter.scope, context)
    for _ in range(_DEPTH):
        if target is None:
            break
        name = text(target.resource, "name")
        kind = next((c.code for c in codings(obj(target.resource, "physicalType")) if c.code in _PLACES), None)
        field = _PLACES[kind] if kind else "point_of_care"
        if name and field not in places:
            places[field] = name
        target = _follow(obj(target.resource, "partOf"), target.scope, context)
    if not places and text(reference, "display"):
        places["point_of_care"] = text(reference, "display") or ""
    return PatientLocation(**places) if places else None


def _follow(reference: JsonObject | None, scope: Scope, context: BundleContext | None) -> Target | None:
    """A Location the order carries; a reference it cannot follow is simply not a place we know."""
    if reference is None:
        return None
    target = resolve(reference, scope=scope, context=context, where="", problems=[]).target
    return target if target is not None and target.resource.get("resourceType") == "Location" else None
