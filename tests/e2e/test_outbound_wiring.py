"""The hub's outbound HL7 senders, wired from settings: an order's events reach a real MLLP receiver."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import hl7

from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "02_rde_o11_inpatient_lisinopril.hl7"


class Receiver(threading.Thread):
    """An EHR's MLLP port that acknowledges everything with AA and keeps what it got."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.messages: list[str] = []

    def run(self) -> None:
        conn, _ = self.server.accept()
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\x1c\r" in buf:
                frame, buf = buf.split(b"\x1c\r", 1)
                text = frame.lstrip(b"\x0b").decode()
                self.messages.append(text)
                control = text.split("\r")[0].split("|")[9]
                ack = f"MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261126||ACK|A{control}|P|2.5.1\rMSA|AA|{control}\r"
                conn.sendall(b"\x0b" + ack.encode() + b"\x1c\r")


def test_received_and_verified_reach_the_placer_as_hl7_status_updates(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    receiver = Receiver()
    receiver.start()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "ehr",
                        "host": "127.0.0.1",
                        "port": receiver.port,
                        "version": "2.5.1",
                        "events": ["prescription.received", "prescription.verified"],
                        "ack_timeout_s": 5,
                    }
                ]
            }
        )
    )
    settings = make_settings(amqp_url, sqlite_url, outbound_destinations=config)
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(SAMPLE.read_bytes())
        row = ph.by_placer("PLC1002")
        ph.wait_state(row.id, "data_verification")
        ph.client("pharmacist").post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True})
        ph.wait_state(row.id, "filling", "product_verification")
        import time

        deadline = time.monotonic() + 20
        while len(receiver.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        status = subprocess.run(
            [sys.executable, "-m", "hub.entrypoints.cli", "outbound", "status"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "RXHUB_AMQP_URL": amqp_url,
                "RXHUB_BROKER_PREFIX": settings.broker_prefix,
                "RXHUB_OUTBOUND_DESTINATIONS": str(config),
            },
        )
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("ehr") and "backlog=0" in status.stdout
    assert len(receiver.messages) == 2
    parsed = [hl7.parse(m) for m in receiver.messages]
    orc = [p.segment("ORC") for p in parsed]
    assert [str(o[1]) for o in orc] == ["SC", "SC"]
    assert [str(o[5]) for o in orc] == ["SC", "IP"]
    assert all(str(o[2]).startswith("PLC1002") for o in orc)
    assert all("MRN10002" in str(p.segment("PID")) for p in parsed), "PID carries the patient's MRN"


def test_an_order_that_asks_for_an_application_ack_gets_rre_o12(amqp_url: str, sqlite_url: str, tmp_path: Path) -> None:
    receiver = Receiver()
    receiver.start()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "ehr-acks",
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
    settings = make_settings(amqp_url, sqlite_url, outbound_destinations=config)
    order = SAMPLE.read_bytes().split(b"\r")
    msh = order[0].split(b"|")
    msh += [b""] * (17 - len(msh))
    msh[9], msh[14], msh[15] = b"ENH-APP-1", b"AL", b"AL"  # MSH-10, MSH-15 accept ack, MSH-16 application ack
    order[0] = b"|".join(msh)
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            commit = client.send(b"\r".join(order))
        import time

        deadline = time.monotonic() + 20
        while not receiver.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    assert b"MSA|CA|ENH-APP-1" in commit, "the commit ACK first"
    [answer] = receiver.messages
    parsed = hl7.parse(answer)
    assert str(parsed.segment("MSH")[9]) == "RRE^O12^RRE_O12"
    assert str(parsed.segment("MSA")[2]) == "ENH-APP-1", "the application ACK quotes the order message"
    assert str(parsed.segment("ORC")[1]) == "OK"
