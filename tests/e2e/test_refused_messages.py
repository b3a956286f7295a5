"""Issue 26, parts 2 and 6, end to end on SQLite and PostgreSQL: text the hub cannot store is refused at every
door before any positive answer, at the field that holds it; every refused message is in the message search
(by control id) and in the audit trail; and a corrected message resent under the same control id is taken.

HL7 goes over a real MLLP connection, FHIR and SCRIPT over real HTTP, the staff API too; a command that
carries a NUL past the doors (published by hand, signed) is dead-lettered as ``validation`` at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from hub.config import Settings
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, Source
from hub.entrypoints.mllp_client import MllpClient
from hub.entrypoints.runtime import topology_for
from hub.messaging.dead_letters import DeadLetterQueue
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.audit import AuditEntry, AuditTrail
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.signing import hub_keys, signed
from tests.support.waiting import eventually
from tests.unit.fhir.builders import medication_request

SENDER = "EHR|CLINIC"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def hub(amqp_url: str, database_url: str) -> Iterator[Pharmacy]:
    settings: Settings = make_settings(
        amqp_url, database_url, default_bin="999001", default_pcn="RXHUB", default_group="GRP1"
    )
    with pharmacy(settings) as ph:
        yield ph


def _rde(
    control_id: str,
    placer: str,
    *,
    name: str = "DOE^JANE",
    drug: str = "Amoxicillin 500 MG Oral Capsule",
    note: str = "Take with food",
    message_type: str = "RDE^O11^RDE_O11",
) -> bytes:
    segments = [
        f"MSH|^~\\&|{SENDER}|RXHUB|PHARMACY|20261201101500||{message_type}|{control_id}|P|2.5.1",
        f"PID|1||1234^^^^MR||{name}||19800101|F|||||555-0101",
        "PV1|1|O",
        f"ORC|NW|{placer}|||||||20261201101500|||1234567893^Prescriber^Paula^^^^^^NPI^^^^NPI",
        "TQ1|1||BID",
        f"RXE||00093005801^{drug}^NDC|1||CAP||^Take 1 capsule by mouth twice daily|||20|CAP|0||||||||||||||||||||"
        "20261120",
        f"NTE|1||{note}",
        "RXR|PO",
    ]
    return "\r".join(segments).encode() + b"\r"


def _segment(ack: bytes, name: str) -> list[str]:
    line = next(s for s in ack.decode().split("\r") if s.startswith(name))
    return line.split("|")


def _found(ph: Pharmacy, control_id: str, count: int = 1) -> list[dict[str, Any]]:
    """The message search's rows for a control id, once ``count`` are there."""
    with ph.client("admin") as admin:

        def rows() -> list[dict[str, Any]] | None:
            found = admin.get("/api/admin/messages", params={"control_id": control_id}).json()
            return found if len(found) >= count else None

        return eventually(rows, f"{count} message(s) under {control_id}")


def _receipts(ph: Pharmacy, actor: str, control_id: str) -> list[AuditEntry]:
    return [
        e
        for e in AuditTrail(ph.engine).query(actor=actor)
        if e.action == "receive message" and e.detail.get("control_id") == control_id
    ]


#: (what is changed, where the NUL goes, the ERL of the leaf that holds it)
NUL_PLACES = [
    ("PID-5 as a \\X00\\ escape", {"name": "DO\\X00\\E^JANE"}, "PID^1^5^1^1^1"),
    ("RXE-2 text as a raw byte", {"drug": "Amoxicillin\x00 500 MG Oral Capsule"}, "RXE^1^2^1^2^1"),
    ("NTE-3 as a raw byte", {"note": "Take with\x00food"}, "NTE^1^3^1^1^1"),
    ("ORC-2 as an escape", {"placer": "NUL\\X00\\4"}, "ORC^1^2^1^1^1"),
]


