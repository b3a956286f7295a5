"""Issue 31, part 3: refusals at the HTTP door are audited with their reason, repeated ones bounded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.security.refusal_sampling import RefusalSampler
from tests.conftest import make_settings
from tests.security.http_app import App, http_app


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(
        amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}", auth_failure_limit=3, auth_lockout_s=60
    )
    with http_app(settings) as running:
        yield running


def test_a_lockout_429_is_audited_once_a_minute_per_address_and_prefix(app: App) -> None:
    bad = {"Authorization": "Bearer rxh_guessing"}
    statuses = [app.client.get("/api/me", headers=bad).status_code for _ in range(8)]
    assert statuses == [401] * 3 + [429] * 5
    locked = [e for e in AuditTrail(app.engine).query() if e.outcome == "locked-out"]
    assert len(locked) == 1, "the first 429 of the address and prefix; the rest are counted"
    (entry,) = locked
    assert (entry.actor, entry.action, entry.detail["client"]) == ("anonymous", "GET /api/me", "127.0.0.1")
    assert entry.detail["reason"] == "too many failed authentications" and entry.detail["unaudited_before"] == 0
    assert 0 < entry.detail["retry_after_s"] <= 60 and "rxh_guessing" not in str(entry.detail)


def test_the_sampler_audits_the_first_then_one_a_period_with_the_count_skipped() -> None:
    now = [0.0]
    sampler = RefusalSampler(period_s=60, clock=lambda: now[0])
    assert sampler.take("a") == 0
    assert [sampler.take("a") for _ in range(4)] == [None] * 4
    assert sampler.take("b") == 0, "another key is audited on its own"
    now[0] = 61
    assert sampler.take("a") == 4


def test_a_long_action_and_reason_are_stored_whole(database_url: str) -> None:
    """Refused actions were cut at 60 characters (and PostgreSQL refused longer ones outright)."""
    engine = make_engine(database_url)
    create_schema(engine)
    action, reason = "POST /api/prescriptions/" + "x" * 120 + "/data-verification", "r" * 1500
    AuditTrail(engine).record(
        actor="a", role="pharmacist", action=action, outcome="forbidden", detail={"reason": reason}
    )
    [stored] = AuditTrail(engine).query()
    engine.dispose()
    assert (stored.action, stored.detail["reason"]) == (action, reason)
