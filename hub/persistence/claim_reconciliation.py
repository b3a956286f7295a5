"""The claim reconciliation (``rxhub claims reconcile``): per fill, what the payer's answers say it holds against
what the hub's claim says, and every answer that contradicts the one the ledger recorded.

The payer's side is replayed from the answers in the order they arrived (the first answer of each
transmission, then late ones from the wire log): a paid B1/B3 leaves the fill paid, an approved B2 leaves it
unpaid. The hub's side is the fill's claim status in the prescription.

A partial fill (343-HD P) and its completion (C) share a fill number but are two claims to the payer: a B2 of
the completion leaves the partial paid. Their transmissions are told apart by attempt (a completion's claims
follow the last attempt of the part it completes), and each is compared with its own fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from hub.domain.fill import Fill
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.tables import claim_transmissions, claim_wire_log

PAID = frozenset("PD")
#: B2 answers after which the payer pays nothing for the fill
REVERSED = frozenset("AS")
#: statuses the hub records that are not payer answers
NOT_ANSWERS = frozenset({"timeout", "undelivered"})


@dataclass(frozen=True)
class Disagreement:
    """One fill where the hub and the payer's answers do not agree, in words."""

    prescription_id: str
    fill_number: int
    problem: str


@dataclass(frozen=True)
class _Answer:
    at: datetime
    exchange_id: str
    transaction: str
    status: str
    late: bool
    attempt: int


@dataclass(frozen=True)
class _Part:
    """One claim of a fill number as the payer keys it: the whole fill, a partial fill, or its completion."""

    label: str
    #: the last claim attempt this part billed; None for the last part, which takes every later attempt
    last_attempt: int | None
    hub_status: str


def reconcile(engine: Engine, *, since_hours: float = 24.0) -> list[Disagreement]:
    """Every disagreement for fills with claim traffic in the last ``since_hours``."""
    cutoff = datetime.now(UTC) - timedelta(hours=since_hours)
    c = claim_transmissions.c
    with read_connection(engine) as conn:
        fills = conn.execute(select(c.prescription_id, c.fill_number).where(c.sent_at >= cutoff).distinct()).all()
        found: list[Disagreement] = []
        for prescription_id, fill_number in sorted(fills):
            found += _fill(conn, prescription_id, fill_number)
    return found


def _fill(conn: Any, prescription_id: str, fill_number: int) -> list[Disagreement]:
    answers, recorded = _answers(conn, prescription_id, fill_number)
    problems = [_contradiction(a, recorded) for a in answers if a.late]
    first = 0
    for part in _parts(conn, prescription_id, fill_number):
        last = part.last_attempt
        mine = [a for a in answers if a.attempt > first and (last is None or a.attempt <= last)]
        problems += [part.label + p for p in _compare(mine, part.hub_status)]
        first = last if last is not None else first
    return [Disagreement(prescription_id, fill_number, p) for p in problems if p]


def _compare(answers: list[_Answer], hub_status: str) -> list[str]:
    """What the payer holds after ``answers`` (in arrival order) against the hub's claim status."""
    payer_paid: str | None = None
    for answer in answers:
        if answer.transaction != "B2" and answer.status in PAID:
            payer_paid = answer.exchange_id
        elif answer.transaction == "B2" and answer.status in REVERSED:
            payer_paid = None
    if hub_status == "paid" and payer_paid is None:
        return ["the hub counts the fill as paid; the payer's last answer left it unpaid"]
    if payer_paid is not None and hub_status not in ("paid", "reversal_required"):
        return [f"the payer paid {payer_paid} and never reversed it; the hub's claim is {hub_status}"]
    return []


def _contradiction(late: _Answer, recorded: dict[str, str | None]) -> str:
    first = recorded.get(late.exchange_id)
    if first == late.status:
        return ""
    return f"{late.exchange_id}: the ledger recorded {first or 'no answer'}, the payer later answered {late.status}"


def _answers(conn: Any, prescription_id: str, fill_number: int) -> tuple[list[_Answer], dict[str, str | None]]:
    """The payer's answers in arrival order, and the status the ledger recorded per transmission."""
    c, w = claim_transmissions.c, claim_wire_log.c
    sent = conn.execute(
        select(c.exchange_id, c.transaction, c.status, c.answered_at, c.attempt).where(
            c.prescription_id == prescription_id, c.fill_number == fill_number, c.answered_at.is_not(None)
        )
    ).all()
    kinds = {r.exchange_id: r.transaction for r in sent}
    answers = [
        _Answer(_utc(r.answered_at), r.exchange_id, r.transaction, r.status, False, r.attempt)
        for r in sent
        if r.status not in NOT_ANSWERS
    ]
    late = conn.execute(
        select(w.exchange_id, w.status, w.at).where(
            w.prescription_id == prescription_id, w.fill_number == fill_number, w.event == "late-answer"
        )
    ).all()
    answers += [
        _Answer(
            _utc(r.at),
            r.exchange_id,
            kinds.get(r.exchange_id, r.exchange_id.rsplit(":", 1)[-1]),
            r.status,
            True,
            _attempt_of(r.exchange_id),
        )
        for r in late
        if r.status not in NOT_ANSWERS
    ]
    return sorted(answers, key=lambda a: a.at), {r.exchange_id: r.status for r in sent}


def _attempt_of(exchange_id: str) -> int:
    """The attempt in ``<prescription id>:<fill number>:<attempt>:<transaction>``."""
    return int(exchange_id.rsplit(":", 2)[1])


def _parts(conn: Any, prescription_id: str, fill_number: int) -> list[_Part]:
    """The hub's claims of this fill number in billing order: one, or a partial fill and its completion."""
    row = PrescriptionRepository(conn).get(prescription_id)
    if row is None:
        return [_Part("", None, "unknown (no such prescription)")]
    fills = [f for f in load_aggregate(row).fills if f.fill_number == fill_number]
    if not fills:
        return [_Part("", None, "none")]
    labelled = len(fills) > 1
    return [
        _Part(
            f"{_label(fill)}: " if labelled else "",
            None if i == len(fills) - 1 else _last_attempt(fill),
            fill.claim.status.value if fill.claim is not None else "none",
        )
        for i, fill in enumerate(fills)
    ]


def _label(fill: Fill) -> str:
    status = fill.dispensing_status.value if fill.dispensing_status else "whole"
    return f"343-HD {status}"


def _last_attempt(fill: Fill) -> int:
    """The last attempt a fill billed (its later parts' claims have higher attempts)."""
    return max((c.attempt for c in (*fill.earlier_claims, fill.claim) if c is not None), default=0)


def _utc(moment: datetime) -> datetime:
    """SQLite hands naive datetimes back: they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
