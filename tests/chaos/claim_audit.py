"""The claim checks of the audit: the hub's ledger against the payer's own record, fill by fill.

For every fill either side knows, the hub's claim status and the payer's outcome must agree:

* paid in the hub (``paid``, or ``reversal_required``: money still at the payer) <=> paid and not reversed
  at the payer;
* reversed in the hub => reversed at the payer;
* reversed at the payer and not paid in the hub: only when the hub's ledger holds that reversal (A, or S:
  already reversed, when a repeated reversal follows one whose answer was lost),
  answered in time (``claim_transmissions``) or late (a ``late-answer`` note in ``claim_wire_log``): a
  status-unknown claim whose reversal the hub stopped waiting for, left in the technician's queue; no money
  on either side, and the hub knows the payer reversed.

Also: a fill paid twice without a reversal (either side), and a claim message transmitted to a switch twice.
The switch figures come from the hub's wire log (``claim_wire_log``) and the payer's journal.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from sqlalchemy import Engine, select

from hub.persistence.claims import WireEvent
from hub.persistence.tables import claim_transmissions, claim_wire_log
from tests.chaos.payer_view import PayerView
from tests.chaos.taps import Copies

HubState = Literal["paid", "reversed", "unpaid"]
#: B2 answers saying the payer holds the fill reversed: approved now (A) or already (S)
REVERSED = ("A", "S")
Fill = tuple[str, int]


def claim_checks(
    engine: Engine, payer: PayerView, claims: Copies, rows: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, Any], list[tuple[str, list[str]]]]:
    """The claim figures, and the failing checks as (what, examples)."""
    net, reversed_in_ledger = _ledger(engine)
    hub = _hub_states(rows)
    pairs: Counter[str] = Counter()
    disagree: list[str] = []
    for key in sorted(set(hub) | payer.fills()):
        ours, theirs = hub.get(key, "unpaid"), payer.state(key)
        known = key in reversed_in_ledger
        noted = known and (ours, theirs) == ("unpaid", "reversed")
        pairs[f"{ours}/{theirs}" + (" (B2 in ledger)" if noted else "")] += 1
        if _disagree(ours, theirs, known):
            disagree.append(f"{key[0][:8]}:fill{key[1]} hub={ours} payer={theirs}")
    hub_twice = sorted(f"{k[0][:8]}:{v}" for k, v in net.items() if v > 1)
    payer_twice = sorted(f"{k[0][:8]}:{v}" for k, v in payer.net_paid.items() if v > 1 or v < 0)
    switch, sent_twice = _switch_figures(engine, payer)
    figures: dict[str, Any] = {
        "claims: transmissions published": f"{claims.raw} copies, {claims.distinct} distinct",
        **switch,
        "payer: decisions": dict(payer.decisions),
        "payer: answers dropped": payer.dropped,
        "payer: fills paid (net)": sum(1 for k in payer.fills() if payer.state(k) == "paid"),
        "fills compared (hub/payer)": dict(pairs),
        "claims billed twice w/o reversal": f"hub ledger {len(hub_twice)}, payer {len(payer_twice)}",
        "hub and payer disagree (fills)": len(disagree),
    }
    failing: list[tuple[str, list[str]]] = []
    if hub_twice:
        failing.append((f"{len(hub_twice)} fill(s) paid twice without a reversal in claim_transmissions", hub_twice))
    if payer_twice:
        failing.append((f"{len(payer_twice)} fill(s) paid twice (or reversed twice) by the payer", payer_twice))
    if disagree:
        failing.append((f"{len(disagree)} fill(s) where the hub and the payer disagree", disagree))
    if sent_twice:
        failing.append((f"{len(sent_twice)} claim message(s) transmitted to a switch more than once", sent_twice))
    return figures, failing


def _disagree(ours: HubState, theirs: str, ledger_reversed: bool) -> bool:
    if (ours == "paid") != (theirs == "paid"):
        return True
    if ours == "reversed":
        return theirs != "reversed"
    return theirs == "reversed" and not ledger_reversed


def _hub_states(rows: dict[str, list[dict[str, Any]]]) -> dict[Fill, HubState]:
    states: dict[Fill, HubState] = {}
    for found in rows.values():
        for row in found:
            for fill in row["document"].get("fills", []):
                status = (fill.get("claim") or {}).get("status")
                state: HubState = (
                    "paid"
                    if status in ("paid", "reversal_required")
                    else "reversed"
                    if status == "reversed"
                    else "unpaid"
                )
                states[(row["id"], int(fill["fill_number"]))] = state
    return states


def _ledger(engine: Engine) -> tuple[Counter[Fill], set[Fill]]:
    """Per fill: payments minus reversals in ``claim_transmissions``; the fills with an approved reversal in the
    ledger, answered in time or late."""
    net: Counter[Fill] = Counter()
    reversed_: set[Fill] = set()
    with engine.connect() as conn:
        w = claim_wire_log.c
        late = select(w.prescription_id, w.fill_number).where(
            w.event == WireEvent.LATE_ANSWER, w.status.in_(REVERSED), w.exchange_id.like("%:B2")
        )
        reversed_.update((r.prescription_id, r.fill_number) for r in conn.execute(late))
        for t in conn.execute(select(claim_transmissions)).mappings():
            key = (t["prescription_id"], t["fill_number"])
            paid = t["transaction"] == "B1" and t["status"] == "P"
            undone = t["transaction"] == "B2" and t["status"] == "A"
            net[key] += paid - undone
            if t["transaction"] == "B2" and t["status"] in REVERSED:
                reversed_.add(key)
    return net, reversed_


def _switch_figures(engine: Engine, payer: PayerView) -> tuple[dict[str, Any], list[str]]:
    """The connectors' wire log and the switch's own counts; message ids transmitted more than once."""
    events: Counter[str] = Counter()
    transmitted: Counter[str] = Counter()
    relay_fenced = 0
    with engine.connect() as conn:
        w = claim_wire_log.c
        for event, message_id, detail in conn.execute(select(w.event, w.message_id, w.detail)):
            events[event] += 1
            if event == WireEvent.TRANSMITTING:
                transmitted[message_id or "-"] += 1
            relay_fenced += event == WireEvent.DROPPED and (detail or "").startswith("relay:")
    if not events and not payer.by_switch:
        return {}, []
    twice = sorted(m for m, n in transmitted.items() if n > 1)
    figures = {
        "switch: transmissions": f"{events[WireEvent.TRANSMITTING]} ({len(transmitted)} distinct messages)",
        "switch: wire log": {str(k): v for k, v in events.items()},
        "switch: failovers": events[WireEvent.FAILOVER],
        "switch: answers sent late (fault)": payer.by_fault["late"],
        "switch: late answers at the hub": events[WireEvent.LATE_ANSWER],
        "switch: fenced (connector / relay)": f"{events[WireEvent.DROPPED] - relay_fenced} / {relay_fenced}",
        "switch: claims by listener / fault": f"{dict(payer.by_switch)} / {dict(payer.by_fault)}",
    }
    return figures, twice
