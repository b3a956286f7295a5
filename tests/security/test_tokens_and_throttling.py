"""Tokens expire and can be revoked; failed authentication is audited and throttled per client address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from hub.entrypoints.http.auth import token_cache
from hub.persistence.audit import AuditTrail
from hub.persistence.tables import users
from hub.persistence.users import UserStore, hash_token
from hub.security.rate_limit import FailureLimiter
from hub.security.tokens import TOKEN_CACHE_S, TokenCache
from tests.conftest import make_settings
from tests.security.http_app import App, http_app


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        auth_failure_limit=3,
        auth_lockout_s=60,
        token_max_age_days=90,
        feed_token_max_age_days=365,
    )
    with http_app(settings) as running:
        yield running


def _age(app: App, name: str, days: int) -> None:
    with app.engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.name == name).values(created_at=datetime.now(UTC) - timedelta(days=days))
        )
    token_cache(app.app).clear()  # a change by hand reaches a running hub only after TOKEN_CACHE_S


def test_a_staff_token_expires_after_the_configured_age_and_the_refusal_is_audited(app: App) -> None:
    me = app.client.get("/api/me", headers=app.as_role("technician"))
    assert me.status_code == 200
    _age(app, "technician.user", 89)
    assert app.client.get("/api/me", headers=app.as_role("technician")).status_code == 200
    _age(app, "technician.user", 91)
    assert app.client.get("/api/me", headers=app.as_role("technician")).status_code == 401
    refusals = [(e.actor, e.outcome) for e in AuditTrail(app.engine).query(actor="technician.user")]
    assert refusals == [("technician.user", "expired")]


def test_feed_tokens_live_longer_than_staff_tokens(app: App) -> None:
    _age(app, "feed.user", 200)
    assert app.client.get("/api/me", headers=app.as_role("feed")).status_code == 200
    _age(app, "feed.user", 400)
    assert app.client.get("/api/me", headers=app.as_role("feed")).status_code == 401


def test_a_revoked_token_is_refused(app: App) -> None:
    assert UserStore(app.engine).revoke("pharmacist.user")
    assert app.client.get("/api/me", headers=app.as_role("pharmacist")).status_code == 401


@pytest.fixture
def clock(app: App) -> list[float]:
    now = [1000.0]
    app.services.token_cache = TokenCache(clock=lambda: now[0])
    return now


def test_a_token_revoked_elsewhere_is_refused_once_its_cache_entry_expires(app: App, clock: list[float]) -> None:
    me = app.as_role("pharmacist")
    assert app.client.get("/api/me", headers=me).status_code == 200
    assert UserStore(app.engine).revoke("pharmacist.user")  # as `rxhub users revoke` does
    clock[0] += TOKEN_CACHE_S - 0.5
    assert app.client.get("/api/me", headers=me).status_code == 200  # the documented revocation delay
    clock[0] += 1
    assert app.client.get("/api/me", headers=me).status_code == 401


def test_a_revocation_in_the_process_evicts_the_token_at_once(app: App, clock: list[float]) -> None:
    me = app.as_role("pharmacist")
    assert app.client.get("/api/me", headers=me).status_code == 200
    assert UserStore(app.engine).revoke("pharmacist.user")
    assert token_cache(app.app).evict(name="pharmacist.user") == 1
    assert app.client.get("/api/me", headers=me).status_code == 401


def test_expiry_is_judged_on_every_request_even_from_the_cache(app: App, clock: list[float]) -> None:
    me = app.as_role("feed")
    assert app.client.get("/api/me", headers=me).status_code == 200
    cache = token_cache(app.app)
    token_hash = hash_token(app.tokens["feed"])
    holder = cache.get(token_hash)
    assert holder is not None and holder.user.name == "feed.user"
    cache.put(token_hash, replace(holder, explicit_expiry=datetime.now(UTC) - timedelta(seconds=1)))
    assert app.client.get("/api/me", headers=me).status_code == 401
    refusals = [(e.actor, e.outcome) for e in AuditTrail(app.engine).query(actor="feed.user")]
    assert refusals == [("feed.user", "expired")]


def test_unknown_tokens_are_not_cached_so_a_new_user_is_admitted_at_once(app: App, clock: list[float]) -> None:
    store = UserStore(app.engine)
    token = store.add("late.feed", "feed")[1]
    assert app.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert app.client.get("/api/me", headers={"Authorization": "Bearer rxh_unknown"}).status_code == 401
    assert len(token_cache(app.app)._entries) == 1


def test_the_token_cache_stays_bounded() -> None:
    from hub.persistence.users import User
    from hub.security.tokens import Holder

    cache = TokenCache(max_entries=3)
    for n in range(10):
        cache.put(f"h{n}", Holder(User(str(n), f"u{n}", "feed", None), "feed", datetime.now(UTC), None))
    assert [k for k in cache._entries] == ["h7", "h8", "h9"]
    assert cache.get("h0") is None and cache.get("h9") is not None


def test_failures_lock_the_address_out_for_failures_but_a_valid_token_is_still_admitted(app: App) -> None:
    bad = {"Authorization": "Bearer rxh_guessing"}
    assert [app.client.get("/api/me", headers=bad).status_code for _ in range(3)] == [401, 401, 401]
    assert app.client.get("/api/me", headers=app.as_role("admin")).status_code == 200, "others' failures"
    locked = app.client.get("/api/me", headers={"Authorization": "Bearer rxh_another_guess"})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 61
    assert app.client.get("/api/me").status_code == 429, "no token at all is a failure too"
    assert app.client.get("/api/me", headers=app.as_role("technician")).status_code == 200
    failures = [e for e in AuditTrail(app.engine).query() if e.outcome == "unauthenticated"]
    assert [(e.actor, e.detail["client"], e.detail["locked_out"]) for e in failures][:3] == [
        ("anonymous", "127.0.0.1", False),
        ("anonymous", "127.0.0.1", False),
        ("anonymous", "127.0.0.1", True),
    ]
    assert "rxh_guessing" not in str([e.detail for e in failures])


def test_x_forwarded_for_from_an_untrusted_client_is_ignored(app: App) -> None:
    bad = {"Authorization": "Bearer rxh_guessing"}
    statuses = [
        app.client.get("/api/me", headers={**bad, "X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429], "rotating X-Forwarded-For does not dodge the lockout"
    failures = [e for e in AuditTrail(app.engine).query() if e.outcome == "unauthenticated"]
    assert {e.detail["client"] for e in failures} == {"127.0.0.1"}, "no forged address reaches the audit"


@pytest.fixture
def proxied(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        auth_failure_limit=3,
        auth_prefix_failure_limit=4,
        auth_lockout_s=60,
        trusted_proxies=("127.0.0.0/8",),
    )
    with http_app(settings) as running:
        yield running


def _via(address: str, token: str | None = None) -> dict[str, str]:
    return {"X-Forwarded-For": address, **({"Authorization": f"Bearer {token}"} if token else {})}


def test_a_trusted_proxy_names_the_client_and_one_client_locks_out_only_itself(proxied: App) -> None:
    guesses = [
        proxied.client.get("/api/me", headers=_via("198.51.100.7", f"rxh_guess{n}")).status_code for n in range(4)
    ]
    assert guesses == [401, 401, 401, 429]
    assert proxied.client.get("/api/me", headers=_via("198.51.100.8", "rxh_other")).status_code == 401, (
        "another client behind the same proxy is not locked out"
    )
    me = {**_via("198.51.100.7"), **proxied.as_role("pharmacist")}
    assert proxied.client.get("/api/me", headers=me).status_code == 200
    failures = [e for e in AuditTrail(proxied.engine).query() if e.outcome == "unauthenticated"]
    assert {e.detail["client"] for e in failures} == {"198.51.100.7", "198.51.100.8"}


def test_one_bad_token_replayed_from_many_addresses_locks_out_its_prefix(proxied: App) -> None:
    replayed = "rxh_revokedTokenFromAnOldConfig"
    statuses = [proxied.client.get("/api/me", headers=_via(f"192.0.2.{n}", replayed)).status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    assert proxied.client.get("/api/me", headers=_via("192.0.2.99", "rxh_somethingElse")).status_code == 401
    assert proxied.client.get("/api/me", headers={**_via("192.0.2.4"), **proxied.as_role("admin")}).status_code == 200


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


def test_lockouts_of_addresses_that_never_come_back_are_forgotten() -> None:
    now = [0.0]
    limiter = FailureLimiter(limit=1, window_s=60, lockout_s=10, clock=lambda: now[0], max_keys=100)
    for n in range(1000):
        now[0] = n
        assert limiter.failed(f"10.1.{n // 256}.{n % 256}")
    assert len(limiter._locked_until) <= 100
    assert limiter.retry_after("10.1.3.231") == 10, "the latest lockout still holds"
