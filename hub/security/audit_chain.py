"""The audit trail's hash chain: each entry's hash covers its content and the previous entry's hash.

Changing, inserting or deleting an entry in the middle breaks every link after it; cutting entries off the
end is caught by an anchor: a head hash noted earlier must still be in the chain (``rxhub audit verify
--anchor HASH`` or ``--anchors FILE``). With ``RXHUB_AUDIT_KEY`` (hub.security.audit_keys) the links are
HMACs and each entry carries its writer's tag: without the key an entry can be neither forged nor re-linked.
Pure functions over stored rows, so the writer and the verifier cannot disagree on the format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.security.audit_keys import AuditKeys

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


def _canonical(row: Mapping[str, Any], prev_hash: str) -> bytes:
    content: dict[str, Any] = {key: row.get(key) for key in HASHED}
    content["at"] = utc_text(row["at"])
    content["prev_hash"] = prev_hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(row: Mapping[str, Any], prev_hash: str, keys: AuditKeys | None = None, kid: str | None = None) -> str:
    """The link: HMAC-SHA256 (key ``kid``, default the sealing key) of the canonical JSON of the entry's stored
    content and the previous hash; plain SHA-256 without keys."""
    if keys is None:
        return hashlib.sha256(_canonical(row, prev_hash)).hexdigest()
    return keys.mac(_canonical(row, prev_hash), kid)


def entry_tag(row: Mapping[str, Any], keys: AuditKeys) -> str:
    """The writer's tag: the HMAC of the entry's content before it has a place in the chain."""
    return keys.mac(_canonical({**row, "seq": None}, "tag"))


def tag_holds(row: Mapping[str, Any], keys: AuditKeys) -> bool:
    """Whether the entry carries a tag made with one of ``keys`` (else: not written by a hub process)."""
    return any(keys.holds(_canonical({**row, "seq": None}, "tag"), row.get("tag"), kid) for kid in keys.ids())


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
    #: unsealed entries younger than the sealing interval, with a valid tag: the sealer has not reached them yet
    pending: int = 0
    problems: tuple[ChainProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return not self.problems


def _unsealed_problem(row: Mapping[str, Any], keys: AuditKeys | None, oldest: datetime) -> str | None:
    if keys is not None and not tag_holds(row, keys):
        return "not written by a hub process (no valid writer's tag): inserted into the table directly"
    if datetime.fromisoformat(utc_text(row["at"])) < oldest:
        return "not sealed into the chain for longer than the sealing interval"
    return None


def _link_problem(row: Mapping[str, Any], keys: AuditKeys | None, plain_ok: bool) -> str | None:
    kid = row.get("key_id")
    if kid is None and keys is not None and not plain_ok:
        return "sealed without RXHUB_AUDIT_KEY (plain hash): re-seal with rxhub audit rekey"
    if kid is not None and (keys is None or not keys.knows(kid)):
        return f"sealed with audit key {kid}, which is not configured"
    if entry_hash(row, row["prev_hash"], keys if kid else None, kid) != row["hash"]:
        return "content does not match its hash"
    return None


def verify_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    anchor: str | None = None,
    keys: AuditKeys | None = None,
    unsealed_grace_s: float = 30.0,
    now: datetime | None = None,
    anchored_at: Mapping[int, str] | None = None,
    plain_ok: bool = False,
) -> ChainReport:
    """Walk rows in chain order (``seq``), reading only. An unsealed row is a problem when its writer's tag
    does not hold (with keys) or when it is older than ``unsealed_grace_s``; a younger one is pending.
    ``anchored_at``: seq -> hash of signed anchors, each of which must still be in the chain; ``plain_ok``:
    entries sealed without a key are checked by SHA-256 even with keys (``rxhub audit rekey``'s check)."""
    prev, expected_seq, checked, pending, problems = GENESIS, 1, 0, 0, []
    anchored = anchor is None
    awaited = dict(anchored_at or {})
    oldest = (now or datetime.now(UTC)) - timedelta(seconds=unsealed_grace_s)
    for row in rows:
        if row["seq"] is None or row["hash"] is None:
            reason = _unsealed_problem(row, keys, oldest)
            if reason is None:
                pending += 1
            else:
                problems.append(ChainProblem(seq=None, id=row["id"], reason=reason))
            continue
        checked += 1
        if row["seq"] != expected_seq:
            problems.append(
                ChainProblem(seq=row["seq"], id=row["id"], reason=f"expected entry {expected_seq}: entries missing")
            )
        if row["prev_hash"] != prev:
            problems.append(ChainProblem(seq=row["seq"], id=row["id"], reason="does not link to the entry before"))
        if (reason := _link_problem(row, keys, plain_ok)) is not None:
            problems.append(ChainProblem(seq=row["seq"], id=row["id"], reason=reason))
        if row["seq"] in awaited and awaited.pop(row["seq"]) != row["hash"]:
            problems.append(
                ChainProblem(
                    seq=row["seq"], id=row["id"], reason="differs from its signed anchor: the chain was replaced"
                )
            )
        prev, expected_seq = row["hash"], row["seq"] + 1
        anchored = anchored or row["hash"] == anchor
    if not anchored:
        problems.append(
            ChainProblem(
                seq=None, id=0, reason="the anchor hash is no longer in the chain: entries cut off or replaced"
            )
        )
    for seq in sorted(awaited):
        problems.append(ChainProblem(seq=seq, id=0, reason="anchored entry no longer in the chain: entries cut off"))
    return ChainReport(
        checked=checked, head_seq=expected_seq - 1, head_hash=prev, pending=pending, problems=tuple(problems)
    )
