"""One dose, its repeat code and the route from a structured Sig, for outbound feeds (RXE-3/5, TQ1-3, RXR-1).

Read from the first Sig/Instruction: DoseAdministration/Dosage (``Dose`` in some senders) with
DoseQuantity and DoseUnitOfMeasure, RouteOfAdministration (under DoseAdministration, or Instruction in
some senders), and TimingAndDuration's Frequency (n per unit) or Interval (every n units). A Sig with
only SigText gives none of these: the order still carries its directions as text.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.ncpdp.script.cursor import Cursor
from adapters.ncpdp.script.values import decimal_of
from hub.domain.order_context import Dosage
from hub.domain.repeat_pattern import TimeUnit, repeat_code

#: FrequencyUnits / IntervalUnits by text (singular or plural) or SNOMED CT code
_UNITS = {
    "second": TimeUnit.SECOND,
    "minute": TimeUnit.MINUTE,
    "hour": TimeUnit.HOUR,
    "day": TimeUnit.DAY,
    "week": TimeUnit.WEEK,
    "month": TimeUnit.MONTH,
    "257997001": TimeUnit.SECOND,
    "258701004": TimeUnit.MINUTE,
    "258702006": TimeUnit.HOUR,
    "258703001": TimeUnit.DAY,
    "258705008": TimeUnit.WEEK,
    "258706009": TimeUnit.MONTH,
}


def _instruction(medication: Cursor) -> Cursor:
    return medication.at("Sig", "Instruction")


def read_dosage(medication: Cursor) -> Dosage | None:
    """The Sig's dose and repeat code; None when the Sig has no structure for them."""
    dose = _instruction(medication).at("DoseAdministration", "Dosage|Dose")
    amount = _decimal(dose.at("DoseQuantity"))
    unit = dose.at("DoseUnitOfMeasure", "Text").text() or dose.at("DoseUnitOfMeasure", "Code").text()
    frequency = _frequency(_instruction(medication).at("TimingAndDuration"))
    if amount is None and unit is None and frequency is None:
        return None
    return Dosage(amount=amount, unit=unit, frequency=frequency)


def read_route(medication: Cursor) -> str | None:
    """RouteOfAdministration's text, else its code."""
    instruction = _instruction(medication)
    for route in (
        instruction.at("DoseAdministration", "RouteOfAdministration"),
        instruction.at("RouteOfAdministration"),
    ):
        if route.present:
            return route.at("Text").text() or route.at("Code").text()
    return None


def _frequency(timing: Cursor) -> str | None:
    frequency, interval = timing.at("Frequency"), timing.at("Interval")
    if frequency.present:
        times = _decimal(frequency.at("FrequencyNumericValue"))
        return repeat_code(times, None, _unit(frequency.at("FrequencyUnits")))
    if interval.present:
        every = _decimal(interval.at("IntervalNumericValue"))
        return repeat_code(None, every, _unit(interval.at("IntervalUnits")))
    return None


def _unit(units: Cursor) -> TimeUnit | None:
    for said in (units.at("Code").text(), units.at("Text").text()):
        if said and (unit := _UNITS.get(said.casefold().removesuffix("s"))):
            return unit
    return None


def _decimal(value: Cursor) -> Decimal | None:
    """An optional number: absent is nothing said, present but not a number is a problem (900)."""
    return decimal_of(value) if value.present else None
