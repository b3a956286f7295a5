"""Who sent it and who it is about, end to end: every door, two senders each, SQLite and PostgreSQL.

Each reproduction of issue 25 runs against the whole hub over real sockets: HL7 through python-hl7's
``MLLPClient`` (a client we did not write), FHIR through httpx and fhirpy, SCRIPT through httpx. Two
senders that reuse the same identifiers never share a patient, never cancel or read each other's orders,
and the audit names the principal the door authenticated, beside the sender the message claims.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import hl7.client
import httpx
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound
from sqlalchemy import select

from hub.config import Settings
from hub.persistence.audit import AuditTrail
from hub.persistence.database import read_connection
from hub.persistence.feeds import FeedStore
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate
from hub.persistence.tables import patients, prescriptions
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually

FHIR_JSON = "application/fhir+json"


def _rde(sender: str, control_id: str, placer: str, patient: str, *, control: str = "NW") -> bytes:
    """An RDE^O11 from ``sender`` (MSH-3|MSH-4) whose PID-3 is ``1234^^^^MR``: an MRN with no authority."""
    segments = [
        f"MSH|^~\\&|{sender}|RXHUB|PHARMACY|20261201101500||RDE^O11^RDE_O11|{control_id}|P|2.5.1",
        f"PID|1||1234^^^^MR||{patient}|||||||555-0101",
        "PV1|1|O",
        f"ORC|{control}|{placer}|||||||20261201101500|||1234567893^Prescriber^Paula^^^^^^NPI^^^^NPI",
        "TQ1|1||BID",
        "RXE||00093005801^Amoxicillin 500 MG Oral Capsule^NDC|1||CAP||^Take 1 capsule by mouth twice daily"
        "|||20|CAP|0||||||||||||||||||||20261120",
        "RXR|PO",
    ]
    return "\r".join(segments).encode() + b"\r"


JANE = "DOE^JANE||19800101|F"
JOHN = "SMITH^JOHN||19700101|M"


def _msa(ack: str) -> list[str]:
    line = next(s for s in ack.replace("\n", "\r").split("\r") if s.startswith("MSA"))
    return line.split("|")


def _orders(ph: Pharmacy, placer: str) -> list[PrescriptionRow]:
    with read_connection(ph.engine) as conn:
        rows = conn.execute(select(prescriptions.c.id).where(prescriptions.c.placer_order_number == placer)).all()
        repo = PrescriptionRepository(conn)
        return [row for r in rows if (row := repo.get(r.id)) is not None]


def _recorded(ph: Pharmacy, placer: str, count: int) -> list[PrescriptionRow]:
    return eventually(lambda: found if len(found := _orders(ph, placer)) >= count else None, f"{count} orders {placer}")


def _patient(ph: Pharmacy, patient_id: str) -> dict[str, Any]:
    with read_connection(ph.engine) as conn:
        document = conn.execute(select(patients.c.document).where(patients.c.id == patient_id)).scalar_one()
    return document if isinstance(document, dict) else json.loads(document)


def _audit(ph: Pharmacy, **query: Any) -> list[Any]:
    return AuditTrail(ph.engine).query(**query)


def _receipts(ph: Pharmacy, actor: str) -> list[Any]:
    """The "receive message" entries of ``actor``, once there is one: a door writes them after its answer."""
    return eventually(
        lambda: [e for e in _audit(ph, actor=actor) if e.action == "receive message"] or None, f"{actor}'s receipts"
    )


@pytest.fixture
def hub(amqp_url: str, database_url: str) -> Iterator[Pharmacy]:
    settings: Settings = make_settings(
        amqp_url, database_url, default_bin="999001", default_pcn="RXHUB", default_group="GRP1"
    )
    with pharmacy(settings) as ph:
        yield ph


def _mllp(ph: Pharmacy, raw: bytes) -> str:
    """Send one message with python-hl7's client; the ACK without its MLLP frame."""
    client = hl7.client.MLLPClient("127.0.0.1", ph.hub.mllp_port)
    try:
        ack: bytes = client.send_message(raw)
    finally:
        client.close()
    return ack.decode().strip("\x0b\x1c\r")


