"""Staff sessions end on the server after the idle limit, as the console does in the browser (issue 31, part 5):
background calls (the console's polls) do not keep a session alive, ``POST /api/session`` starts it again,
feeds are not timed out, and the ended session's refusal is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.entrypoints.http.auth import idle_sessions
from hub.persistence.audit import AuditTrail
from hub.security.sessions import IdleSessions
from tests.conftest import make_settings
from tests.security.http_app import App, http_app

BACKGROUND = {"X-RxHub-Activity": "background"}


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}", console_idle_minutes=15)
    with http_app(settings) as running:
        now = [0.0]
        running.services.idle_sessions = IdleSessions(idle_sessions(running.app).idle_s, clock=lambda: now[0])
        running.app.state.test_clock = now
        yield running


def _later(app: App, seconds: float) -> None:
    app.app.state.test_clock[0] += seconds


def test_the_session_limit_is_the_consoles_plus_a_minute(app: App) -> None:
    answer = app.client.post("/api/session", headers=app.as_role("pharmacist"))
    assert answer.status_code == 200 and answer.json()["idle_minutes"] == 16


def test_an_idle_staff_session_is_refused_until_it_signs_in_again_and_that_is_audited(app: App) -> None:
    tech = app.as_role("technician")
    assert app.client.get("/api/me", headers=tech).status_code == 200
    _later(app, 10 * 60)
    assert app.client.get("/api/me", headers=tech).status_code == 200, "active within the limit"
    _later(app, 15 * 60)
    assert app.client.get("/api/me", headers={**tech, **BACKGROUND}).status_code == 200
    _later(app, 2 * 60)  # 17 minutes since the last activity; the poll in between did not count
    refused = app.client.get("/api/me", headers={**tech, **BACKGROUND})
    assert refused.status_code == 401 and "without activity" in refused.json()["detail"]
    assert app.client.get("/api/me", headers=tech).status_code == 401, "stays ended, activity or not"
    assert app.client.post("/api/session", headers=tech).status_code == 200
    assert app.client.get("/api/me", headers=tech).status_code == 200, "signed in again"
    ended = [e for e in AuditTrail(app.engine).query(actor="technician.user") if e.outcome == "expired"]
    assert len(ended) == 2 and ended[0].detail["reason"] == "session idle for more than 16 minutes"


def test_feeds_are_not_sessions_and_a_new_token_starts_its_own(app: App) -> None:
    assert app.client.get("/api/me", headers=app.as_role("feed")).status_code == 200
    _later(app, 24 * 3600)
    assert app.client.get("/api/me", headers=app.as_role("feed")).status_code == 200
    assert app.client.get("/api/me", headers=app.as_role("admin")).status_code == 200, "first seen: starts now"
