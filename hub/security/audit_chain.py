"""The audit trail's hash chain: each entry's hash covers its content and the previous entry's hash.

Changing, inserting or deleting an entry in the middle breaks every link after it; cutting entries off the
end is caught by an anchor: a head hash noted earlier must still be in the chain (``rxhub audit verify
--anchor HASH``).
Pure functions over stored rows, so the writer and the verifier cannot disagree on the format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

#: prev_hash of the first entry
GENESIS = "0" * 64
#: the stored columns a hash covers, in this order
HASHED = ("seq", "at", "actor", "role", "action", "prescription_id", "patient_id", "outcome", "detail")


def utc_text(value: datetime | str) -> str:
    """A timestamp as UTC ISO 8601 with microseconds (SQLite hands back naive UTC, PostgreSQL aware)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 of the canonical JSON of the entry's stored content and the previous hash."""
    content: dict[str, Any] = {key: row.get(key) for key in HASHED}
    content["at"] = utc_text(row["at"])
    content["prev_hash"] = prev_hash
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ChainProblem(BaseModel):
    """One broken link: which entry, and how."""

    model_config = ConfigDict(frozen=True)
    seq: int | None
    id: int
    reason: str


class ChainReport(BaseModel):
    """The result of walking the chain from its first entry."""

    model_config = ConfigDict(frozen=True)
    checked: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return not self.problems


def verify_rows(rows: Iterable[Mapping[str, Any]], *, anchor: str | None = None) -> ChainReport:
    """Walk rows in chain order (``seq``); unsealed rows (no hash) are problems too."""
    prev, expected_seq, checked, problems = GENESIS, 1, 0, []
    anchored = anchor is None
    for row in rows:
        if row["seq"] is None or row["hash"] is None:
            problems.append(ChainProblem(seq=None, id=row["id"], reason="not sealed into the chain"))
            continue
        checked += 1
        if row["seq"] != expected_seq:
            problems.append(ChainProblem(seq=row["seq"], id=row["id"], reason=f"expected entry {expected_seq}: "
                                                                               "entries missing"))
        if row["prev_hash"] != prev:
            problems.append(ChainProblem(seq=row["seq"], id=row["id"], reason="does not link to the entry before"))
        if entry_hash(row, row["prev_hash"]) != row["hash"]:
            problems.append(ChainProblem(seq=row["seq"], id=row["id"], reason="content does not match its hash"))
        prev, expected_seq = row["hash"], row["seq"] + 1
        anchored = anchored or row["hash"] == anchor
    if not anchored:
        problems.append(ChainProblem(seq=None, id=0, reason="the anchor hash is no longer in the chain: "
                                                            "entries cut off or replaced"))
    return ChainReport(checked=checked, head_seq=expected_seq - 1, head_hash=prev, problems=tuple(problems))