def test_hl7_nul_is_refused_at_its_field_and_every_refusal_is_found(hub: Pharmacy) -> None:
    run = uuid.uuid4().hex[:6]
    with MllpClient("127.0.0.1", hub.hub.mllp_port, timeout_s=20) as client:
        for index, (_, change, where) in enumerate(NUL_PLACES):
            control_id, placer = f"NUL-{run}-{index}", f"NUL-{run}-{index}"
            refused = client.send(_rde(control_id, **{"placer": placer, **change}))
            assert _segment(refused, "MSA")[1:3] == ["AE", control_id], refused
            err = _segment(refused, "ERR")
            assert err[2] == where and err[3].startswith("102^"), refused
            (row,) = _found(hub, control_id)
            assert (row["door"], row["outcome"], row["refused"]) == ("hl7", "AE", True)
            assert "U+0000" in row["reason"] and row["sender"] == f"hl7:{SENDER}"
            (entry,) = eventually(lambda c=control_id: _receipts(hub, f"hl7:{SENDER}", c) or None, "audited")
            assert (entry.outcome, entry.detail["answer"], entry.detail["claimed_sender"]) == ("error", "AE", SENDER)
            # the corrected message under the same control id is read afresh, taken, and kept (PostgreSQL too)
            taken = client.send(_rde(control_id, placer))
            assert _segment(taken, "MSA")[1] == "AA", taken
            assert hub.by_placer(placer).state
            assert [r["outcome"] for r in _found(hub, control_id, 2)] == ["AA", "AE"]
        # an AR: a message type the order port does not take
        control_id = f"AR-{run}"
        rejected = client.send(_rde(control_id, f"AR-{run}", message_type="RDS^O13^RDS_O13"))
        assert _segment(rejected, "MSA")[1] == "AR"
    (row,) = _found(hub, control_id)
    assert (row["outcome"], row["message_type"]) == ("AR", "RDS^O13")
    with hub.client("admin") as admin:
        story = admin.get(f"/api/admin/messages/{row['id']}", params={"raw": "true"}).json()
    assert story["refused"] and story["answer"].startswith("MSH|") and "MSA|AR" in story["answer"]
    assert story["raw"] == "" and story["raw_size"] > 0  # no data key: the body is not kept
    (entry,) = eventually(lambda: _receipts(hub, f"hl7:{SENDER}", control_id) or None, "the AR audited")
    assert entry.outcome == "refused"
    _settled_without_dead_letters(hub, [f"NUL-{run}-{n}" for n in range(len(NUL_PLACES))])


def _settled_without_dead_letters(ph: Pharmacy, placers: list[str]) -> None:
    """Every order taken went past intake (it left RECEIVED), and nothing was dead-lettered on the way."""
    for placer in placers:
        eventually(
            lambda p=placer: row if (row := ph.by_placer(p)).state != "received" else None, f"{placer} past intake"
        )
    assert DeadLetterQueue(ph.hub.settings.amqp_url.get_secret_value(), topology_for(ph.hub.settings)).depth() == 0


