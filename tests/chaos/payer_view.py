"""The simulated payer's own record of what it decided, read back from its JSON log lines.

The simulator logs one line per claim: ``payer-sim <exchange id>: B1 BIN 999001: F1=A P`` (status letter
last; "; answer dropped" when the answer was lost on the way back after the payer decided).  That is the
payer's side of the ledger: a B1 answered ``P`` is money paid, a B2 answered ``A`` takes it back; ``D`` and
``S`` are duplicates and move no money.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_DECISION = re.compile(r"^payer-sim (?P<xid>\S+): (?P<tx>B[123]) BIN \S+: F1=\w (?P<status>\w)")


@dataclass
class PayerView:
    """Per (prescription id, fill number): payments minus reversals, as the payer saw them."""

    net_paid: Counter[tuple[str, int]] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    claims_seen: int = 0


def read_payer_log(path: Path) -> PayerView:
    """Parse the payer-sim log (missing file: an empty view)."""
    view = PayerView()
    if not path.exists():
        return view
    for line in path.read_text(errors="replace").splitlines():
        try:
            message = json.loads(line).get("message", "")
        except json.JSONDecodeError:
            continue
        match = _DECISION.match(message)
        if match is None:
            continue
        view.claims_seen += 1
        rx_id, fill, _attempt, _tx = match["xid"].rsplit(":", 3)
        key, status = (rx_id, int(fill)), match["status"]
        view.decisions[f"{match['tx']} {status}"] += 1
        view.dropped += "answer dropped" in message
        if match["tx"] == "B1" and status == "P":
            view.net_paid[key] += 1
        elif match["tx"] == "B2" and status == "A":
            view.net_paid[key] -= 1
    return view
