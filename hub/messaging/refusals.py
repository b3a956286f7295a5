"""The audit entry of a command refused as unsigned or forged: what it claimed to be, never what it carried.

Its body was not written by a hub process, so nothing in it is trusted: the entry's actor is ``anonymous``,
and the type, actor and principal the body claims go in the detail, cut short, beside the queue and the
reason. The entry is queued for the trail's writer thread: a flood of forgeries or a database outage must
neither block nor stop the consumer (the dead letter records the refusal whatever happens to the entry).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any, Protocol

import orjson
from pika.spec import BasicProperties

log = logging.getLogger(__name__)


class RefusalAudit(Protocol):
    """Where refused commands are recorded without waiting (hub.persistence.audit.AuditTrail)."""

    def record_later(self, **entry: Any) -> Future[None]:
        """Queue an audit entry and return at once."""


def audit_refusal(
    audit: RefusalAudit, *, queue: str, props: BasicProperties, body: bytes, error: BaseException
) -> None:
    """Queue the entry for one refused command; never raises."""
    claimed = claims(body)
    try:
        done = audit.record_later(
            actor="anonymous",
            role="none",
            action=f"consume {claimed.get('type') or props.type or '?'}",
            outcome="unauthenticated",
            detail={
                "queue": queue,
                "message_id": props.message_id,
                "reason": str(error)[:200],
                "claimed_actor": claimed.get("actor"),
                "claimed_principal": claimed.get("principal"),
            },
        )
        done.add_done_callback(_log_unwritten)
    except Exception:
        log.exception("a refused command on %s could not be audited", queue)


def claims(body: bytes) -> dict[str, str]:
    """The type, actor and principal an unverified body claims (strings only, cut short)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {k: parsed[k][:100] for k in ("type", "actor", "principal") if isinstance(parsed.get(k), str)}


def _log_unwritten(done: Future[None]) -> None:
    if done.exception() is not None:
        log.error("a refused command's audit entry was not written: %s", done.exception())
