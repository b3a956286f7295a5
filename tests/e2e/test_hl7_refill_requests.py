"""An HL7 order with no refills left: the ordering EHR is asked to renew it in HL7, at its own version (#29).

The sample outpatient RDE^O11 (no refills) enters through the MLLP door and is walked to dispensed; the patient
asks for a refill over the staff API, which is refused; the EHR's two receiving ports (v2.5.1 and v2.4) each
get the version's refill authorization request over real MLLP sockets, strictly valid, naming the patient,
order, drug and prescriber.
"""

from __future__ import annotations

import json
from pathlib import Path

from adapters.hl7.parsing import parse_message
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from hub.persistence.prescriptions import load_aggregate
from tests.conftest import make_settings
from tests.e2e.test_outbound_content import Receiver
from tests.support.events import EventSubscriber
from tests.support.hl7_strict import strict
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually
from tests.unit.hl7_outbound.pipeline import SAMPLE


def _outpatient_order() -> bytes:
    return SAMPLE.read_bytes().replace(b"PV1|1|I|4WEST^401^A", b"PV1|1|O").replace(b"||||I\r", b"||||O\r")


def _walk_to_dispensed(ph: Pharmacy, prescription_id: str, fill_number: int = 0) -> None:
    """Verify and hand over the current fill, whichever steps it needs (a refill may skip data verification)."""
    if fill_number == 0:
        r = ph.client("technician").post(
            "/api/inventory", json={"ndc": "00378020801", "lot": "LOT-H", "expiry": "2030-01-31", "quantity": "500"}
        )
        assert r.status_code == 202, r.text
    steps = {"data_verification": "data-verification", "product_verification": "product-verification"}
    while True:
        row = ph.wait_state(prescription_id, *steps, "ready", "dispensed", "claim_rejected")
        if row.state == "dispensed" and load_aggregate(row).current_fill.fill_number == fill_number:
            return
        if row.state in steps:
            r = ph.client("pharmacist").post(
                f"/api/prescriptions/{prescription_id}/{steps[row.state]}", json={"approve": True}
            )
            assert r.status_code == 202, r.text
            ph.wait_state(prescription_id, *(s for s in (*steps, "ready") if s != row.state), "dispensed")
        elif row.state == "claim_rejected":  # the plan says refill too soon: the patient pays cash
            r = ph.client("technician").post(
                f"/api/prescriptions/{prescription_id}/claim-resolution", json={"action": "cash"}
            )
            assert r.status_code == 202, r.text
            ph.wait_state(prescription_id, *steps, "ready")
        elif row.state == "ready":
            assert ph.client("technician").post(f"/api/prescriptions/{prescription_id}/dispense").status_code == 202
            ph.wait_state(prescription_id, "dispensed")


def test_a_refill_with_none_left_asks_the_ehr_in_hl7(amqp_url: str, sqlite_url: str, tmp_path: Path) -> None:
    current, older = Receiver(), Receiver()
    current.start()
    older.start()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "ehr",
                        "host": "127.0.0.1",
                        "port": current.port,
                        "version": "2.5.1",
                        "events": ["renewal.requested"],
                        "ack_timeout_s": 5,
                    },
                    {
                        "name": "ehr-old",
                        "host": "127.0.0.1",
                        "port": older.port,
                        "version": "2.4",
                        "facilities": ["EHR"],
                        "events": ["prescription.received", "renewal.requested"],
                        "ack_timeout_s": 5,
                    },
                ]
            }
        )
    )
    settings = make_settings(
        amqp_url,
        sqlite_url,
        outbound_destinations=config,
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="GRP1",
        payer_timeout_ms=3000,
    )
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(_outpatient_order())
        row = ph.by_placer("PLC1002")
        eventually(lambda: older.got(1), "the older port gets the order's acceptance")
        _walk_to_dispensed(ph, row.id)
        refill = ph.client("technician").post(f"/api/prescriptions/{row.id}/refill")
        assert refill.status_code == 409, refill.text
        (asked,) = eventually(lambda: current.got(1), "the EHR is asked to renew")
        accepted, asked_old = eventually(lambda: older.got(2), "the older port is asked too")

    strict(asked)
    strict(asked_old)
    request, request_old = parse_message(asked), parse_message(asked_old)
    assert parse_message(accepted).get("ORC", 1) == "SC"
    assert (request.header.message_type, request.header.trigger_event, request.header.structure) == (
        "RDE",
        "O25",
        "RDE_O11",
    )
    assert (request_old.header.trigger_event, request_old.get("ORC", 1)) == ("O11", "RF")
    for message in (request, request_old):
        assert message.get("ORC", 1) == "RF"
        assert (message.get("ORC", 2, 1), message.get("ORC", 3, 1)) == ("PLC1002", row.rx_number)
        assert (message.get("PID", 3, 1), message.get("PID", 5, 1), message.get("PID", 7)) == (
            "MRN10002",
            "Synthetic",
            "19550315",
        )
        assert (message.get("ORC", 12, 1), message.get("RXE", 2, 1)) == ("1234567893", "00378020801")
        assert (message.get("RXE", 3), message.get("RXE", 12), message.get("RXE", 16)) == ("1", "1", "0")
    assert request.header.control_id != request_old.header.control_id


def test_the_last_refill_handed_over_asks_for_a_renewal_once_configured(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    ehr = Receiver()
    ehr.start()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "ehr",
                        "host": "127.0.0.1",
                        "port": ehr.port,
                        "version": "2.6",
                        "events": ["renewal.requested"],
                        "ack_timeout_s": 5,
                    }
                ]
            }
        )
    )
    settings = make_settings(
        amqp_url,
        sqlite_url,
        outbound_destinations=config,
        renewal_at_last_refill=True,
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="GRP1",
        payer_timeout_ms=3000,
    )
    one_refill = _outpatient_order().replace(b"|30|TAB|0|", b"|30|TAB|1|")
    renewals = EventSubscriber(amqp_url, Topology(settings.broker_prefix).events_exchange, "renewal.requested")
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(one_refill)
        row = ph.by_placer("PLC1002")
        _walk_to_dispensed(ph, row.id)
        assert ehr.got(1) is None, "the original fill leaves a refill: nothing to ask yet"
        refill = ph.client("technician").post(f"/api/prescriptions/{row.id}/refill")
        assert refill.status_code == 202, refill.text
        _walk_to_dispensed(ph, row.id, fill_number=1)
        (asked,) = eventually(lambda: ehr.got(1), "the EHR is asked to renew once the last refill is out")
        renewals.collect(lambda events: len(events) >= 1)
        renewals.drain(quiet_s=1.0)
    renewals.close()
    assert [(e["data"]["trigger"], e["data"]["source"]) for e in renewals.events] == [("last-refill-dispensed", "hl7")]
    strict(asked)
    request = parse_message(asked)
    assert (request.header.trigger_event, request.get("ORC", 1), request.get("ORC", 3, 1)) == (
        "O25",
        "RF",
        row.rx_number,
    )
    assert (request.get("RXE", 12), request.get("RXE", 16)) == ("1", "0")
