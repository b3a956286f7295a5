"""Directions for use (the sig) from R4 Dosage elements: the prescriber's text, else rendered structure.

Dosage.text is what the prescriber wrote and is used as sent. Without it the structured Timing and
doseAndRate are rendered in plain English for the technician to check at intake. Dosages with the
same ``sequence`` apply together ("and"); a higher sequence follows ("then") (R4 Dosage.sequence).
"""

from __future__ import annotations

from decimal import Decimal

from adapters.fhir.elements import JsonObject, concept_text, number, obj, objs, plain, quantity_text, text

_UNITS = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week", "mo": "month", "a": "year"}
_TIMES = {1: "once", 2: "twice"}


def _per(amount: Decimal | None, unit: str | None) -> str:
    name = _UNITS.get(unit or "", unit or "")
    if amount is None or amount == 1:
        return f"a {name}" if name else ""
    return f"every {plain(amount)} {name}s"


def _frequency(repeat: JsonObject) -> str | None:
    frequency = number(repeat, "frequency")
    period = number(repeat, "period")
    if frequency is None and period is None:
        return None
    count = int(frequency) if frequency is not None and frequency == frequency.to_integral() else None
    times = _TIMES.get(count or 0, f"{plain(frequency)} times" if frequency is not None else "")
    if count == 1 and period is not None and period != 1:
        return _per(period, text(repeat, "periodUnit"))
    return " ".join(part for part in (times, _per(period, text(repeat, "periodUnit"))) if part) or None


def _bounds(repeat: JsonObject) -> str | None:
    duration = obj(repeat, "boundsDuration")
    value = number(duration, "value")
    if value is None:
        return None
    unit = _UNITS.get(text(duration, "code") or "", text(duration, "unit") or "day")
    return f"for {plain(value)} {unit}{'' if value == 1 or unit.endswith('s') else 's'}"


def _rendered(dosage: JsonObject) -> str | None:
    timing = obj(dosage, "timing")
    repeat = obj(timing, "repeat") or {}
    dose = next((q for q in (quantity_text(obj(d, "doseQuantity")) for d in objs(dosage, "doseAndRate")) if q), None)
    parts = [
        dose,
        concept_text(obj(dosage, "route")),
        _frequency(repeat) or concept_text(obj(timing, "code")),
        _bounds(repeat),
        "as needed" if dosage.get("asNeededBoolean") is True else None,
        text(dosage, "patientInstruction"),
    ]
    rendered = " ".join(p for p in parts if p)
    return rendered or None


def dosage_text(dosage: JsonObject) -> str | None:
    """One Dosage as sig text: its own text, else the rendered structure."""
    return text(dosage, "text") or _rendered(dosage)


def sig(dosages: tuple[JsonObject, ...]) -> str | None:
    """All of a MedicationRequest's dosageInstruction as one sig, or None when there is nothing to say."""
    pieces: list[tuple[Decimal | None, str]] = [
        (number(d, "sequence"), t) for d in dosages if (t := dosage_text(d)) is not None
    ]
    if not pieces:
        return None
    result, previous = pieces[0][1], pieces[0][0]
    for sequence, piece in pieces[1:]:
        joiner = " and " if sequence == previous else ", then "
        result, previous = result + joiner + piece, sequence
    return result
