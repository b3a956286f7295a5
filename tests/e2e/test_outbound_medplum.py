"""A receiver the team did not write: Medplum's Hl7Server (@medplum/hl7) as the EHR's MLLP port.

The hub's status updates for the sample inpatient order reach it over a real socket; Medplum parses them,
answers with its own ACK (which the hub must match to its MSH-10 to move on), and reports what it read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually
from tests.unit.hl7_outbound.pipeline import SAMPLE

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
PROBES = [
    ["PID", 5, 1],
    ["PID", 5, 2],
    ["PID", 8, 1],
    ["PV1", 3, 1],
    ["PV1", 3, 3],
    ["ORC", 1, 1],
    ["ORC", 5, 1],
    ["ORC", 12, 1],
    ["ORC", 12, 2],
]


@contextmanager
def medplum_receiver() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The Node.js Hl7Server; yields its port and the list its reports are appended to."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@medplum" / "hl7").is_dir():
        pytest.skip("Node.js or tests/node/node_modules missing: run scripts/ensure-node-tools.sh")
    process = subprocess.Popen(
        [node, "hl7-receiver.mjs", json.dumps(PROBES)],
        cwd=NODE_DIR,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    port = json.loads(process.stdout.readline())["port"]
    reports: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=lambda: reports.extend(json.loads(line) for line in process.stdout or ()), daemon=True
    )
    reader.start()
    try:
        yield port, reports
    finally:
        process.stdin.close()
        process.wait(timeout=20)
        reader.join(5)


def test_medplums_hl7_server_reads_and_acknowledges_the_hubs_status_updates(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    with medplum_receiver() as (port, reports):
        config = tmp_path / "destinations.json"
        config.write_text(
            json.dumps(
                {
                    "destinations": [
                        {
                            "name": "ehr",
                            "host": "127.0.0.1",
                            "port": port,
                            "version": "2.5.1",
                            "ack_timeout_s": 5,
                            "events": ["prescription.received", "prescription.verified"],
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
            # the second is sent only once Medplum's ACK of the first matched (one message in flight)
            got = eventually(lambda: list(reports) if len(reports) >= 2 else None, "Medplum receives both updates")
    assert [r["type"] for r in got] == ["ORM^O01", "ORM^O01"]
    assert len({r["control"] for r in got}) == 2, "each update once, none resent for want of a matching ACK"
    for report, status in zip(got, ("SC", "IP"), strict=True):
        read = report["read"]
        assert (read["PID-5.1"], read["PID-5.2"], read["PID-8.1"]) == ("Synthetic", "Bob", "M")
        assert (read["PV1-3.1"], read["PV1-3.3"]) == ("4WEST", "A")
        assert (read["ORC-1.1"], read["ORC-5.1"]) == ("SC", status)
        assert (read["ORC-12.1"], read["ORC-12.2"]) == ("1234567893", "Prescriber")
