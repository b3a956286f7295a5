"""Issue 26, part 5: an order refused at intake after its positive answer reaches its sender and the staff.

A second order under a placer number its sender already has an order under is answered positively at the
door (the door cannot tell it apart from a new order) and refused at intake. Over real sockets, on SQLite
and PostgreSQL:

* HL7 enhanced mode (MSH-15 AL, MSH-16 AL/ER): the commit ACK says CA, then an application reject (RRE^O12,
  MSA AE quoting the order message's MSH-10, ERR 205, ORC-1 UA) reaches the placer's receiving port;
* FHIR: a feed whose order lost to the same identifier sent over MLLP reads MedicationRequest/{id} and sees
  the refusal (a meta.tag on the order that holds the id), with httpx and fhirpy;
* SCRIPT: the prescriber gets an Error 900 relating to the refused NewRx, on the script-out queue;
* staff find every refusal in GET /api/refused-orders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hl7
import httpx
import pytest
from fhirpy import SyncFHIRClient

from hub.config import Settings
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.envelope import order_correlation_id
from hub.persistence.database import create_schema, make_engine
from hub.persistence.feeds import FeedStore
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.e2e.script import messages
from tests.e2e.script.support import Answer, script_feed, script_responder
from tests.e2e.test_outbound_wiring import Receiver
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
REFUSAL_SYSTEM = "urn:rxhub:fhir:order-refusal"
FHIR_JSON = "application/fhir+json"


def _order(control: str, msh16: str, *, placer: str = "PLC1001^EHR", sender: str = "EHR|GENHOSP") -> bytes:
    """The sample RDE^O11 in enhanced mode (MSH-15 AL) under another control id, sender and placer number."""
    lines = SAMPLE.read_bytes().split(b"\r")
    msh = lines[0].split(b"|")
    msh += [b""] * (17 - len(msh))
    msh[2], msh[3] = (part.encode() for part in sender.split("|"))
    msh[9], msh[14], msh[15] = control.encode(), b"AL", msh16.encode()
    lines[0] = b"|".join(msh)
    return b"\r".join(line.replace(b"ORC|NW|PLC1001^EHR|", f"ORC|NW|{placer}|".encode()) for line in lines)


def _refused(ph: Pharmacy, count: int) -> list[dict[str, Any]]:
    """The staff queue once it lists ``count`` refusals."""
    with ph.client("technician") as staff:
        return eventually(
            lambda: found if len(found := staff.get("/api/refused-orders").json()) >= count else None,
            f"{count} refused order(s) listed",
        )


@pytest.fixture
def placer_port(amqp_url: str, database_url: str, tmp_path: Path) -> Iterator[tuple[Pharmacy, Receiver]]:
    """A hub whose outbound destination is the placer's own receiving port, answering application ACKs."""
    receiver = Receiver()
    receiver.start()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "placer",
                        "host": "127.0.0.1",
                        "port": receiver.port,
                        "version": "2.5.1",
                        "events": ["prescription.received"],
                        "application_acks": True,
                        "ack_timeout_s": 5,
                    }
                ]
            }
        )
    )
    settings = make_settings(amqp_url, database_url, outbound_destinations=config)
    with pharmacy(settings) as ph:
        yield ph, receiver


def test_hl7_enhanced_mode_duplicate_gets_an_application_reject(placer_port: tuple[Pharmacy, Receiver]) -> None:
    ph, receiver = placer_port
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        first = client.send(_order("ENH-DUP-1", "AL"))
        holder = ph.by_placer("PLC1001")
        second = client.send(_order("ENH-DUP-2", "ER"))
    assert b"MSA|CA|ENH-DUP-1" in first and b"MSA|CA|ENH-DUP-2" in second, "both committed: the door cannot tell"
    eventually(lambda: True if len(receiver.messages) >= 2 else None, "two application ACKs")
    answers = {str(m.segment("MSA")[2]): m for m in (hl7.parse(text) for text in receiver.messages)}
    accepted, rejected = answers["ENH-DUP-1"], answers["ENH-DUP-2"]
    assert str(accepted.segment("MSA")[1]) == "AA"
    assert str(rejected.segment("MSH")[9]) == "RRE^O12^RRE_O12"
    assert str(rejected.segment("MSA")[1]) == "AE", "the application reject quotes the refused message"
    assert str(rejected.segment("ERR")[3]) == "205^Duplicate key identifier^HL70357"
    assert f"already held by Rx {holder.rx_number}" in str(rejected.segment("ERR")[8])
    assert (str(rejected.segment("ORC")[1]), str(rejected.segment("ORC")[2])) == ("UA", "PLC1001^EHR")

    [item] = _refused(ph, 1)
    assert (item["source"], item["owner"], item["code"], item["control_id"], item["held_by"]) == (
        "hl7",
        "hl7:EHR|GENHOSP",
        "duplicate-order",
        "ENH-DUP-2",
        holder.id,
    )
    assert ph.wait_state(holder.id, "claim_rejected", "data_verification", "needs_product").id == holder.id