def test_two_hl7_senders_keep_their_patients_and_their_orders(hub: Pharmacy) -> None:
    ph = hub
    jane = _mllp(ph, _rde("EHR-NORTH|NORTHHOSP", "N-1", "ORD-77^EHR", JANE))
    john = _mllp(ph, _rde("EHR-SOUTH|SOUTHHOSP", "S-1", "ORD-77^EHR", JOHN))
    assert _msa(jane)[1] == _msa(john)[1] == "AA"
    north, south = sorted(_recorded(ph, "ORD-77", 2), key=lambda r: str(load_aggregate(r).owner))
    rx_north, rx_south = load_aggregate(north), load_aggregate(south)
    assert (rx_north.owner, rx_south.owner) == ("hl7:EHR-NORTH|NORTHHOSP", "hl7:EHR-SOUTH|SOUTHHOSP")
    # one MRN without an assigning authority, two senders: two people, and JANE's record is still JANE's
    assert rx_north.patient_id != rx_south.patient_id
    jane_record = _patient(ph, rx_north.patient_id)["info"]
    assert (jane_record["family_name"], jane_record["sex"], jane_record["birth_date"]) == ("DOE", "F", "1980-01-01")

    # the south feed cancels "its" ORD-77: its own order only; a cancel of an order it never sent is AE 204
    cancel = _mllp(ph, _rde("EHR-SOUTH|SOUTHHOSP", "S-2", "ORD-77^EHR", JOHN, control="CA"))
    assert _msa(cancel)[1] == "AA"
    ph.wait_state(south.id, "cancelled")
    foreign = _mllp(ph, _rde("EHR-SOUTH|SOUTHHOSP", "S-3", "ORD-NORTH-ONLY^EHR", JOHN, control="CA"))
    assert _msa(foreign)[1] == "AE" and "|204^" in foreign
    assert load_aggregate(_row(ph, north.id)).closed_reason is None

    # the audit names the principal the door authenticated, and the sender the message claimed beside it
    receipts = _receipts(ph, "hl7:EHR-NORTH|NORTHHOSP")
    assert receipts and all(e.detail["door"] == "hl7" for e in receipts)
    intake = [e for e in _audit(ph, prescription_id=north.id) if e.action == "receive"]
    assert [e.actor for e in intake] == ["hl7:EHR-NORTH|NORTHHOSP"]


def _row(ph: Pharmacy, prescription_id: str) -> PrescriptionRow:
    with read_connection(ph.engine) as conn:
        row = PrescriptionRepository(conn).get(prescription_id)
    assert row is not None
    return row


def test_a_bound_hl7_sender_is_its_feed_and_no_one_else_may_use_it(hub: Pharmacy) -> None:
    ph = hub
    FeedStore(ph.engine).add("ehr-north", [("hl7", "EHR-NORTH|NORTHHOSP")])
    ack = eventually(
        lambda: a if _msa(a := _mllp(ph, _rde("EHR-NORTH|NORTHHOSP", "B-1", "ORD-B1^EHR", JANE)))[1] == "AA" else None,
        "an AA for the bound sender",
    )
    (row,) = _recorded(ph, "ORD-B1", 1)
    assert load_aggregate(row).owner == "feed:ehr-north", ack
    receipts = _receipts(ph, "feed:ehr-north")
    assert receipts[-1].detail["claimed_sender"] == "EHR-NORTH|NORTHHOSP"


def test_fhir_feeds_see_and_change_only_their_own(hub: Pharmacy) -> None:
    ph = hub
    tokens = {name: UserStore(ph.engine).add(name, "feed")[1] for name in ("ehr-east", "ehr-west")}
    base = f"http://127.0.0.1:{ph.hub.http_port}/fhir"

    def client(name: str) -> httpx.Client:
        return httpx.Client(
            base_url=base,
            timeout=20,
            headers={"Authorization": f"Bearer {tokens[name]}", "Content-Type": FHIR_JSON, "Accept": FHIR_JSON},
        )

    # an order over MLLP: its placer identifier is what a FHIR feed would name
    assert _msa(_mllp(ph, _rde("EHR-NORTH|NORTHHOSP", "F-1", "ORD-F1^EHR", JANE)))[1] == "AA"
    (mllp_order,) = _recorded(ph, "ORD-F1", 1)
    with client("ehr-east") as east, client("ehr-west") as west:
        # a FHIR feed that never sent it cannot cancel it
        cancel = east.post("/MedicationRequest", json=_medication_request("ORD-F1", "EHR", status="cancelled"))
        assert cancel.status_code == 404, cancel.text
        assert cancel.json()["issue"][0]["code"] == "not-found"
        # two feeds, one subject "Patient/example": two patients
        made = {
            name: c.post("/MedicationRequest", json=_medication_request("RX-1", "urn:ehr:orders"))
            for name, c in (("ehr-east", east), ("ehr-west", west))
        }
        assert [r.status_code for r in made.values()] == [201, 201], [r.text for r in made.values()]
        east_id, west_id = made["ehr-east"].json()["id"], made["ehr-west"].json()["id"]
        assert east_id != west_id
        east_rx, west_rx = sorted(_recorded(ph, "RX-1", 2), key=lambda r: str(load_aggregate(r).owner))
        assert load_aggregate(east_rx).patient_id != load_aggregate(west_rx).patient_id

        # reads: a feed's own order and patient, never the other feed's (not found, not forbidden: no hint)
        assert (
            eventually(
                lambda: r if (r := east.get(f"/MedicationRequest/{east_id}")).status_code == 200 else None,
                "east reads its order",
            ).json()["id"]
            == east_id
        )
        assert west.get(f"/MedicationRequest/{east_id}").status_code == 404
        assert west.get(f"/MedicationRequest/{east_rx.id}").status_code == 404
        assert west.get(f"/MedicationRequest/{mllp_order.id}").status_code == 404
        east_patient = load_aggregate(east_rx).patient_id
        assert east.get(f"/Patient/{east_patient}").status_code == 200
        assert west.get(f"/Patient/{east_patient}").status_code == 404
        assert (
            west.get("/MedicationDispense", params={"prescription": f"MedicationRequest/{east_id}"}).json()["total"]
            == 0
        )

        # a conditional create naming the other feed's identifier creates the west feed's own order
        again = west.post(
            "/MedicationRequest",
            json=_medication_request("RX-2", "urn:ehr:orders"),
            headers={"If-None-Exist": "identifier=urn:ehr:orders|RX-1"},
        )
        assert again.status_code == 200 and again.json()["id"] == west_id, again.text
        other = east.post(
            "/MedicationRequest",
            json=_medication_request("RX-3", "urn:ehr:orders"),
            headers={"If-None-Exist": "identifier=RX-1"},
        )
        assert other.status_code == 200 and other.json()["id"] == east_id, other.text

    # fhirpy, a client we did not write, meets the same walls
    west_client = SyncFHIRClient(base, authorization=f"Bearer {tokens['ehr-west']}")
    with pytest.raises(ResourceNotFound):
        west_client.reference("MedicationRequest", east_id).to_resource()
    assert west_client.reference("MedicationRequest", west_id).to_resource()["id"] == west_id

    # the receipts name the feed that authenticated, not "system:fhir"
    receipts = _receipts(ph, "feed:ehr-east")
    assert receipts and all(e.detail["door"] == "fhir" for e in receipts)
    refused_reads = [e for e in _audit(ph, actor="ehr-west") if "MedicationRequest" in e.action]
    assert all(e.prescription_id != east_rx.id or e.outcome != "ok" for e in refused_reads)


