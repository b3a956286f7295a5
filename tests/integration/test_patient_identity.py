"""Patient matching that cannot merge two people (issue 25), through the intake handler on a real database.

Identifiers match within their authority only, an identifier without one within its sender; demographics that
conflict open an identity conflict instead of merging; a change that agrees is applied and audited with its
sender (docs/patient-matching.md).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Identifier, PatientInfo, Source
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import identity_conflicts, patient_identifiers, patients, prescriptions
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_redelivery import order_for_tests

#: PID-3 ``1234^^^^MR``: a medical record number without an assigning authority
BARE_MRN = Identifier(value="1234", type_code="MR")
JANE = PatientInfo(identifiers=(BARE_MRN,), family_name="DOE", given_name="JANE", birth_date=date(1980, 1, 1), sex="F")
JOHN = PatientInfo(
    identifiers=(BARE_MRN,), family_name="SMITH", given_name="JOHN", birth_date=date(1970, 1, 1), sex="M"
)


@dataclass
class Intake:
    engine: Engine
    bus: MessageBus

    def envelope(self, patient: PatientInfo, principal: str | None, *, source: Source = Source.HL7) -> Envelope:
        placer = f"ORD-{uuid.uuid4().hex[:10]}"
        order = order_for_tests().model_copy(update={"placer_order_number": placer, "patient": patient})
        assert isinstance(order, ReceivePrescription)
        return Envelope.wrap(
            order,
            correlation_id=order_correlation_id("EHR", placer),
            source=source,
            message_id=uuid.uuid4(),
            principal=principal,
        )

    def order(self, patient: PatientInfo, principal: str | None, *, source: Source = Source.HL7) -> str:
        """Take one order; the patient id it was given."""
        envelope = self.envelope(patient, principal, source=source)
        self.bus.handle(envelope)
        return self.patient_of(envelope)

    def patient_of(self, envelope: Envelope) -> str:
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(prescriptions.c.patient_id).where(
                        prescriptions.c.correlation_id == str(envelope.correlation_id)
                    )
                ).scalar_one()
            )

    def profile(self, patient_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            document = conn.execute(select(patients.c.document).where(patients.c.id == patient_id)).scalar_one()
        return dict(document)

    def conflicts(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(identity_conflicts)).mappings()]

    def audit(self, action: str) -> list[Any]:
        return [e for e in AuditTrail(self.engine).query(limit=10_000) if e.action == action]


@pytest.fixture
def intake(database_url: str, amqp_url: str) -> Iterator[Intake]:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    yield Intake(engine, MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake"))
    engine.dispose()


def _with(info: PatientInfo, **changes: Any) -> PatientInfo:
    return info.model_copy(update=changes)


def test_the_same_number_of_two_authorities_is_two_patients(intake: Intake) -> None:
    north = intake.order(
        _with(JANE, identifiers=(Identifier(value="1234", system="NORTH", type_code="MR"),)), "feed:north"
    )
    south = intake.order(
        _with(JANE, identifiers=(Identifier(value="1234", system="SOUTH", type_code="MR"),), birth_date=None),
        "feed:north",
    )
    assert north != south
    assert intake.conflicts() == []


def test_the_same_number_of_one_authority_with_agreeing_demographics_is_one_patient(intake: Intake) -> None:
    hosp = Identifier(value="1234", system="HOSP", type_code="MR")
    first = intake.order(_with(JANE, identifiers=(hosp,)), "feed:north")
    # another feed, the same authority; the sex unknown and the name in other letters agree
    again = intake.order(
        _with(
            JANE,
            identifiers=(hosp, Identifier(value="X9", system="CLINIC")),
            family_name="Doe",
            given_name="Jane",
            sex="U",
        ),
        "feed:south",
    )
    assert again == first
    profile = intake.profile(first)["info"]
    assert (profile["family_name"], profile["sex"]) == ("DOE", "F")
    assert [i["value"] for i in profile["identifiers"]] == ["1234", "X9"]
    assert intake.audit("patient-demographics-changed") == [] and intake.conflicts() == []


@pytest.mark.parametrize(
    ("identifier", "principals"),
    [
        (BARE_MRN, ("hl7:NORTH-EHR|NORTH", "hl7:SOUTH-EHR|SOUTH")),
        # FHIR: subject Patient/example, stored as an identifier without a system
        (Identifier(value="Patient/example", type_code="fhir-reference"), ("feed:north", "feed:south")),
    ],
    ids=["hl7", "fhir"],
)
def test_two_senders_numbers_without_authority_never_merge_two_people(
    intake: Intake, identifier: Identifier, principals: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    jane_order = _with(JANE, identifiers=(identifier,))
    with caplog.at_level(logging.DEBUG):
        jane = intake.order(jane_order, principals[0])
        john = intake.order(_with(JOHN, identifiers=(identifier,)), principals[1])
    assert jane != john
    profile = intake.profile(jane)["info"]
    assert (profile["family_name"], profile["given_name"], profile["birth_date"], profile["sex"]) == (
        "DOE",
        "JANE",
        "1980-01-01",
        "F",
    ), "JANE's profile is unchanged"
    assert intake.conflicts() == [], "two senders' local numbers are not even a conflict"
    # the same sender again finds JANE by her number
    assert intake.order(jane_order, principals[0]) == jane
    with intake.engine.connect() as conn:
        systems = conn.execute(select(patient_identifiers.c.system, patient_identifiers.c.patient_id)).all()
        document = json.loads(
            conn.execute(select(prescriptions.c.document).where(prescriptions.c.patient_id == john)).scalar_one()
        )
    assert sorted(systems) == sorted(
        [(f"urn:rxhub:sender:{principals[0]}", jane), (f"urn:rxhub:sender:{principals[1]}", john)]
    )
    assert document["patient_identifiers"] == [identifier.model_dump(mode="json")], "quoted back as sent"
    assert "SMITH" not in caplog.text and "1970" not in caplog.text


def test_a_batch_reads_its_scoped_candidates_once(intake: Intake) -> None:
    jane = intake.order(JANE, "hl7:NORTH|A")
    other = _with(JOHN, identifiers=(Identifier(value="777", type_code="MR"),), family_name="BROWN")
    batch = [
        intake.envelope(JANE, "hl7:NORTH|A"),
        intake.envelope(JOHN, "hl7:SOUTH|B"),
        intake.envelope(other, "hl7:NORTH|A"),
    ]
    reads: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "patient_identifiers" in statement:
            reads.append(statement)

    event.listen(intake.engine, "before_cursor_execute", listen)
    try:
        assert intake.bus.handle_batch(batch) == [None, None, None]
    finally:
        event.remove(intake.engine, "before_cursor_execute", listen)
    assert len(reads) == 1, "the batch's candidates, scoped to their senders, read in one statement"
    found = list(map(intake.patient_of, batch))
    assert found[0] == jane and len(set(found)) == 3
    assert intake.profile(jane)["info"]["family_name"] == "DOE" and intake.conflicts() == []


def test_one_sender_one_number_conflicting_demographics_open_a_conflict(
    intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    jane = intake.order(JANE, "feed:north")
    with caplog.at_level(logging.DEBUG):
        john = intake.order(JOHN, "feed:north")
    assert john != jane
    assert intake.profile(jane)["info"]["family_name"] == "DOE"
    [item] = intake.conflicts()
    assert (item["new_patient_id"], item["existing_patient_id"], item["status"]) == (john, jane, "open")
    assert (item["identifier_system"], item["identifier_value"]) == ("urn:rxhub:sender:feed:north", "1234")
    assert item["fields"] == ["birth_date", "sex", "name"]
    assert (item["source"], item["principal"], item["decided_by"]) == ("hl7", "feed:north", None)
    [opened] = intake.audit("identity-conflict-opened")
    assert opened.patient_id == john and opened.detail["fields"] == ["birth_date", "sex", "name"]
    assert "SMITH" not in json.dumps(opened.detail) and "1970" not in json.dumps(opened.detail)
    assert "SMITH" not in caplog.text and "1970" not in caplog.text and "birth_date, sex, name" in caplog.text
    # JOHN's next order finds the profile the conflict gave him, without a second conflict
    assert intake.order(JOHN, "feed:north") == john
    assert len(intake.conflicts()) == 1


def test_a_change_that_agrees_is_applied_and_audited_with_its_sender(intake: Intake) -> None:
    jane = intake.order(JANE, "feed:north")
    assert intake.order(_with(JANE, family_name="ROE"), "feed:north") == jane
    assert intake.profile(jane)["info"]["family_name"] == "ROE"
    [changed] = intake.audit("patient-demographics-changed")
    assert changed.patient_id == jane
    assert changed.detail["principal"] == "feed:north" and changed.detail["door"] == "hl7"
    assert changed.detail["changes"] == [{"field": "family_name", "old": "DOE", "new": "ROE"}]
    # the name candidates follow the change: by name and birth date alone, the new name finds her
    assert intake.order(_with(JANE, identifiers=(), family_name="Roe"), "feed:south") == jane
    assert intake.conflicts() == []
