"""Claims complete for the payer sheet, end to end (issue 33, part 2): what an HL7 order's B1 carries on the wire,
a payer sheet that stops an incomplete claim before it is sent, and 420-DK codes a technician picks."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from adapters.ncpdp.d0 import ClaimRequest, parse_request, read_claim_request
from adapters.ncpdp.payer.config import PayerConfig, load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator, SimAnswer
from hub.config import DATA_DIR, Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.prescriptions import PrescriptionRow
from hub.persistence.tables import claim_transmissions
from tests.conftest import make_settings
from tests.support import staff
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually

AMOXICILLIN = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
HYDROCODONE = (b"00093005801^Amoxicillin 500 MG Oral Capsule", b"00591040501^Hydrocodone APAP 5-325 MG")
NOT_COVERED = (b"00093005801^Amoxicillin 500 MG Oral Capsule", b"00074336813^Adalimumab 40 MG")


class RecordingPayer(PayerSimulator):
    """The simulated payer, keeping every claim it received as the typed request it read."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        self.received: list[ClaimRequest] = []

    def answer(self, body: bytes) -> SimAnswer:
        self.received.append(read_claim_request(parse_request(body)))
        return super().answer(body)


def _settings(amqp_url: str, sqlite_url: str, **kw: object) -> Settings:
    return make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=5000, **kw)


def _order(ph: Pharmacy, edit: tuple[bytes, bytes] | None = None) -> str:
    raw = AMOXICILLIN.read_bytes()
    if edit:
        raw = raw.replace(*edit)
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(raw)
    return ph.by_placer(raw.split(b"ORC|NW|")[1].split(b"^")[0].decode()).id


def _rejected_again(ph: Pharmacy, pid: str) -> PrescriptionRow | None:
    row = ph.wait_state(pid, "claim_rejected", "claim_pending")
    return row if row.state == "claim_rejected" and row.document["fills"][0]["claim"]["attempt"] == 2 else None


def test_hl7_order_bills_origin_unit_and_awp_costs(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph)
        paid = ph.wait_state(pid, "data_verification")
    [b1] = payer.received
    claim = b1.transactions[0].claim
    quantity = Decimal(paid.document["fills"][0]["quantity"])
    assert claim.origin_code == "3"  # an HL7 order is electronic
    assert (claim.unit_of_measure, claim.other_coverage_code) == ("EA", "1")
    assert claim.dispensing_status is None  # a complete fill
    pricing = b1.transactions[0].pricing
    assert pricing is not None
    awp = Decimal("0.275")  # hub/data/drug-catalogue.json, amoxicillin; the shipped sheet prices 999001 on AWP
    assert (pricing.ingredient_cost, pricing.dispensing_fee, pricing.basis_of_cost) == (
        (awp * quantity).quantize(Decimal("0.01")),
        Decimal("1.75"),
        "01",
    )
    assert pricing.gross_amount_due == pricing.ingredient_cost + Decimal("1.75")
    assert pricing.usual_and_customary == (Decimal("0.22") * quantity).quantize(Decimal("0.01"))


def test_incomplete_claim_is_not_sent_and_names_the_missing_field(
    amqp_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    sheets = json.loads((DATA_DIR / "payer-sheets.json").read_text())
    sheets["sheets"][0]["required"].append("other_coverage_code")
    del sheets["sheets"][0]["other_coverage_code"]
    path = tmp_path / "payer-sheets.json"
    path.write_text(json.dumps(sheets))
    settings = _settings(amqp_url, sqlite_url, payer_sheets_path=path)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph)
        stopped = ph.wait_state(pid, "claim_rejected")
        queue = ph.client("technician").get("/api/queues/claim-exceptions").json()
        with ph.engine.connect() as conn:
            sent = conn.execute(select(claim_transmissions).where(claim_transmissions.c.prescription_id == pid)).all()
    claim = stopped.document["fills"][0]["claim"]
    assert claim["reject_codes"] == ["PS"]
    assert "308-C8 Other Coverage Code" in claim["payer_message"]
    [item] = [i for i in queue if i["prescription_id"] == pid]
    assert item["detail"]["reject_texts"]["PS"].startswith("Not sent")
    assert sent == [] and payer.received == []


def test_technician_clarification_codes_reach_the_payer(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph, edit=NOT_COVERED)
        ph.wait_state(pid, "claim_rejected")
        tech = ph.client("technician")
        url = f"/api/prescriptions/{pid}/claim-resolution"
        unknown = tech.post(url, json={"action": "resubmit", "clarification_codes": ["42"]})
        queue = tech.get("/api/queues/claim-exceptions").json()
        accepted = tech.post(url, json={"action": "resubmit", "clarification_codes": ["3", "07"]})
        again = eventually(lambda: _rejected_again(ph, pid), "the resubmitted claim rejected again")
    assert unknown.status_code == 422
    [item] = [i for i in queue if i["prescription_id"] == pid]
    assert item["detail"]["clarification_choices"]["03"] == "Vacation supply"
    assert accepted.status_code == 202
    assert again.document["fills"][0]["claim"]["clarification_codes"] == ["03", "07"]
    assert [r.transactions[0].claim.submission_clarification_codes for r in payer.received] == [(), ("03", "07")]


def test_schedule_ii_claim_carries_quantity_prescribed(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph, edit=HYDROCODONE)
        ph.wait_state(pid, "data_verification", "claim_rejected")
    [b1] = payer.received
    claim = b1.transactions[0].claim
    assert claim.product_id == "00591040501"
    assert claim.quantity_prescribed == Decimal("20")  # RXE-10 of the order


def test_verbal_order_is_billed_as_a_telephone_prescription(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        staff.order(ph, staff.verbal(), state="claim_rejected")  # the payer's 07: no cardholder id
    [b1] = payer.received
    assert b1.transactions[0].claim.origin_code == "2"
    assert b1.transactions[0].claim.quantity_prescribed == Decimal("30")