def _fhir(ph: Pharmacy, token: str) -> Any:
    import httpx

    return httpx.Client(
        base_url=f"http://127.0.0.1:{ph.hub.http_port}/fhir",
        timeout=20,
        headers={"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON},
    )


def test_fhir_nul_and_lone_surrogates_get_400_at_their_fhirpath_and_are_found(hub: Pharmacy) -> None:
    token = UserStore(hub.engine).add("ehr-fhir", "feed")[1]
    run = uuid.uuid4().hex[:6]
    order = medication_request(identifier=[{"system": "urn:example:ehr", "value": f"F-{run}"}])
    nul = {**order, "note": [{"text": "take with\x00food"}]}
    surrogate = {**order, "subject": {**order["subject"], "display": "Do\ud800e"}}
    with _fhir(hub, token) as fhir:
        # json.dumps writes both as \u escapes, as a client's JSON library would
        answers = [fhir.post("/MedicationRequest", content=json.dumps(bad).encode()) for bad in (nul, surrogate)]
        for answer, where in zip(
            answers, ["MedicationRequest.note[0].text", "MedicationRequest.subject.display"], strict=True
        ):
            assert answer.status_code == 400, answer.text
            (issue,) = answer.json()["issue"]
            assert (issue["code"], issue["expression"]) == ("value", [where]), issue
        rows = _found(hub, f"urn:example:ehr|F-{run}", 2)
        assert [(r["door"], r["outcome"], r["refused"]) for r in rows] == [("fhir", "400", True)] * 2
        assert {r["reason"].split(":")[0] for r in rows} == {
            "MedicationRequest.note[0].text",
            "MedicationRequest.subject.display",
        }
        entries = eventually(
            lambda: r if len(r := _receipts(hub, "feed:ehr-fhir", f"urn:example:ehr|F-{run}")) == 2 else None,
            "both audited",
        )
        assert {(e.outcome, e.detail["answer"]) for e in entries} == {("error", "400")}
        # corrected, the same order is created
        assert fhir.post("/MedicationRequest", content=json.dumps(order).encode()).status_code == 201
    _settled_without_dead_letters(hub, [f"F-{run}"])


def test_script_nul_gets_error_900_and_is_found_by_its_message_id(hub: Pharmacy) -> None:
    import httpx

    token = UserStore(hub.engine).add("erx-feed", "feed")[1]
    run = uuid.uuid4().hex[:6]
    good = messages.new_rx(f"S-{run}", f"SO-{run}")
    with httpx.Client(
        base_url=f"http://127.0.0.1:{hub.hub.http_port}",
        timeout=20,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    ) as http:
        for bad in (good.replace(b"<LastName>", b"<LastName>&#0;", 1), good.replace(b"Amoxicillin", b"Amox\x00", 1)):
            answer = http.post("/script", content=bad)
            assert answer.status_code == 200 and Answer.of(answer.content).code == "900", answer.text
        rows = _found(hub, f"S-{run}", 2)
        assert {(r["door"], r["outcome"], r["refused"]) for r in rows} == {("script", "900", True)}
        entries = eventually(
            lambda: r if len(r := _receipts(hub, "feed:erx-feed", f"S-{run}")) == 2 else None, "both audited"
        )
        assert {e.outcome for e in entries} == {"error"}
        taken = http.post("/script", content=good)
        assert Answer.of(taken.content).code == "010", taken.text
    _settled_without_dead_letters(hub, [f"SO-{run}"])


def test_a_nul_that_reaches_a_worker_is_a_validation_dead_letter_and_staff_get_422(hub: Pharmacy) -> None:
    settings = hub.hub.settings
    topology = topology_for(settings)
    command = ReceivePrescription(
        placer_order_number="HAND-1",
        placer_system="urn:hand",
        patient=PatientInfo(family_name="Do\x00e"),
        prescriber=PrescriberInfo(family_name="Prescriber", npi="1234567893"),
        drug=DrugInfo(ndc="00093005801", text="Amoxicillin 500 MG Oral Capsule"),
    )
    envelope = Envelope.wrap(
        command,
        correlation_id=order_correlation_id("urn:hand", "HAND-1", owner="hub"),
        source=Source.HL7,
        principal="hub",
    )
    url = settings.amqp_url.get_secret_value()
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().basic_publish(
            topology.commands_exchange, envelope.type, *signed(envelope, hub_keys(settings)), mandatory=True
        )
    finally:
        connection.close()
    dlq = DeadLetterQueue(url, topology)
    letter = eventually(
        lambda: next((x for x in dlq.list() if x.message_id == str(envelope.message_id)), None),
        "the dead letter",
        timeout_s=30,
    )
    assert letter.failure_kind == "validation" and "payload.patient.family_name" in letter.error
    verbal = {
        "patient": {"family_name": "Synth\u0000etic", "given_name": "Eve"},
        "prescriber": {"family_name": "Prescriber", "npi": "1234567893"},
        "drug": {"ndc": "00378020801"},
        "quantity": {"value": "30"},
        "sig": "one daily",
    }
    with hub.client("pharmacist") as staff:
        refused = staff.post("/api/verbal-orders", json=verbal)
    assert refused.status_code == 422 and "U+0000" in refused.text, refused.text


def test_an_over_size_frame_is_refused_and_kept_under_the_peer_address(hub: Pharmacy) -> None:
    limit = hub.hub.settings.mllp_max_frame_bytes
    big = f"BIG-{uuid.uuid4().hex[:6]}"
    huge = _rde(big, placer=big, note="x" * (limit + 1024))
    with MllpClient("127.0.0.1", hub.hub.mllp_port, timeout_s=30) as client:
        refused = client.send(huge)
    assert _segment(refused, "MSA")[1] == "AR", refused

    def entries() -> list[AuditEntry] | None:
        found = [
            e
            for e in AuditTrail(hub.engine).query(actor="address:127.0.0.1")
            if e.action == "receive message" and e.outcome == "refused" and "bytes" in e.detail.get("reason", "")
        ]
        return found or None

    (entry,) = eventually(entries, "the over-size frame's refusal audited")
    assert entry.detail["door"] == "hl7"


def test_a_batch_entry_refused_inside_its_200_is_found_by_its_own_order(hub: Pharmacy) -> None:
    token = UserStore(hub.engine).add("ehr-batch", "feed")[1]
    run = uuid.uuid4().hex[:6]
    good = medication_request(identifier=[{"system": "urn:example:ehr", "value": f"B-{run}-ok"}])
    bad = {
        **medication_request(identifier=[{"system": "urn:example:ehr", "value": f"B-{run}-bad"}]),
        "intent": "proposal",
    }  # a proposal is not an order: refused, the batch's other entry taken
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": r, "request": {"method": "POST", "url": "MedicationRequest"}} for r in (good, bad)],
    }
    with _fhir(hub, token) as fhir:
        answer = fhir.post("", content=json.dumps(bundle).encode())
    assert answer.status_code == 200, answer.text
    statuses = [e["response"]["status"].split(" ")[0] for e in answer.json()["entry"]]
    assert statuses[0] == "201" and statuses[1].startswith("4"), statuses
    (row,) = _found(hub, f"urn:example:ehr|B-{run}-bad")
    assert (row["door"], row["outcome"], row["refused"]) == ("fhir", statuses[1], True)
    assert row["reason"].startswith("Bundle.entry[1]")
    assert _found(hub, f"urn:example:ehr|B-{run}-ok")[0].get("refused") is not True
