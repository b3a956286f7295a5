"""The auditor: what senders were positively answered, held against the database and the event stream.

Failing checks (each makes the run exit non-zero):

* lost: an acknowledged order with no prescription row;  duplicated: any placer number with two rows;
* unfinished: an acknowledged order not in a final or waiting state once the hub went quiet;
* an event published twice for one state change: one (subject, type, fill, attempt) under two ids, or an
  order without exactly one ``prescription.received``;
* a claim billed twice without a reversal, in the hub's ledger (``claim_transmissions``) or the payer's
  own record, the hub and the payer disagreeing on any fill, a claim transmitted to a switch twice
  (``claim_audit.py``);
* dead letters, unpublished outbox rows, faults that could not be injected, hub processes that died.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from hub.messaging.dead_letters import DeadLetterQueue
from hub.messaging.topology import Topology
from hub.persistence.tables import outbox, prescriptions
from tests.chaos.claim_audit import claim_checks
from tests.chaos.load import Ledger
from tests.chaos.payer_view import PayerView
from tests.chaos.taps import Copies

#: states an order may rest in once the hub is quiet: final, or waiting for a person
RESTING_STATES = frozenset(
    {
        "dispensed",
        "returned_to_stock",
        "cancelled",
        "rejected",  # final
        "data_verification",
        "product_verification",
        "filling",
        "ready",
        "claim_rejected",
        "needs_product",  # waiting
    }
)


@dataclass
class Report:
    """Every count the run prints, and the problems that fail it."""

    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No loss, no duplicate, nothing stuck."""
        return not self.problems

    def fail(self, what: str, examples: list[str] | None = None, *, limit: int = 5) -> None:
        """Record a failing check with its first ``limit`` examples."""
        shown = f" e.g. {', '.join(examples[:limit])}" if examples else ""
        self.problems.append(what + shown)

    def render(self) -> str:
        """The report as plain text."""
        lines = ["", "=== RxHub chaos report ==="]
        for key, value in self.figures.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "none"
                lines.append(f"{key:34} {inner}")
            else:
                lines.append(f"{key:34} {value}")
        lines.append(
            "RESULT: "
            + (
                "PASS: every acknowledged order reached exactly one final or waiting state, none lost, none duplicated"
                if self.ok
                else "FAIL"
            )
        )
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class Evidence:
    """What the run gathered for the audit."""

    ledger: Ledger
    engine: Engine
    events: Copies
    claims: Copies
    payer: PayerView
    amqp_url: str
    topology: Topology
    faults: Counter[str]
    fault_failures: list[str]
    crashed: list[str]


def audit(evidence: Evidence) -> Report:
    """Run every check and collect the figures."""
    report = Report()
    rows = _prescriptions(evidence.engine)
    _orders(evidence.ledger, rows, report)
    _events(evidence.events, rows, report)
    _claims(evidence.engine, evidence.payer, evidence.claims, rows, report)
    _plumbing(evidence, report)
    return report


def _prescriptions(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    by_placer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    query = select(
        prescriptions.c.id, prescriptions.c.placer_order_number, prescriptions.c.state, prescriptions.c.document
    )
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            by_placer[row["placer_order_number"]].append({**row, "document": json.loads(row["document"])})
    return by_placer


def _orders(ledger: Ledger, rows: dict[str, list[dict[str, Any]]], report: Report) -> None:
    acked = ledger.acked
    lost = sorted(p for p in acked if not rows.get(p))
    duplicated = sorted(p for p in ledger.sent if len(rows.get(p, [])) > 1)
    unfinished = sorted(
        f"{p}:{rows[p][0]['state']}"
        for p in acked
        if len(rows.get(p, [])) == 1 and rows[p][0]["state"] not in RESTING_STATES
    )
    report.figures.update(
        {
            "orders sent": len(ledger.sent),
            "orders acknowledged": dict(Counter(acked.values())),
            "orders never acknowledged": dict(Counter(ledger.gave_up.values())),
            "sender retries": dict(ledger.counts),
            "final states": dict(Counter(r[0]["state"] for p, r in rows.items() if p in acked and r)),
            "LOST": len(lost),
            "DUPLICATED": len(duplicated),
            "not in a final or waiting state": len(unfinished),
        }
    )
    if lost:
        report.fail(f"{len(lost)} acknowledged order(s) lost", lost)
    if duplicated:
        report.fail(f"{len(duplicated)} order(s) stored more than once", duplicated)
    if unfinished:
        report.fail(f"{len(unfinished)} acknowledged order(s) stuck", unfinished)


def _events(events: Copies, rows: dict[str, list[dict[str, Any]]], report: Report) -> None:
    by_change: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    received: Counter[str] = Counter()
    for eid, event in events.bodies.items():
        data = event.get("data") or {}
        by_change[(event["subject"], event["type"], data.get("fill_number"), data.get("attempt"))].add(eid)
        received[event["subject"]] += event["type"] == "prescription.received"
    twice = sorted(f"{k[0][:8]}/{k[1]}" for k, ids in by_change.items() if len(ids) > 1)
    ids = [r["id"] for found in rows.values() for r in found]
    not_once = sorted(f"{i[:8]}:{received[i]}" for i in ids if received[i] != 1)
    report.figures.update(
        {
            "events: raw deliveries": events.raw,
            "events: distinct ids": events.distinct,
            "events: same-id copies (dedupable)": events.raw - events.distinct,
            "events: one change under 2+ ids": len(twice),
            "events by type": dict(Counter(e["type"] for e in events.bodies.values())),
        }
    )
    if twice:
        report.fail(f"{len(twice)} state change(s) published under more than one event id", twice)
    if not_once:
        report.fail(f"{len(not_once)} order(s) without exactly one prescription.received event", not_once)


def _claims(
    engine: Engine, payer: PayerView, claims: Copies, rows: dict[str, list[dict[str, Any]]], report: Report
) -> None:
    figures, failing = claim_checks(engine, payer, claims, rows)
    report.figures.update(figures)
    for what, examples in failing:
        report.fail(what, examples, limit=50)  # a disagreement is named fill by fill


def _plumbing(evidence: Evidence, report: Report) -> None:
    with evidence.engine.connect() as conn:
        unpublished = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        ).scalar_one()
        parked = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.error.is_not(None))).scalar_one()
    letters = DeadLetterQueue(evidence.amqp_url, evidence.topology).list()
    report.figures.update(
        {
            "faults injected": dict(evidence.faults),
            "outbox: unpublished / parked": f"{unpublished} / {parked}",
            "dead letters": dict(Counter(f"{x.message_type}:{x.failure_kind}" for x in letters)),
        }
    )
    if unpublished or parked:
        report.fail(f"outbox not drained: {unpublished} unpublished, {parked} parked")
    if letters:
        report.fail(f"{len(letters)} dead letter(s)", [f"{x.message_type}: {x.error[:80]}" for x in letters])
    if evidence.fault_failures:
        report.fail("fault(s) could not be injected", evidence.fault_failures)
    if evidence.crashed:
        report.fail("hub process(es) exited on their own", evidence.crashed)
