"""The patient's insurance as the order carries it: every IN1 repetition, in billing order, as CoverageInfo.

Order: IN1-22 coordination of benefits priority (1 primary, 2 secondary...), then IN1-1 set id, then the order
of the segments. A v2 IN1 rarely identifies a pharmacy payer: only an IN1 naming a BIN (an IN1-3 insurance
company id repetition whose identifier type, CX-5, or assigning authority, CX-4, is ``BIN``) becomes a coverage
the hub can bill; its PCN is the repetition typed ``PCN``. The rest comes from the pharmacy's own profile.

Fields: IN1-8 group number, IN1-49 insured's id number (else IN1-36 policy number) as the cardholder id,
IN1-17 insured's relationship to patient (table 0063) as NCPDP 306-C6, IN1-4 company name or IN1-2 plan text
as the plan name.
"""

from __future__ import annotations

from adapters.hl7.message_model import Hl7Segment, ParsedHl7
from hub.domain.order_parts import CoverageInfo

#: HL7 table 0063 relationship -> NCPDP 306-C6 (1 cardholder, 2 spouse, 3 child, 4 other)
_RELATIONSHIP = {"SEL": "1", "SPO": "2", "CHD": "3"}
_LAST = 10_000


def read_coverages(msg: ParsedHl7) -> tuple[CoverageInfo, ...]:
    """The billable coverages of the message's IN1 segments, primary first."""
    ranked = sorted(
        (_rank(in1, index), coverage)
        for index, in1 in enumerate(msg.all("IN1"))
        if (coverage := _coverage(in1)) is not None
    )
    return tuple(coverage for _, coverage in ranked)


def _rank(in1: Hl7Segment, index: int) -> tuple[int, int, int]:
    return _number(in1.get(22)), _number(in1.get(1)), index


def _number(text: str) -> int:
    return int(text) if text.strip().isdigit() else _LAST


def _coverage(in1: Hl7Segment) -> CoverageInfo | None:
    bin_ = _company_id(in1, "BIN")
    if bin_ is None:
        return None
    relationship = in1.get(17).upper()
    return CoverageInfo(
        bin=bin_,
        pcn=_company_id(in1, "PCN"),
        group_id=in1.get(8) or None,
        cardholder_id=in1.get(49) or in1.get(36) or None,
        relationship=_RELATIONSHIP.get(relationship, "4") if relationship else None,
        plan_name=in1.get(4) or in1.get(2, 2) or None,
    )


def _company_id(in1: Hl7Segment, kind: str) -> str | None:
    for rep in range(1, len(in1.repetitions(3)) + 1):
        if kind in (in1.get(3, 5, rep).upper(), in1.get(3, 4, rep).upper()) and in1.get(3, 1, rep):
            return in1.get(3, 1, rep)
    return None
