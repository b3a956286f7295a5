"""Tokens expire and can be revoked; failed authentication is audited and throttled per client address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from hub.persistence.audit import AuditTrail
from hub.persistence.tables import users
from hub.persistence.users import UserStore
from hub.security.rate_limit import FailureLimiter
from tests.conftest import make_settings
from tests.security.http_app import App, http_app


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}", tmp_path, auth_failure_limit=3,
                             auth_lockout_s=60, token_max_age_days=90, feed_token_max_age_days=365)
    with http_app(settings) as running:
        yield running


def _age(app: App, name: str, days: int) -> None:
    with app.app.state.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == name)
                     .values(created_at=datetime.now(UTC) - timedelta(days=days)))


def test_a_staff_token_expires_after_the_configured_age_and_the_refusal_is_audited(app: App) -> None:
    me = app.client.get("/api/me", headers=app.as_role("technician"))
    assert me.status_code == 200
    _age(app, "technician.user", 89)
    assert app.client.get("/api/me", headers=app.as_role("technician")).status_code == 200
    _age(app, "technician.user", 91)
    assert app.client.get("/api/me", headers=app.as_role("technician")).status_code == 401
    refusals = [(e.actor, e.outcome) for e in AuditTrail(app.app.state.engine).query(actor="technician.user")]
    assert refusals == [("technician.user", "expired")]


def test_feed_tokens_live_longer_than_staff_tokens(app: App) -> None:
    _age(app, "feed.user", 200)
    assert app.client.get("/api/me", headers=app.as_role("feed")).status_code == 200
    _age(app, "feed.user", 400)
    assert app.client.get("/api/me", headers=app.as_role("feed")).status_code == 401


def test_a_revoked_token_is_refused(app: App) -> None:
    assert UserStore(app.app.state.engine).revoke("pharmacist.user")
    assert app.client.get("/api/me", headers=app.as_role("pharmacist")).status_code == 401


def test_repeated_failures_lock_the_address_out_even_for_a_valid_token(app: App) -> None:
    bad = {"Authorization": "Bearer rxh_guessing"}
    assert [app.client.get("/api/me", headers=bad).status_code for _ in range(3)] == [401, 401, 401]
    locked = app.client.get("/api/me", headers=app.as_role("admin"))
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 61
    failures = [e for e in AuditTrail(app.app.state.engine).query() if e.outcome == "unauthenticated"]
    assert [(e.actor, e.detail["client"], e.detail["locked_out"]) for e in failures] == [
        ("anonymous", "127.0.0.1", False), ("anonymous", "127.0.0.1", False), ("anonymous", "127.0.0.1", True)]
    assert "rxh_guessing" not in str([e.detail for e in failures])


def test_the_limiter_window_slides_and_the_lockout_ends() -> None:
    now = [0.0]
    limiter = FailureLimiter(limit=3, window_s=60, lockout_s=300, clock=lambda: now[0])
    assert not limiter.failed("a") and not limiter.failed("a")
    now[0] = 61  # the first two fell out of the window
    assert not limiter.failed("a") and not limiter.failed("a")
    assert limiter.retry_after("a") is None
    assert limiter.failed("a")
    assert limiter.retry_after("a") == 300
    assert limiter.retry_after("b") is None
    now[0] = 61 + 300
    assert limiter.retry_after("a") is None


def test_the_limiter_keeps_bounded_memory_under_an_address_sweep() -> None:
    now = [0.0]
    limiter = FailureLimiter(limit=3, window_s=60, lockout_s=300, clock=lambda: now[0], max_keys=100)
    for n in range(1000):
        now[0] = n
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._failures) <= 100
