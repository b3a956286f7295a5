"""Claims against the simulated payer over RabbitMQ: lost answers, transient rejects, DUR, reversals."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator, SimAnswer
from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.tables import claim_transmissions
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "hl7"
AMOXICILLIN = SAMPLES / "01_rde_o11_retail_amoxicillin.hl7"


class LosesFirstAnswer(PayerSimulator):
    """A payer that decides (and pays) the first claim, but whose answer never comes back."""

    def answer(self, body: bytes) -> SimAnswer:
        decided = super().answer(body)
        if self._received == 1:
            return SimAnswer(None, decided.summary + "; answer lost")
        return decided


def _settings(amqp_url: str, sqlite_url: str, **kw: object) -> Settings:
    return make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=1500, retry_delay_ms=200, **kw)


def _order(ph: Pharmacy, path: Path = AMOXICILLIN, edit: tuple[bytes, bytes] | None = None) -> str:
    raw = path.read_bytes()
    if edit:
        raw = raw.replace(*edit)
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(raw)
    placer = raw.split(b"ORC|NW|")[1].split(b"^")[0].decode()
    return ph.by_placer(placer).id


def _ledger(ph: Pharmacy, pid: str) -> list[tuple[int, str, str | None]]:
    with ph.engine.connect() as conn:
        rows = conn.execute(
            select(claim_transmissions.c.attempt, claim_transmissions.c.transaction, claim_transmissions.c.status)
            .where(claim_transmissions.c.prescription_id == pid)
            .order_by(claim_transmissions.c.sent_at)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_lost_answer_is_reversed_before_one_resubmission(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings, simulator=LosesFirstAnswer(load_payer_config(settings.payer_sim_config))) as ph:
        pid = _order(ph)
        done = ph.wait_state(pid, "data_verification")
    claim = done.document["fills"][0]["claim"]
    assert claim["status"] == "paid" and claim["attempt"] == 2
    # paid-but-unanswered B1, its reversal approved, then one new B1 paid: billed once in the end
    assert _ledger(ph, pid) == [(1, "B1", "timeout"), (1, "B2", "A"), (2, "B1", "P")]


def test_claim_that_never_reached_a_payer_is_resent_without_a_reversal(amqp_url: str, sqlite_url: str) -> None:
    """No payer connector bound for the BIN: the broker refuses the claim, so it is known unsent."""
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings, payer_up=False) as ph:
        pid = _order(ph)
        deadline = time.monotonic() + 15
        while not (_ledger(ph, pid) and _resends(ph, pid) >= 1) and time.monotonic() < deadline:
            time.sleep(0.1)
        ph.start_payer()
        done = ph.wait_state(pid, "data_verification")
    assert done.document["fills"][0]["claim"]["attempt"] == 1
    assert _ledger(ph, pid) == [(1, "B1", "P")], "resent, never reversed"


def _resends(ph: Pharmacy, pid: str) -> int:
    with ph.engine.connect() as conn:
        return int(
            conn.execute(
                select(claim_transmissions.c.resends).where(claim_transmissions.c.prescription_id == pid)
            ).scalar_one()
        )


def test_transient_reject_is_resent_then_goes_to_the_technician(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings) as ph:
        pid = _order(ph, edit=(b"00093005801^Amoxicillin 500 MG Oral Capsule", b"00143978501^Metformin 500 MG"))
        rejected = ph.wait_state(pid, "claim_rejected", timeout_s=30)
        for wrong in ("-4.15", "4.155"):  # a refund is not a cash price; money has cents
            refused = ph.client("technician").post(
                f"/api/prescriptions/{pid}/claim-resolution", json={"action": "cash", "cash_amount": wrong}
            )
            assert refused.status_code == 422, (wrong, refused.text)
        r = ph.client("technician").post(f"/api/prescriptions/{pid}/claim-resolution", json={"action": "cash"})
        assert r.status_code == 202
        ph.wait_state(pid, "data_verification")
        with ph.engine.connect() as conn:
            resends = conn.execute(
                select(claim_transmissions.c.resends).where(claim_transmissions.c.prescription_id == pid)
            ).scalar_one()
    assert rejected.document["fills"][0]["claim"]["reject_codes"] == ["92"]
    assert resends == 3


def test_dur_reject_needs_a_pharmacist_to_override(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings) as ph:
        pid = _order(ph, edit=(b"00093005801^Amoxicillin 500 MG Oral Capsule", b"00054429725^Warfarin 5 MG"))
        ph.wait_state(pid, "claim_rejected")
        override = {
            "action": "resubmit",
            "dur_pps": {"reason_for_service": "DD", "professional_service": "M0", "result_of_service": "1G"},
        }
        assert (
            ph.client("technician").post(f"/api/prescriptions/{pid}/claim-resolution", json=override).status_code == 403
        )
        assert (
            ph.client("pharmacist").post(f"/api/prescriptions/{pid}/claim-resolution", json=override).status_code == 202
        )
        done = ph.wait_state(pid, "data_verification")
    assert done.document["fills"][0]["claim"]["dur_pps"]["result_of_service"] == "1G"


def test_return_to_stock_reverses_the_paid_claim_and_restores_stock(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        tech.post("/api/inventory", json={"ndc": "00093005801", "lot": "L1", "expiry": "2030-01-01", "quantity": "100"})
        pid = _order(ph)
        ph.wait_state(pid, "data_verification")
        rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True})
        ph.wait_state(pid, "product_verification")
        rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True})
        ph.wait_state(pid, "ready")
        back = tech.post(f"/api/prescriptions/{pid}/return-to-stock", json={"reason": "not picked up"})
        assert back.status_code == 202
        ph.wait_state(pid, "returned_to_stock")
        deadline = time.monotonic() + 20
        while _ledger(ph, pid)[-1][1:] != ("B2", "A") and time.monotonic() < deadline:
            time.sleep(0.1)
        stock = tech.get("/api/inventory").json()
        final = ph.wait_state(pid, "returned_to_stock")
    assert _ledger(ph, pid)[-1][1:] == ("B2", "A")
    assert final.document["fills"][0]["claim"]["status"] == "reversed"
    assert [(Decimal(s["on_hand"]), Decimal(s["reserved"])) for s in stock] == [(Decimal(100), Decimal(0))]
