"""The whole demo flow with logs captured at INFO through the hub's handler, and /metrics scraped: no patient's
name, birth date, address, phone or record number from samples/hl7 reaches either."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.config import Settings
from hub.entrypoints import logs
from hub.entrypoints.demo import STOCK, _send_orders, _work
from hub.entrypoints.mllp_client import MllpClient
from hub.security.log_filter import redact
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "hl7"


def patient_details() -> set[str]:
    """Every PID name part, birth date (as sent and as ISO), address part, phone and MRN in the samples."""
    found: set[str] = set()
    for path in SAMPLES.glob("*.hl7"):
        for segment in path.read_text().replace("\n", "\r").split("\r"):
            if not segment.startswith("PID|"):
                continue
            fields = segment.split("|")
            found.add(fields[3].split("^")[0])
            found.update(part for part in fields[5].split("^") if len(part) > 1)
            found.add(fields[7])
            found.add(f"{fields[7][:4]}-{fields[7][4:6]}-{fields[7][6:8]}")
            if len(fields) > 11:
                found.update(part for part in fields[11].split("^") if len(part) > 2)
            if len(fields) > 13 and fields[13]:
                found.add(fields[13])
    return found


def leaks(text: str, details: set[str]) -> list[str]:
    return sorted(d for d in details if re.search(rf"(?<![A-Za-z0-9]){re.escape(d)}(?![A-Za-z0-9])", text))


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()} {record.exc_text or ''}")


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, Records]]:
    root = logging.getLogger()
    out, raw = io.StringIO(), Records()
    hub_handler = logs.handler(json_lines=True, stream=out)
    hub_handler.setLevel(logging.INFO)
    old_level = root.level
    root.addHandler(raw)  # before the hub's handler: sees what callers logged, before redaction
    root.addHandler(hub_handler)
    root.setLevel(logging.INFO)
    pika_level = logging.getLogger("pika").level
    logging.getLogger("pika").setLevel(logging.WARNING)  # as logs.configure does
    try:
        yield out, raw
    finally:
        root.removeHandler(hub_handler)
        root.removeHandler(raw)
        root.setLevel(old_level)
        logging.getLogger("pika").setLevel(pika_level)


def test_the_samples_hold_the_details_we_look_for() -> None:
    details = patient_details()
    assert {
        "Synthetic",
        "Alice",
        "19800101",
        "1980-01-01",
        "MRN10001",
        "12 Elm St",
        "Springfield",
        "555-0101",
    } <= details


def _drive(ph: Pharmacy) -> str:
    staff = {role: ph.client(role) for role in ("technician", "pharmacist")}
    for ndc, lot, expiry, qty in STOCK:
        staff["technician"].post(
            "/api/inventory", json={"ndc": ndc, "lot": lot, "expiry": expiry, "quantity": qty}
        ).raise_for_status()
    _send_orders(ph.hub)
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:  # unusual input: error paths log too
        bad = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes().replace(b"RDE^O11", b"ZZZ^Z99", 1)
        client.send(bad.replace(b"|P|", b"|P|", 1))
        client.send(
            b"MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|2026||RDE^O11|BROKEN1|P|2.5\rPID|1||MRN10001^^^GENHOSP^MR"
            b"||Synthetic^Alice^Q||19800101|F|||12 Elm St^^Springfield^IL^62701||555-0101\rRXE|broken\r"
        )
    assert _work(ph.hub, staff)
    admin = ph.client("admin")
    for row in admin.get("/api/admin/messages").json():
        assert admin.get(f"/api/admin/messages/{row['id']}", params={"raw": True}).status_code == 200
    ready = staff["technician"].get("/api/queues/ready").json()
    for item in ready:
        assert staff["pharmacist"].get(f"/api/prescriptions/{item['prescription_id']}").status_code == 200
        staff["technician"].post(f"/api/prescriptions/{item['prescription_id']}/dispense").raise_for_status()
    assert admin.get("/api/admin/audit", params={"format": "fhir"}).status_code == 200
    return httpx.get(f"http://127.0.0.1:{ph.hub.http_port}/metrics", timeout=20).text


def test_no_patient_detail_reaches_info_logs_or_metrics(
    amqp_url: str, tmp_path: Path, captured: tuple[io.StringIO, Records]
) -> None:
    settings: Settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="DEMO",
        payer_timeout_ms=5000,
    )
    with pharmacy(settings) as ph:
        metrics = _drive(ph)
    out, raw = captured
    details = patient_details()
    assert "rxhub_prescriptions" in metrics and len(out.getvalue().splitlines()) > 10
    assert leaks(out.getvalue(), details) == []
    assert leaks(metrics, details) == []
    # the filter is the second line: what callers log must already be free of patient details
    assert [line for line in raw.lines if leaks(line, details)] == []


def test_the_filter_redacts_bodies_that_slip_into_a_log_call(captured: tuple[io.StringIO, Records]) -> None:
    out, _ = captured
    log = logging.getLogger("tests.security.leaky")
    body = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    log.info("received %s", body)
    log.info("received %s", body.decode())
    log.warning("FHIR body %s", '{"resourceType": "Patient", "name": [{"family": "Synthetic"}]}')
    try:
        raise ValueError(f"cannot parse {body.decode()!r}")
    except ValueError:
        log.exception("parser failed")
    log.info("SCRIPT <Message><Patient><Name>Synthetic</Name></Patient></Message>")
    text = out.getvalue()
    assert len(text.splitlines()) >= 5 and "ValueError" in text
    assert leaks(text, patient_details()) == []
    assert "<" not in redact("<Patient>Alice</Patient>") and "Alice" not in redact("x PID|1||MRN^^^A||Alice")
