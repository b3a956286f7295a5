"""A refused command's audit entry: what the body claimed, never its payload, and never a crash or a wait."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any

import orjson
import pytest
from pika.spec import BasicProperties

from hub.errors import DatabaseUnavailable, UnauthenticatedCommand
from hub.messaging.refusals import audit_refusal, claims

PROPS = BasicProperties(message_id="m-1", type="RecordVerification")
BODY = orjson.dumps(
    {
        "type": "RecordVerification",
        "actor": "u-1",
        "principal": "user:paul",
        "payload": {"patient": {"family_name": "Doe"}},
    }
)


class Trail:
    """Implements RefusalAudit; ``fail`` makes the write fail (database down) or the call itself raise."""

    def __init__(self, fail: str = "") -> None:
        self.entries: list[dict[str, Any]] = []
        self.fail = fail

    def record_later(self, **entry: Any) -> Future[None]:
        if self.fail == "raise":
            raise RuntimeError("lane gone")
        self.entries.append(entry)
        done: Future[None] = Future()
        if self.fail == "write":
            done.set_exception(DatabaseUnavailable("audit trail unavailable"))
        else:
            done.set_result(None)
        return done


def test_the_entry_names_the_claims_and_the_reason_never_the_payload() -> None:
    trail = Trail()
    audit_refusal(
        trail,
        queue="rxhub.verification",
        props=PROPS,
        body=BODY,
        error=UnauthenticatedCommand("no x-rxhub-signature header"),
    )
    [entry] = trail.entries
    assert entry["actor"] == "anonymous" and entry["outcome"] == "unauthenticated"
    assert entry["action"] == "consume RecordVerification"
    assert entry["detail"] == {
        "queue": "rxhub.verification",
        "message_id": "m-1",
        "reason": "no x-rxhub-signature header",
        "claimed_actor": "u-1",
        "claimed_principal": "user:paul",
    }
    assert "Doe" not in repr(entry)


@pytest.mark.parametrize("fail", ["raise", "write"])
def test_an_audit_that_fails_is_logged_never_raised(fail: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.messaging.refusals"):
        audit_refusal(Trail(fail), queue="q", props=PROPS, body=BODY, error=UnauthenticatedCommand("x"))
    assert "audit" in caplog.text


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"type": 7, "actor": null}'])
def test_unreadable_claims_are_none(body: bytes) -> None:
    assert claims(body) == {}
    trail = Trail()
    audit_refusal(trail, queue="q", props=BasicProperties(), body=body, error=UnauthenticatedCommand("x"))
    assert trail.entries[0]["action"] == "consume ?"


def test_long_claims_are_cut_short() -> None:
    assert claims(orjson.dumps({"actor": "a" * 5000})) == {"actor": "a" * 100}