def _medication_request(value: str, system: str, *, status: str = "active") -> dict[str, Any]:
    """An order whose subject is ``Patient/example``, as both feeds of the reproduction wrote it."""
    return {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "identifier": [{"system": system, "value": value}],
        "subject": {"reference": "Patient/example"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/sid/ndc",
                    "code": "00093005801",
                    "display": "Amoxicillin 500 MG Oral Capsule",
                }
            ]
        },
        "requester": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}},
        "authoredOn": "2026-12-01",
        "dosageInstruction": [{"text": "Take 1 capsule by mouth twice daily"}],
        "dispenseRequest": {"quantity": {"value": 20, "unit": "CAP"}},
    }


def test_script_senders_cancel_only_their_own_and_may_not_borrow_a_from(hub: Pharmacy) -> None:
    ph = hub
    users = UserStore(ph.engine)
    tokens = {name: users.add(name, "feed")[1] for name in ("erx-one", "erx-two")}
    FeedStore(ph.engine).add("erx-one", [("script", f"{messages.PRESCRIBER[0]}:{messages.PRESCRIBER[1]}")])
    base = f"http://127.0.0.1:{ph.hub.http_port}"

    def post(name: str, body: bytes) -> httpx.Response:
        return httpx.post(
            f"{base}/script",
            content=body,
            timeout=20,
            headers={"Authorization": f"Bearer {tokens[name]}", "Content-Type": "application/xml"},
        )

    accepted = eventually(
        lambda: (
            r
            if (r := post("erx-one", messages.new_rx("NEW-1", "ORD-S1"))).status_code == 200
            and Answer.of(r.content).code == "010"
            else None
        ),
        "NewRx accepted",
    )
    (row,) = _recorded(ph, "ORD-S1", 1)
    assert load_aggregate(row).owner == "feed:erx-one", accepted.text
    # the second feed writes the first feed's bound From: refused (Error 601, 403), audited, nothing published
    borrowed = post("erx-two", messages.cancel_rx("CAN-1", "ORD-S1"))
    assert borrowed.status_code == 403 and Answer.of(borrowed.content).code == "601", borrowed.text
    # the refusal's record and audit entry are written beside the answer, not before it
    refusals = eventually(
        lambda: [e for e in _audit(ph, actor="feed:erx-two") if e.outcome == "refused"] or None, "the refusal audited"
    )
    assert refusals[-1].detail["claimed_sender"] == "D:9988776655001"
    # with a From of its own, its CancelRx still names no order of its own: Error 900
    own_from = messages.cancel_rx("CAN-2", "ORD-S1").replace(b"9988776655001", b"1122334455001")
    unknown = post("erx-two", own_from)
    assert unknown.status_code == 200 and Answer.of(unknown.content).code == "900", unknown.text
    assert load_aggregate(_row(ph, row.id)).closed_reason is None
    receipts = _receipts(ph, "feed:erx-one")
    assert receipts and receipts[-1].detail["claimed_sender"] == "D:9988776655001"
