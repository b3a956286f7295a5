"""Emergency access (issue 31, part 5): an admin gives a user a higher role for minutes, with a mandatory
reason; the grant is audited, logged, counted for the alert, ends early on request and on time, and the
workers honour it while it lasts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from hub.domain.actors import Role
from hub.persistence.actors import StaffActors
from hub.persistence.audit import AuditTrail
from hub.persistence.tables import break_glass_grants
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.security.http_app import App, http_app

REASON = "pharmacist on duty collapsed; covering until the relief arrives"


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}", break_glass_max_minutes=60)
    with http_app(settings) as running:
        yield running


def _granted() -> float:
    return REGISTRY.get_sample_value("rxhub_break_glass_total", {"action": "granted"}) or 0.0


def test_a_grant_needs_an_admin_a_reason_a_staff_user_and_a_bounded_time(app: App) -> None:
    admin = app.as_role("admin")
    ok = {"user": "technician.user", "role": "admin", "minutes": 30, "reason": REASON}
    answers = {
        "by a technician": app.client.post("/api/admin/break-glass", json=ok, headers=app.as_role("technician")),
        "no reason": app.client.post("/api/admin/break-glass", json={**ok, "reason": "   urgent "}, headers=admin),
        "too long": app.client.post("/api/admin/break-glass", json={**ok, "minutes": 61}, headers=admin),
        "a feed": app.client.post("/api/admin/break-glass", json={**ok, "user": "feed.user"}, headers=admin),
        "no such user": app.client.post("/api/admin/break-glass", json={**ok, "user": "nobody"}, headers=admin),
        "not grantable": app.client.post("/api/admin/break-glass", json={**ok, "role": "feed"}, headers=admin),
    }
    assert {k: a.status_code for k, a in answers.items()} == {
        "by a technician": 403,
        "no reason": 422,
        "too long": 422,
        "a feed": 422,
        "no such user": 422,
        "not grantable": 422,
    }
    assert "reason of at least" in answers["no reason"].json()["detail"]
    assert app.client.get("/api/admin/break-glass", headers=admin).json() == []


def test_a_grant_gives_the_role_until_it_is_ended_and_is_audited_logged_and_counted(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    tech, admin = app.as_role("technician"), app.as_role("admin")
    assert app.client.get("/api/admin/audit", headers=tech).status_code == 403
    before = _granted()
    with caplog.at_level(logging.WARNING):
        given = app.client.post(
            "/api/admin/break-glass",
            headers=admin,
            json={"user": "technician.user", "role": "admin", "minutes": 30, "reason": REASON},
        )
    assert given.status_code == 201, given.text
    grant = given.json()
    assert _granted() == before + 1
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "security.break_glass"]
    assert "technician.user" in line.getMessage() and REASON not in line.getMessage()
    assert app.client.get("/api/admin/audit", headers=tech).status_code == 200, "the granted role, at once"
    assert [g["id"] for g in app.client.get("/api/admin/break-glass", headers=admin).json()] == [grant["id"]]
    assert app.client.delete(f"/api/admin/break-glass/{grant['id']}", headers=admin).status_code == 200
    assert app.client.get("/api/admin/audit", headers=tech).status_code == 403, "ended: the own role again"
    assert app.client.delete(f"/api/admin/break-glass/{grant['id']}", headers=admin).status_code == 404
    entries = AuditTrail(app.engine).query(actor="admin.user")
    [granted] = [e for e in entries if e.action == "break-glass grant"]
    assert (granted.detail["user"], granted.detail["role"], granted.detail["from_role"]) == (
        "technician.user",
        "admin",
        "technician",
    )
    assert granted.detail["reason"] == REASON and granted.detail["minutes"] == 30
    assert [e.detail["grant_id"] for e in entries if e.action == "break-glass end"] == [grant["id"]]
    reads = AuditTrail(app.engine).query(actor="technician.user")
    assert any(e.action == "read audit trail" and e.role == "admin" for e in reads), "what was done with it"


def test_an_expired_grant_gives_nothing_and_the_workers_read_the_granted_role(app: App) -> None:
    tech, admin = app.as_role("technician"), app.as_role("admin")
    grant = app.client.post(
        "/api/admin/break-glass",
        headers=admin,
        json={"user": "technician.user", "role": "pharmacist", "minutes": 5, "reason": REASON},
    ).json()
    engine = app.engine
    user_id = next(u.id for u, _ in UserStore(engine).list() if u.name == "technician.user")
    with engine.connect() as conn:
        actor = StaffActors(conn).on_record(user_id, datetime.now(UTC))
    assert actor is not None and actor.role == Role.PHARMACIST  # the grant's role, read as the workers read it
    with engine.begin() as conn:
        conn.execute(
            update(break_glass_grants)
            .where(break_glass_grants.c.id == grant["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        after = StaffActors(conn).on_record(user_id, datetime.now(UTC))
    assert after is not None and after.role == Role.TECHNICIAN
    app.services.break_glass.forget(user_id)  # a change by hand reaches a running hub within CACHE_S
    assert app.client.get("/api/me", headers=tech).json()["role"] == "technician"
    assert app.client.get("/api/admin/break-glass", headers=admin).json() == []
