"""What the hub sends an inpatient's EHR and ward cabinet for one real order: complete, strictly valid HL7.

The sample RDE^O11 (with an allergy) enters through the MLLP door; a pharmacist verifies it over the staff
API; the placer then discontinues it.  The cabinet (v2.4, encoded orders) and the EHR (v2.5.1) each receive
over real MLLP sockets what they need, every message passing hl7apy strict validation at its version.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from adapters.hl7.parsing import parse_message
from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings
from tests.support.hl7_strict import strict
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually
from tests.unit.hl7_outbound.pipeline import ALLERGY, SAMPLE

DISCONTINUE = (
    b"MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261126121500||RDE^O11^RDE_O11|RXH-DEMO-0002-DC|P|2.5.1\r"
    b"PID|1||MRN10002^^^GENHOSP^MR||Synthetic^Bob||19550315|M\r"
    b"ORC|DC|PLC1002^EHR|||||||20261126121500||||||||^Patient transferred\r"
)


class Receiver(threading.Thread):
    """A receiving system's MLLP port: acknowledges everything with AA and keeps what it got."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.messages: list[bytes] = []

    def run(self) -> None:
        conn, _ = self.server.accept()
        buf = b""
        while data := conn.recv(65536):
            buf += data
            while b"\x1c\r" in buf:
                frame, buf = buf.split(b"\x1c\r", 1)
                message = frame.lstrip(b"\x0b")
                self.messages.append(message)
                control = message.split(b"\r")[0].split(b"|")[9]
                conn.sendall(
                    b"\x0bMSH|^~\\&|RCV|HOSP|RXHUB|PHARMACY|20261126||ACK|A"
                    + control
                    + b"|P|2.5.1\rMSA|AA|"
                    + control
                    + b"\r\x1c\r"
                )

    def got(self, count: int) -> list[bytes] | None:
        return list(self.messages) if len(self.messages) >= count else None


def _order_with_allergy() -> bytes:
    segments = SAMPLE.read_bytes().rstrip(b"\r\n").split(b"\r")
    at = next(i for i, s in enumerate(segments) if s.startswith(b"PV1")) + 1
    return b"\r".join([*segments[:at], ALLERGY, *segments[at:]]) + b"\r"


def test_the_ward_cabinet_and_the_ehr_get_complete_valid_messages(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    ehr, cabinet = Receiver(), Receiver()
    ehr.start()
    cabinet.start()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "ehr",
                        "host": "127.0.0.1",
                        "port": ehr.port,
                        "version": "2.5.1",
                        "allergies": True,
                        "events": ["prescription.received", "prescription.verified", "prescription.cancelled"],
                        "ack_timeout_s": 5,
                    },
                    {
                        "name": "cabinet",
                        "host": "127.0.0.1",
                        "port": cabinet.port,
                        "version": "2.4",
                        "encoded_orders": True,
                        "settings": ["inpatient"],
                        "events": ["prescription.verified"],
                        "allergies": True,
                        "ack_timeout_s": 5,
                    },
                ]
            }
        )
    )
    settings = make_settings(amqp_url, sqlite_url, outbound_destinations=config)
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(_order_with_allergy())
        row = ph.by_placer("PLC1002")
        ph.wait_state(row.id, "data_verification")
        ph.client("pharmacist").post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True})
        eventually(lambda: cabinet.got(1), "the cabinet gets the verified order")
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(DISCONTINUE)
        to_cabinet = eventually(lambda: cabinet.got(2), "the cabinet gets the discontinue")
        to_ehr = eventually(lambda: ehr.got(3), "the EHR gets received, verified and discontinued")

    for message in to_cabinet + to_ehr:
        strict(message)
    new, stop = (parse_message(m) for m in to_cabinet)
    assert (new.header.structure, new.get("ORC", 1), stop.get("ORC", 1)) == ("RDE_O11", "NW", "DC")
    for parsed in (new, stop, *(parse_message(m) for m in to_ehr)):
        assert (parsed.get("PID", 5, 1), parsed.get("PID", 5, 2), parsed.get("PID", 7)) == (
            "Synthetic",
            "Bob",
            "19550315",
        )
        assert [parsed.get("PV1", 3, n) for n in (1, 2, 3)] == ["4WEST", "401", "A"]
        assert parsed.get("AL1", 3, 2) == "Penicillin"
        assert (parsed.get("ORC", 12, 1), parsed.get("ORC", 12, 2)) == ("1234567893", "Prescriber")
    assert (new.get("RXE", 2, 2), new.get("RXE", 3), new.get("RXE", 5), new.get("RXR", 1)) == (
        "Lisinopril 10 mg tablet",
        "1",
        "TAB",
        "PO",
    )
    assert (new.get("RXE", 1, 2), new.get("RXE", 7, 2), new.get("RXE", 10), new.get("RXE", 11)) == (
        "QD",
        "Take 1 tablet by mouth daily",
        "30",
        "TAB",
    )
    assert (new.get("RXE", 14, 1), new.get("RXE", 14, 13)) == ("RPH-12345", "LN"), "the pharmacist, by licence"
    assert [parse_message(m).get("ORC", 1) for m in to_ehr] == ["SC", "SC", "DR"], "the placer's DC answered DR"
    verified_feed, verified_cabinet = parse_message(to_ehr[1]), new
    assert verified_feed.header.control_id != verified_cabinet.header.control_id, "one MSH-10 per destination"