def test_an_order_that_asked_for_no_application_ack_gets_none_but_staff_see_it(
    placer_port: tuple[Pharmacy, Receiver],
) -> None:
    ph, receiver = placer_port
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        client.send(_order("SU-DUP-1", "SU", placer="PLC-SU^EHR"))
        ph.by_placer("PLC-SU")
        client.send(_order("SU-DUP-2", "SU", placer="PLC-SU^EHR"))
        [item] = _refused(ph, 1)
        client.send(_order("SU-NEXT", "AL", placer="PLC-NEXT^EHR"))  # its AA comes after anything owed before it
    assert item["control_id"] == "SU-DUP-2"
    eventually(lambda: True if len(receiver.messages) >= 2 else None, "the AAs of the first and the next")
    answers = [(str(m.segment("MSA")[1]), str(m.segment("MSA")[2])) for m in map(hl7.parse, receiver.messages)]
    assert answers == [("AA", "SU-DUP-1"), ("AA", "SU-NEXT")], "SU: success only, no reject"


def test_a_fhir_order_refused_after_its_201_shows_the_refusal_when_read(amqp_url: str, database_url: str) -> None:
    """The feed sent the same order number over MLLP and over FHIR; intake keeps the first (MLLP) order."""
    settings: Settings = make_settings(amqp_url, database_url)
    engine = make_engine(database_url)
    create_schema(engine)
    FeedStore(engine).add("ehr", [("hl7", "EHR|GENHOSP")])
    _, token = UserStore(engine).add("ehr", "feed")
    engine.dispose()
    order = _medication_request("PLC-X", "EHRORD")
    with running_hub(settings, with_workers=False) as doors:  # no intake yet: both orders wait on the queue
        with MllpClient("127.0.0.1", doors.mllp_port) as client:
            assert b"MSA|CA|" in client.send(_order("X-1", "ER", placer="PLC-X^EHRORD"))
        created = httpx.post(
            f"http://127.0.0.1:{doors.http_port}/fhir/MedicationRequest",
            json=order,
            headers={"Authorization": f"Bearer {token}", "Accept": FHIR_JSON},
        )
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert resource_id == str(order_correlation_id("EHRORD", "PLC-X", owner="feed:ehr")), "one identity, one id"

    with pharmacy(settings) as ph:
        holder = ph.by_placer("PLC-X")
        [item] = _refused(ph, 1)
        base = f"http://127.0.0.1:{ph.hub.http_port}/fhir"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}", "Accept": FHIR_JSON}) as http:
            read = http.get(f"/MedicationRequest/{resource_id}")
        fhirpy_read = (
            SyncFHIRClient(base, authorization=f"Bearer {token}")
            .reference("MedicationRequest", resource_id)
            .to_resource()
        )
    assert (item["source"], item["owner"], item["held_by"]) == ("fhir", "feed:ehr", holder.id)
    assert read.status_code == 200, read.text
    view = read.json()
    assert view["status"] == "active", "the order the pharmacy holds under this id is the MLLP one"
    [tag] = [t for t in view["meta"]["tag"] if t["system"] == REFUSAL_SYSTEM]
    assert tag["code"] == "duplicate-order" and "refused: duplicate order" in tag["display"]
    assert [t["code"] for t in fhirpy_read["meta"]["tag"] if t["system"] == REFUSAL_SYSTEM] == ["duplicate-order"]


def _medication_request(value: str, system: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
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
        "authoredOn": "2026-11-20",
        "dosageInstruction": [{"text": "Take 1 capsule by mouth twice daily"}],
        "dispenseRequest": {"quantity": {"value": 20, "unit": "CAP"}},
    }


def test_a_script_new_rx_refused_after_its_010_gets_an_error_900(amqp_url: str, database_url: str) -> None:
    settings = make_settings(amqp_url, database_url)
    with script_feed(settings) as feed, script_responder(feed.ph) as out:
        assert Answer.of(feed.post(messages.new_rx("NEW-D1", "ORD-D1")).content).code == "010"
        feed.ph.by_placer("ORD-D1")
        second = Answer.of(feed.post(messages.new_rx("NEW-D2", "ORD-D1")).content)
        sent = out.next()
        [item] = _refused(feed.ph, 1)
    assert (second.kind, second.code) == ("Status", "010"), "the door could not tell"
    error = Answer.of(sent.body)
    assert (sent.kind, sent.to) == ("Error", f"{messages.PRESCRIBER[0]}:{messages.PRESCRIBER[1]}")
    assert (error.kind, error.code, error.relates_to) == ("Error", "900", "NEW-D2")
    assert (error.to, error.from_) == (messages.PRESCRIBER[1], messages.PHARMACY[1])
    assert error.description is not None and error.description.startswith("refused: duplicate order")
    assert (item["source"], item["placer_order_number"]) == ("script", "ORD-D1")
