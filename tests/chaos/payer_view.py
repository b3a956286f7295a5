"""The simulated payer's own record of what it decided: the switch simulator's payer journal, or the direct
payer simulator's JSON log lines (``tests/cluster`` still sends claims straight to ``rxhub payer-sim``).

Both say per claim: ``B1 BIN 999001: F1=A P`` (status letter last; "; answer dropped" when the answer was lost
on the way back after the payer decided). That is the payer's side of the ledger: a B1 answered ``P`` is money
paid, a B2 answered ``A`` takes it back; ``D`` and ``S`` are duplicates and move no money.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.d0.parser import parse_request
from adapters.ncpdp.switch.payer_journal import read_journal
from hub.errors import MessageContentError

_DECISION = re.compile(r"(?P<tx>B[123]) BIN \S+: F1=\w (?P<status>\w)")
_LOGGED = re.compile(r"^payer-sim (?P<xid>\S+): ")

#: where a fill stands at the payer once the run is over
PayerState = Literal["paid", "reversed", "unpaid"]


@dataclass
class PayerView:
    """Per (prescription id, fill number): payments minus reversals, as the payer saw them."""

    net_paid: Counter[tuple[str, int]] = field(default_factory=Counter)
    #: fills of which the payer approved at least one reversal
    reversed: set[tuple[str, int]] = field(default_factory=set)
    decisions: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    claims_seen: int = 0
    #: claims per switch listener and per fault the switch applied (journal only)
    by_switch: Counter[str] = field(default_factory=Counter)
    by_fault: Counter[str] = field(default_factory=Counter)

    def state(self, key: tuple[str, int]) -> PayerState:
        """Paid (net one payment), reversed (paid, then taken back) or unpaid (never paid)."""
        if self.net_paid[key] == 1:
            return "paid"
        return "reversed" if key in self.reversed else "unpaid"

    def fills(self) -> set[tuple[str, int]]:
        """Every fill the payer decided anything about."""
        return set(self.net_paid) | self.reversed

    def decide(self, key: tuple[str, int], summary: str) -> None:
        """Apply one decision line to the view."""
        match = _DECISION.search(summary)
        if match is None:
            return
        self.claims_seen += 1
        status = match["status"]
        self.decisions[f"{match['tx']} {status}"] += 1
        self.dropped += "answer dropped" in summary
        if match["tx"] == "B1" and status == "P":
            self.net_paid[key] += 1
        elif match["tx"] == "B2" and status == "A":
            self.net_paid[key] -= 1
            self.reversed.add(key)


def read_payer_journal(path: Path, prescription_of: Mapping[str, str]) -> PayerView:
    """The switch simulator's payer journal, fills keyed by prescription id through their Rx numbers.

    An Rx number the hub does not know is kept as ``rx:<number>``, so the audit shows it as a disagreement.
    """
    view = PayerView()
    for entry in read_journal(path):
        view.by_switch[entry.switch] += 1
        view.by_fault[entry.fault] += 1
        try:
            claim = read_claim_request(parse_request(entry.request)).transactions[0].claim
        except (MessageContentError, IndexError):
            continue
        rx_number = claim.rx_number or ""
        key = (prescription_of.get(rx_number, f"rx:{rx_number}"), int(claim.fill_number or 0))
        view.decide(key, entry.summary)
    return view


def read_payer_log(path: Path) -> PayerView:
    """Parse the direct payer simulator's log (missing file: an empty view)."""
    view = PayerView()
    if not path.exists():
        return view
    for line in path.read_text(errors="replace").splitlines():
        try:
            message = json.loads(line).get("message", "")
        except json.JSONDecodeError:
            continue
        logged = _LOGGED.match(message)
        if logged is None:
            continue
        rx_id, fill, _attempt, _tx = logged["xid"].rsplit(":", 3)
        view.decide((rx_id, int(fill)), message[logged.end() :])
    return view
