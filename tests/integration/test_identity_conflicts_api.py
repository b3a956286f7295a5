"""The technicians' identity conflict queue over the real HTTP app: list, link, keep apart, audited, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from hub.domain.order_parts import Identifier, PatientInfo
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import patients, prescriptions
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_patient_identity import JANE, JOHN, Intake
from tests.security.http_app import App, http_app

ANN = PatientInfo(
    identifiers=(Identifier(value="5678", type_code="MR"),),
    family_name="LEE",
    given_name="ANN",
    birth_date=date(1990, 5, 5),
    sex="F",
)
BOB = ANN.model_copy(update={"family_name": "KIM", "given_name": "BOB", "birth_date": date(1960, 6, 6), "sex": "M"})


@pytest.fixture
def hub(database_url: str, amqp_url: str) -> Iterator[tuple[App, Intake]]:
    settings = make_settings(amqp_url, database_url, default_bin="999001", auth_failure_limit=100_000)
    engine = make_engine(database_url)
    create_schema(engine)
    intake = Intake(engine, MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake"))
    with http_app(settings) as app:
        yield app, intake
    engine.dispose()


def _conflicts(app: App, status: str = "open", role: str = "technician") -> list[dict[str, object]]:
    answer = app.client.get("/api/identity-conflicts", params={"status": status}, headers=app.as_role(role))
    assert answer.status_code == 200, answer.text
    items = answer.json()
    assert isinstance(items, list)
    return items


def _decide(app: App, conflict_id: object, decision: str, role: str = "technician") -> tuple[int, dict[str, object]]:
    answer = app.client.post(
        f"/api/identity-conflicts/{conflict_id}/decision",
        headers=app.as_role(role),
        json={"decision": decision, "reason": "checked with the clinic"},
    )
    return answer.status_code, answer.json()


def test_a_technician_links_two_profiles_once_and_the_link_is_audited(hub: tuple[App, Intake]) -> None:
    app, intake = hub
    jane = intake.order(JANE, "feed:north")
    john = intake.order(JOHN, "feed:north")
    [item] = _conflicts(app)
    assert item["fields"] == ["birth_date", "sex", "name"]
    assert item["identifier"] == {"value": "1234", "system": None, "type_code": None}, "shown as the sender gave it"
    new, existing = item["new_patient"], item["existing_patient"]
    assert isinstance(new, dict) and isinstance(existing, dict)
    assert (existing["patient_id"], existing["family_name"], existing["birth_date"], existing["sex"]) == (
        jane,
        "DOE",
        "1980-01-01",
        "F",
    )
    assert (new["patient_id"], new["family_name"], new["birth_date"], new["sex"]) == (john, "SMITH", "1970-01-01", "M")
    assert new["identifiers"] == [{"value": "1234", "system": None, "type_code": "MR"}]

    status, decided = _decide(app, item["id"], "link")
    assert status == 200, decided
    assert (decided["status"], decided["decided_by"], decided["reason"]) == (
        "linked",
        "technician.user",
        "checked with the clinic",
    )
    with intake.engine.connect() as conn:
        moved = conn.execute(select(prescriptions.c.id, prescriptions.c.patient_id, prescriptions.c.document)).all()
        merged_into = conn.execute(select(patients.c.merged_into).where(patients.c.id == john)).scalar_one()
    assert {pid for _, pid, _ in moved} == {jane}, "every prescription now the existing patient's"
    assert {(json.loads(d)["patient_id"], json.loads(d)["patient_name"]) for _, _, d in moved} == {(jane, "JANE DOE")}
    assert merged_into == jane and intake.profile(john)["merged_into"] == jane, "kept, marked merged"
    assert intake.profile(jane)["info"]["family_name"] == "DOE"

    entries = AuditTrail(intake.engine).query(actor="technician.user", limit=1000)
    [link] = [e for e in entries if e.action == "identity-conflict-link"]
    assert (link.role, link.patient_id, link.detail["reason"]) == ("technician", jane, "checked with the clinic")
    john_rx = {rx for rx, _, _ in moved} - set(link.detail["prescriptions"])
    assert len(link.detail["prescriptions"]) == 1 and len(john_rx) == 1
    assert {e.prescription_id for e in entries if e.action == "patient-linked"} == set(link.detail["prescriptions"])

    assert _decide(app, item["id"], "keep_apart")[0] == 409, "decided once"
    assert _decide(app, item["id"], "link", role="pharmacist")[0] == 409
    assert _conflicts(app) == [] and [i["id"] for i in _conflicts(app, "linked")] == [item["id"]]
    # JOHN's next order is JANE's profile now (the linked demographics are an alias), with no new conflict
    assert intake.order(JOHN, "feed:north") == jane
    assert _conflicts(app) == [] and intake.profile(jane)["info"]["sex"] == "F"


def test_keep_apart_closes_the_item_and_changes_no_profile(hub: tuple[App, Intake]) -> None:
    app, intake = hub
    ann = intake.order(ANN, "hl7:NORTH|A")
    bob = intake.order(BOB, "hl7:NORTH|A")
    [item] = _conflicts(app, role="admin")
    status, decided = _decide(app, item["id"], "keep_apart", role="pharmacist")
    assert status == 200, decided
    assert (decided["status"], decided["decided_by"]) == ("kept_apart", "pharmacist.user")
    assert intake.profile(bob)["merged_into"] is None and intake.profile(ann)["aliases"] == []
    with intake.engine.connect() as conn:
        owners = dict(conn.execute(select(prescriptions.c.patient_id, prescriptions.c.patient_id)).all())
    assert set(owners) == {ann, bob}
    [entry] = [
        e
        for e in AuditTrail(intake.engine).query(actor="pharmacist.user", limit=1000)
        if e.action == "identity-conflict-keep_apart"
    ]
    assert entry.detail["new_patient_id"] == bob and entry.detail["existing_patient_id"] == ann
    assert _decide(app, item["id"], "link")[0] == 409
    assert [i["id"] for i in _conflicts(app, "kept_apart")] == [item["id"]] and _conflicts(app) == []
    # BOB's next order is BOB's profile
    assert intake.order(BOB, "hl7:NORTH|A") == bob and _conflicts(app) == []


def test_unknown_items_and_decisions_are_refused(hub: tuple[App, Intake]) -> None:
    app, _ = hub
    assert _decide(app, "no-such-item", "link")[0] == 404
    answer = app.client.post(
        "/api/identity-conflicts/x/decision",
        headers=app.as_role("technician"),
        json={"decision": "merge", "reason": "x"},
    )
    assert answer.status_code == 422
    answer = app.client.get("/api/identity-conflicts", params={"status": "closed"}, headers=app.as_role("admin"))
    assert answer.status_code == 422
    assert app.client.get("/api/identity-conflicts", headers=app.as_role("feed")).status_code == 403
