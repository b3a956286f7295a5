"""Partial fills and completions through the running hub, its workers and the simulated payer (issue 33, part 5).

The part is billed again as 343-HD P (442-E7 the part, 344-HF/345-HG the whole), picked, labelled and picked
up; when stock comes a technician starts the completion, billed C on the same Rx and fill number, with its own
label and pickup. A schedule II rest past its 21 CFR 1306.13 deadline is refused with the rule and the date.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from adapters.ncpdp.payer.config import PayerConfig, load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator, SimAnswer
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.claim_reconciliation import reconcile
from hub.persistence.tables import claim_transmissions
from tests.e2e.test_claims import AMOXICILLIN as ORDER
from tests.e2e.test_claims import _order, _settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually
from tests.unit.claims_complete.test_encoded_fields import raw_fields

AMOXICILLIN = "00093005801"
HYDROCODONE = (b"00093005801^Amoxicillin 500 MG Oral Capsule", b"00591040501^Hydrocodone APAP 5-325 MG")


class RecordingPayer(PayerSimulator):
    """The simulated payer, keeping the bytes of every claim it received."""

    def __init__(self, config: PayerConfig) -> None:
        super().__init__(config)
        self.bodies: list[bytes] = []

    def answer(self, body: bytes) -> SimAnswer:
        self.bodies.append(body)
        return super().answer(body)


def _fills(ph: Pharmacy, pid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        ph.client("pharmacist").get(f"/api/prescriptions/{pid}").json()["prescription"]["fills"]
    )
    return found


def _stock(tech: httpx.Client, quantity: str, lot: str, ndc: str = AMOXICILLIN) -> None:
    delivery = {"ndc": ndc, "lot": lot, "expiry": "2030-01-01", "quantity": quantity}
    assert tech.post("/api/inventory", json=delivery).status_code == 202


def _approve_data(ph: Pharmacy, pid: str) -> None:
    """The pharmacist approves data verification, answering any blocking alert of the current fill."""
    rph = ph.client("pharmacist")
    row = ph.wait_state(pid, "data_verification")
    fill_number = row.document["fills"][-1]["fill_number"]
    blocking = [
        [a["alert_id"], "reviewed"]
        for a in row.document["alerts"]
        if a["severity"] == "high" and a["override"] is None and a["fill_number"] in (None, fill_number)
    ]
    answer = rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True, "overrides": blocking})
    assert answer.status_code == 202, answer.text


def _release_and_sell(ph: Pharmacy, pid: str) -> None:
    rph, tech = ph.client("pharmacist"), ph.client("technician")
    ph.wait_state(pid, "product_verification")
    assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
    ph.wait_state(pid, "ready")
    assert tech.post(f"/api/prescriptions/{pid}/dispense").status_code == 202
    ph.wait_state(pid, "dispensed")


def _choose_partial(ph: Pharmacy, pid: str, requested_by: str = "pharmacy") -> None:
    eventually(lambda: _fills(ph, pid)[-1]["short_stock"], "the short stock shown on the fill")
    choice = {"choice": "partial", "reason": "wholesaler back-order", "requested_by": requested_by}
    assert ph.client("technician").post(f"/api/prescriptions/{pid}/short-stock", json=choice).status_code == 202


def _cii_order(ph: Pharmacy, written: date) -> str:
    """The amoxicillin sample made a hydrocodone (CII) order written on ``written``."""
    raw = ORDER.read_bytes().replace(*HYDROCODONE).replace(b"|20261120", b"|" + written.strftime("%Y%m%d").encode())
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(raw)
    return ph.by_placer(raw.split(b"ORC|NW|")[1].split(b"^")[0].decode()).id


def _ledger(ph: Pharmacy, pid: str) -> list[tuple[int, str, str | None]]:
    c = claim_transmissions.c
    with ph.engine.connect() as conn:
        rows = conn.execute(
            select(c.attempt, c.transaction, c.status).where(c.prescription_id == pid).order_by(c.sent_at)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_partial_fill_billed_p_then_its_rest_billed_c_each_labelled_and_sold(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        tech = ph.client("technician")
        _stock(tech, "8", "L1")
        pid = _order(ph)  # 20 capsules
        _approve_data(ph, pid)
        _choose_partial(ph, pid)
        ph.wait_state(pid, "claim_pending", "data_verification")
        _approve_data(ph, pid)  # the payer's answer to the part, reviewed like any claim's
        _release_and_sell(ph, pid)
        refill = tech.post(f"/api/prescriptions/{pid}/refill")  # asking for the rest is never a new fill
        assert refill.status_code == 409 and "12 of fill 0" in refill.text and "/completion" in refill.text
        _stock(tech, "50", "L2")
        key = {"Idempotency-Key": f"complete-{pid}"}
        started = tech.post(f"/api/prescriptions/{pid}/completion", headers=key)
        assert started.status_code == 202, started.text
        eventually(lambda: len(_fills(ph, pid)) == 2 or None, "the completion started")
        retried = tech.post(f"/api/prescriptions/{pid}/completion", headers=key)  # its answer was lost, say
        assert (retried.status_code, retried.json()) == (202, started.json()), "a retry gets its first answer"
        _approve_data(ph, pid)
        _release_and_sell(ph, pid)
        part, rest = _fills(ph, pid)
        again = tech.post(f"/api/prescriptions/{pid}/completion")
        ledger = _ledger(ph, pid)
    assert again.status_code == 409 and "not a picked-up partial fill" in again.text
    assert (part["fill_number"], rest["fill_number"]) == (0, 0)
    assert (part["dispensing_status"], rest["dispensing_status"]) == ("P", "C")
    assert (Decimal(part["quantity_dispensed"]), Decimal(part["owed"])) == (8, 12)
    assert (Decimal(rest["quantity_dispensed"]), Decimal(rest["owed"])) == (12, 0)
    assert (Decimal(part["label"]["quantity"]), Decimal(rest["label"]["quantity"])) == (8, 12)
    assert part["state"] == rest["state"] == "dispensed"
    assert ledger == [(1, "B1", "P"), (2, "B3", "P"), (3, "B1", "P")]
    whole, billed_part, billed_rest = (raw_fields(b, "07") for b in payer.bodies)
    assert [b[8:10] for b in payer.bodies] == [b"B1", b"B3", b"B1"]
    assert "HD" not in whole and whole["E7"] == ["20000"]
    assert billed_part["D2"] == billed_rest["D2"] == whole["D2"]
    assert billed_part["D3"] == billed_rest["D3"] == ["0"]
    assert (billed_part["HD"], billed_part["E7"], billed_part["HF"]) == (["P"], ["8000"], ["20000"])
    assert (billed_rest["HD"], billed_rest["E7"], billed_rest["HF"]) == (["C"], ["12000"], ["20000"])
    assert billed_part["HG"] == billed_rest["HG"] == whole["D5"]
    days = int(whole["D5"][0])
    assert int(billed_part["D5"][0]) + int(billed_rest["D5"][0]) == days


def test_schedule_ii_rest_past_its_deadline_is_refused_with_the_rule(amqp_url: str, sqlite_url: str) -> None:
    """Asked for by the patient: 30 days from the date written, which this order is long past at pickup."""
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings) as ph:
        tech = ph.client("technician")
        _stock(tech, "8", "C1", ndc="00591040501")
        pid = _cii_order(ph, written=date.today() - timedelta(days=40))
        _approve_data(ph, pid)
        _choose_partial(ph, pid, requested_by="patient")
        _approve_data(ph, pid)
        _release_and_sell(ph, pid)
        _stock(tech, "50", "C2", ndc="00591040501")
        refused = tech.post(f"/api/prescriptions/{pid}/completion")
        fills = _fills(ph, pid)
    assert refused.status_code == 409
    assert "30 days of the date written" in refused.text and "21 CFR 1306.13" in refused.text
    assert len(fills) == 1 and Decimal(fills[0]["owed"]) == 12


def _cii_order_as(ph: Pharmacy, written: date, placer: bytes) -> str:
    """Another hydrocodone order of the sample, under its own placer number and control id."""
    raw = ORDER.read_bytes().replace(*HYDROCODONE).replace(b"|20261120", b"|" + written.strftime("%Y%m%d").encode())
    raw = raw.replace(b"PLC1001", placer).replace(b"RXH-DEMO-0001", b"RXH-" + placer)
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(raw)
    return ph.by_placer(placer.decode()).id


def test_an_ltcf_patients_rest_keeps_60_days_recorded_by_a_pharmacist_only(amqp_url: str, sqlite_url: str) -> None:
    """21 CFR 1306.13(b): 40 days after writing the rest is still dispensable (not past 61 days), in portions; a
    technician cannot record the designation."""
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        outcomes: dict[str, Any] = {}
        pids = []
        for days, placer in ((40, b"PLCLTC1"), (61, b"PLCLTC2")):
            _stock(tech, "8", f"C{days}", ndc="00591040501")
            pid = _cii_order_as(ph, date.today() - timedelta(days=days), placer)
            pids.append(pid)
            _approve_data(ph, pid)
            eventually(lambda pid=pid: _fills(ph, pid)[-1]["short_stock"], "the short stock shown on the fill")
            choice = {
                "choice": "partial",
                "reason": "LTCF unit",
                "requested_by": "patient",
                "designation": "LTCF patient",
            }
            outcomes.setdefault("tech", []).append(tech.post(f"/api/prescriptions/{pid}/short-stock", json=choice))
            assert rph.post(f"/api/prescriptions/{pid}/short-stock", json=choice).status_code == 202
            _approve_data(ph, pid)
            _release_and_sell(ph, pid)
        _stock(tech, "50", "C2", ndc="00591040501")
        within, late = pids
        part = _fills(ph, within)[0]
        refused = tech.post(f"/api/prescriptions/{late}/completion")
        accepted = tech.post(f"/api/prescriptions/{within}/completion", json={"portion": "4"})
        assert accepted.status_code == 202, accepted.text
        eventually(lambda: len(_fills(ph, within)) == 2 or None, "the second portion started")
        _approve_data(ph, within)
        _release_and_sell(ph, within)
        assert tech.post(f"/api/prescriptions/{within}/completion").status_code == 202
        eventually(lambda: len(_fills(ph, within)) == 3 or None, "the last portion started")
        _approve_data(ph, within)
        _release_and_sell(ph, within)
        portions = _fills(ph, within)
        billed = [raw_fields(b, "07") for b in payer.bodies]
    assert [r.status_code for r in outcomes["tech"]] == [403, 403]
    assert part["partial"]["designation"] == "LTCF patient" and part["partial"]["decided_by"] is not None
    assert [f["dispensing_status"] for f in portions] == ["P", "P", "C"]
    assert [Decimal(f["quantity_dispensed"]) for f in portions] == [8, 4, 8]
    assert [Decimal(f["owed"]) for f in portions] == [12, 8, 0]
    rx_number = billed[-1]["D2"]
    mine = [b for b in billed if b["D2"] == rx_number]
    assert [(b.get("HD"), b["E7"], b.get("HF")) for b in mine[-3:]] == [
        (["P"], ["8000"], ["20000"]),
        (["P"], ["4000"], ["20000"]),
        (["C"], ["8000"], ["20000"]),
    ]
    assert "EN" not in mine[-3] and mine[-2]["EN"] == mine[-1]["EN"] == rx_number
    assert refused.status_code == 409 and "60 days of the date written" in refused.text
    assert "'LTCF patient'" in refused.text


def test_a_completion_reversed_while_its_part_stays_paid_reconciles(amqp_url: str, sqlite_url: str) -> None:
    """The rest is returned to stock (its C reversed, B2): the payer still holds the part (P) paid, as the hub
    does, so ``rxhub claims reconcile`` finds nothing to report."""
    settings = _settings(amqp_url, sqlite_url)
    with pharmacy(settings) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        _stock(tech, "8", "L1")
        pid = _order(ph)
        _approve_data(ph, pid)
        _choose_partial(ph, pid)
        ph.wait_state(pid, "claim_pending", "data_verification")
        _approve_data(ph, pid)
        _release_and_sell(ph, pid)
        _stock(tech, "50", "L2")
        assert tech.post(f"/api/prescriptions/{pid}/completion").status_code == 202
        eventually(lambda: len(_fills(ph, pid)) == 2 or None, "the completion started")
        _approve_data(ph, pid)
        ph.wait_state(pid, "product_verification")
        assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
        ph.wait_state(pid, "ready")
        assert tech.post(f"/api/prescriptions/{pid}/return-to-stock", json={"reason": "never came"}).status_code == 202
        eventually(lambda: _fills(ph, pid)[-1]["claim"]["status"] == "reversed" or None, "the rest's claim reversed")
        part, rest = _fills(ph, pid)
        found = reconcile(ph.engine)
        ledger = _ledger(ph, pid)
    assert ledger == [(1, "B1", "P"), (2, "B3", "P"), (3, "B1", "P"), (3, "B2", "A")]
    assert (part["claim"]["status"], rest["claim"]["status"]) == ("paid", "reversed")
    assert found == []


def test_a_closed_partial_is_reversed_billed_whole_for_what_was_dispensed_and_refillable(
    amqp_url: str, sqlite_url: str
) -> None:
    """The patient declines the rest: B2 of the P claim, then a B1 for the 8 dispensed with no 343-HD; nothing
    is owed, the audit names the technician, and a refill is taken again."""
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        tech, rph = ph.client("technician"), ph.client("pharmacist")
        _stock(tech, "8", "L1")
        pid = _order(ph, edit=(b"|20|CAP|0|", b"|20|CAP|2|"))  # 20 capsules, two refills
        _approve_data(ph, pid)
        _choose_partial(ph, pid)
        ph.wait_state(pid, "claim_pending", "data_verification")
        _approve_data(ph, pid)
        _release_and_sell(ph, pid)
        assert tech.post(f"/api/prescriptions/{pid}/refill").status_code == 409, "12 still owed"
        closed = tech.post(f"/api/prescriptions/{pid}/completion/close", json={"reason": "patient declined the rest"})
        assert closed.status_code == 202, closed.text
        eventually(lambda: (_fills(ph, pid)[0]["claim"] or {}).get("status") == "paid" or None, "the whole billed")
        eventually(lambda: len(payer.bodies) == 4 or None, "four claims at the payer")
        bodies = list(payer.bodies)
        (part,) = _fills(ph, pid)
        ledger = _ledger(ph, pid)
        found = reconcile(ph.engine)
        audit = rph.get(f"/api/prescriptions/{pid}").json()["audit"]
        again = tech.post(f"/api/prescriptions/{pid}/completion/close", json={"reason": "twice"})
        refill = tech.post(f"/api/prescriptions/{pid}/refill")
        eventually(lambda: len(_fills(ph, pid)) == 2 or None, "the refill started")
    assert closed.status_code == 202 and again.status_code == 409
    assert refill.status_code == 202, refill.text
    assert ledger == [(1, "B1", "P"), (2, "B3", "P"), (2, "B2", "A"), (3, "B1", "P")]
    assert [b[8:10] for b in bodies] == [b"B1", b"B3", b"B2", b"B1"]
    billed_part, reversal, whole = (raw_fields(b, "07") for b in bodies[1:])
    assert (reversal["D2"], reversal["D3"], reversal["HD"]) == (billed_part["D2"], ["0"], ["P"])
    assert whole["D2"] == billed_part["D2"] and whole["D3"] == ["0"] and whole["E7"] == ["8000"]
    assert "HD" not in whole and "HF" not in whole and "HG" not in whole
    assert bodies[3][38:46] == bodies[1][38:46], "the date of service of what was dispensed"
    assert (Decimal(part["owed"]), Decimal(part["quantity_dispensed"])) == (0, 8)
    assert part["closure"]["reason"] == "patient declined the rest" and part["closure"]["billed_attempt"] == 3
    assert part["closed_claim"]["status"] == "reversed" and part["claim"]["attempt"] == 3
    assert found == []
    closing = [a for a in audit if a["action"] == "close-partial-fill"]
    assert closing and closing[0]["actor"] == part["closure"]["closed_by"] and closing[0]["role"] == "technician"
