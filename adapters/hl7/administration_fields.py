"""Where and how the order is given: the inpatient's bed (PV1-3) and one dose with its frequency.

RXE-3/5 give amount and units (RXO-2/4 when no RXE); the repeat pattern comes from TQ1-3 (v2.5 on), else
the TQ interval of RXE-1 or ORC-7 (before v2.5): ``^QD`` -> QD.
"""

from __future__ import annotations

from adapters.hl7.field_values import read_decimal
from adapters.hl7.message_model import ParsedHl7
from adapters.hl7.order_groups import OrderGroup
from hub.domain.order_context import Dosage, PatientLocation
from hub.errors import Problem

#: (amount field, units field) of one dose
_DOSE_FIELDS = {"RXE": (3, 5), "RXO": (2, 4)}


def read_location(msg: ParsedHl7) -> PatientLocation | None:
    """PV1-3 assigned patient location ``point of care^room^bed^facility``; None when not sent."""
    parts = [msg.get("PV1", 3, n) or None for n in (1, 2, 3, 4)]
    if not any(parts):
        return None
    point_of_care, room, bed, facility = parts
    return PatientLocation(point_of_care=point_of_care, room=room, bed=bed, facility=facility)


def read_dosage(group: OrderGroup, problems: list[Problem]) -> Dosage | None:
    """One administration as ordered; None when the order says nothing of amount, unit or frequency."""
    amount = unit = None
    for seg_id, (amount_field, unit_field) in _DOSE_FIELDS.items():
        seg = group.first(seg_id)
        if seg is not None and (seg.get(amount_field) or seg.get(unit_field)):
            amount = read_decimal(seg.get(amount_field), seg.location(amount_field), problems)
            unit = seg.get(unit_field, 1) or seg.get(unit_field, 2) or None
            break
    frequency = _frequency(group)
    if amount is None and unit is None and frequency is None:
        return None
    return Dosage(amount=amount, unit=unit, frequency=frequency)


def _frequency(group: OrderGroup) -> str | None:
    tq1 = group.first("TQ1")
    if tq1 is not None and tq1.get(3):
        return tq1.get(3)
    for seg in (group.first("RXE"), group.orc):
        field = 1 if seg is not None and seg.segment_id == "RXE" else 7
        if seg is not None and seg.get(field, 2):
            return seg.get(field, 2)
    return None
