"""What is ordered and how: the drug, quantity, refills, directions and substitution of one ORDER group.

RXE (the encoded order) wins over RXO (the order as requested) field by field, because RXE is what the
sender's pharmacy system coded for dispensing (standards.md 1.1).
"""

from __future__ import annotations

from adapters.hl7.field_values import read_count, read_decimal
from adapters.hl7.message_model import Hl7Segment
from adapters.hl7.order_groups import OrderGroup
from hub.domain.order_parts import Coding, DrugInfo, QuantityInfo
from hub.errors import Problem

_NDC_SYSTEMS = frozenset({"NDC", "N4", "NDC11", "NDC10"})
_RXNORM_SYSTEMS = frozenset({"RXNORM", "RXN"})
#: table 0477 controlled substance schedule -> DrugInfo.schedule ("2".."5" = CII..CV)
_SCHEDULES = {
    "I": "1",
    "II": "2",
    "III": "3",
    "IV": "4",
    "V": "5",
    "1": "1",
    "2": "2",
    "3": "3",
    "4": "4",
    "5": "5",
}
#: RXE-9 (table 0167) codes that forbid substitution: 1 prescriber, 7 brand mandated by law; "N" is read as
#: "no substitution" too, because senders use it so although 0167 defines it as "none was dispensed"
_RXE_NO_SUBSTITUTION = frozenset({"1", "7", "N"})
#: the same item sits in different fields of RXE and RXO (units follow the amount: qty + 1, strength + 1)
_FIELDS = {
    "RXE": {"code": 2, "form": 6, "qty": 10, "refills": 12, "strength": 25},
    "RXO": {"code": 1, "form": 5, "qty": 11, "refills": 13, "strength": 18},
}


def order_detail(group: OrderGroup) -> Hl7Segment | None:
    """The segment the order's content is read from: RXE when present, else RXO."""
    return group.first("RXE") or group.first("RXO")


def ordered_drug_key(group: OrderGroup) -> str:
    """The drug as the sender names it, for telling items apart: RXE-2 / RXO-1 code, else its text."""
    detail = order_detail(group)
    if detail is None:
        return ""
    field = _FIELDS[detail.segment_id]["code"]
    return detail.get(field, 1) or detail.get(field, 2)


def read_drug(group: OrderGroup, detail: Hl7Segment, problems: list[Problem]) -> DrugInfo:
    """RXE-2 / RXO-1 CE ``code^text^system`` (and its alternate triplet); empty is a 101 error."""
    fields = _FIELDS[detail.segment_id]
    code_field = fields["code"]
    ndc, rxnorm, others = _codes(detail, code_field)
    text = detail.get(code_field, 2) or detail.get(code_field, 5) or detail.get(code_field, 9) or None
    if not (ndc or rxnorm or others or text):
        name = f"{detail.segment_id}-{code_field}"
        problems.append(Problem("101", f"{name} (the drug) is empty", detail.location(code_field)))
    route_seg = group.first("RXR", after=detail) or group.first("RXR")
    return DrugInfo(
        ndc=ndc,
        rxnorm=rxnorm,
        text=text,
        other_codes=others,
        schedule=_SCHEDULES.get(detail.get(35).upper()) if detail.segment_id == "RXE" else None,
        route=route_seg.get(1) or None if route_seg else None,
        strength=_strength(detail, fields["strength"]),
        form=detail.get(fields["form"], 2) or detail.get(fields["form"], 1) or None,
    )


def _codes(seg: Hl7Segment, field: int) -> tuple[str | None, str | None, tuple[Coding, ...]]:
    ndc: str | None = None
    rxnorm: str | None = None
    others: list[Coding] = []
    for first in (1, 4):  # CE/CWE carry an identifier triplet and an alternate triplet
        code, text, system = (seg.get(field, first + i) for i in range(3))
        if not code:
            continue
        if system.upper() in _NDC_SYSTEMS and ndc is None:
            ndc = code
        elif system.upper() in _RXNORM_SYSTEMS and rxnorm is None:
            rxnorm = code
        else:
            others.append(Coding(code=code, system=system or None, display=text or None))
    return ndc, rxnorm, tuple(others)


def _strength(seg: Hl7Segment, field: int) -> str | None:
    amount = seg.get(field)
    return " ".join(v for v in (amount, seg.get(field + 1)) if v) if amount else None


def _sent(group: OrderGroup, key: str) -> tuple[Hl7Segment, int] | None:
    """The first of RXE, RXO that carries the value ``key`` names, with its field number."""
    for seg_id in ("RXE", "RXO"):
        seg = group.first(seg_id)
        if seg is not None and seg.get(_FIELDS[seg_id][key]):
            return seg, _FIELDS[seg_id][key]
    return None


def read_quantity(group: OrderGroup, problems: list[Problem]) -> QuantityInfo | None:
    """RXE-10/11, else RXO-11/12: the amount to dispense and its unit."""
    found = _sent(group, "qty")
    if found is None:
        return None
    seg, field = found
    value = read_decimal(seg.get(field), seg.location(field), problems)
    if value is None:
        return None
    return QuantityInfo(value=value, unit=seg.get(field + 1, 1) or seg.get(field + 1, 2) or None)


def read_refills(group: OrderGroup, problems: list[Problem]) -> int:
    """RXE-12, else RXO-13: number of refills; not sent means none."""
    found = _sent(group, "refills")
    if found is None:
        return 0
    seg, field = found
    return read_count(seg.get(field), seg.location(field), problems) or 0


def read_sig(group: OrderGroup) -> str | None:
    """Patient directions: RXE-7, else RXO-7 (CE, every repetition), else TQ1-11 text instruction, else the
    TQ1-3 repeat pattern's text (JAHIS sends its usage code and text only there: ``code&text&JAMISDP01``).

    NTE comments are not directions; they travel as the command's ``note`` (see :func:`read_note`).
    """
    for seg_id in ("RXE", "RXO"):
        seg = group.first(seg_id)
        text = _ce_texts(seg, 7) if seg else ""
        if text:
            return text
    tq1 = group.first("TQ1")
    return (tq1.get(11) or tq1.get(3, 1, 1, 2) or None) if tq1 else None


def _ce_texts(seg: Hl7Segment, field: int) -> str:
    reps = range(1, len(seg.repetitions(field)) + 1)
    return " ".join(t for r in reps if (t := seg.get(field, 2, r) or seg.get(field, 1, r)))


def read_note(group: OrderGroup) -> str | None:
    """Every NTE-3 comment of the order, one per line."""
    notes = [n for nte in group.all("NTE") if (n := nte.get(3))]
    return "\n".join(notes) or None


def read_substitution_allowed(group: OrderGroup) -> bool:
    """RXE-9 (table 0167: 1, 7 and N forbid) when sent, else RXO-9 (table 0161: N forbids); default yes."""
    rxe, rxo = group.first("RXE"), group.first("RXO")
    if rxe is not None and rxe.get(9):
        return rxe.get(9).upper() not in _RXE_NO_SUBSTITUTION
    if rxo is not None and rxo.get(9):
        return rxo.get(9).upper() != "N"
    return True
