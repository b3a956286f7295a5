"""A second payer end to end (issue 33, part 3): an HL7 order with two IN1 plans, real workers and the payer
simulator. The primary pays part, the secondary (a COB claim with 308-C8 and AM05) pays the patient's share;
the claim ledger shows both claims of the one fill, the fill waits for the secondary, and a cancel reverses the
secondary before the primary. A technician's correction of a paid claim goes out as a B3 rebill."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import select

from adapters.ncpdp.payer.config import load_payer_config
from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.tables import claim_transmissions
from tests.conftest import make_settings
from tests.e2e.test_claim_fields import RecordingPayer
from tests.support.pharmacy import Pharmacy, pharmacy

MSH = "MSH|^~\\&|EHR|GENHOSP|RXHUB|PHARMACY|20261126101500||RDE^O11^RDE_O11|{control}|P|2.5.1"
PID = "PID|1||MRN20002^^^GENHOSP^MR||Synthetic^Bob||19700505|M"


def _in1(set_id: str, bin_pcn: str, plan: str, group: str, priority: str, policy: str) -> str:
    """IN1-1, IN1-3 typed BIN/PCN, IN1-4, IN1-8 group, IN1-17 relationship, IN1-22 priority, IN1-36 policy."""
    fields = dict.fromkeys(range(1, 37), "")
    fields.update({1: set_id, 3: bin_pcn, 4: plan, 8: group, 17: "SEL", 22: priority, 36: policy})
    return "|".join(["IN1", *fields.values()])


# synthetic plans: the simulator's primary BIN and its secondary-only BIN
PRIMARY = _in1("1", "999001^^^^BIN~RXHUBSIM^^^^PCN", "Main Plan", "GRP01", "1", "PRI-0001")
SECONDARY = _in1("2", "999003^^^^BIN~SECPCN^^^^PCN", "Second Plan", "SEC01", "2", "SEC-0002")
ORC = "ORC|NW|{placer}^EHR|||||||20261126101500|||1234567893^Prescriber^Paula^^^^^^NPI^^^^NPI"
# atorvastatin 90 tablets: the plan pays 9.75 and leaves a 10.00 copay (hub/data/payer-sim.json)
RXE = "RXE||00071015523^Atorvastatin 10 MG Oral Tablet^NDC|1||TAB||^Take 1 tablet daily|||90|TAB|0"
RXR = "RXR|PO"


def _settings(amqp_url: str, sqlite_url: str) -> Settings:
    return make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=5000)


def _order(ph: Pharmacy, placer: str, *plans: str) -> str:
    segments = [MSH.format(control=f"C-{placer}"), PID, "PV1|1|O", *plans, ORC.format(placer=placer)]
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send("\r".join([*segments, RXE, RXR]).encode())
    return ph.by_placer(placer).id


def _ledger(ph: Pharmacy, pid: str) -> list[tuple[int, str, str, str | None]]:
    c = claim_transmissions.c
    with ph.engine.connect() as conn:
        rows = conn.execute(
            select(c.attempt, c.transaction, c.purpose, c.status).where(c.prescription_id == pid).order_by(c.sent_at)
        ).all()
    return [(r.attempt, r.transaction, r.purpose, r.status) for r in rows]


def _wait_ledger(ph: Pharmacy, pid: str, rows: int) -> list[tuple[int, str, str, str | None]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = _ledger(ph, pid)
        if len(found) >= rows and all(status is not None for *_, status in found):
            return found
        time.sleep(0.1)
    return _ledger(ph, pid)


def test_secondary_pays_what_the_primary_left_and_reversals_go_last_payer_first(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph, "COB-1", PRIMARY, SECONDARY)
        verified = ph.wait_state(pid, "data_verification")
        billed = _ledger(ph, pid)
        cancelled = ph.client("technician").post(f"/api/prescriptions/{pid}/cancel", json={"reason": "declined"})
        ph.wait_state(pid, "cancelled")
        reversed_ = _wait_ledger(ph, pid, 4)
        final = ph.wait_state(pid, "cancelled")
    fill = verified.document["fills"][0]
    [primary] = fill["earlier_claims"]
    secondary = fill["claim"]
    assert (primary["payer"], primary["bin"], primary["status"]) == (1, "999001", "paid")
    assert (Decimal(primary["total_paid"]), Decimal(primary["patient_pay"])) == (Decimal("9.75"), Decimal("10.00"))
    assert (secondary["payer"], secondary["bin"], secondary["cardholder_id"], secondary["status"]) == (
        2,
        "999003",
        "SEC-0002",
        "paid",
    )
    assert (Decimal(secondary["total_paid"]), Decimal(secondary["patient_pay"])) == (Decimal("10.00"), Decimal("0"))
    assert billed == [(1, "B1", "billing", "P"), (2, "B1", "billing", "P")], "two claims of the one fill"
    first, second = payer.received[:2]
    assert (first.bin, second.bin) == ("999001", "999003")
    assert first.transactions[0].cob is None
    assert second.transactions[0].claim.other_coverage_code == "2"
    cob = second.transactions[0].cob
    assert cob is not None
    [other] = cob.other_payers
    assert (other.coverage_type, other.id_qualifier, other.payer_id, other.total_paid) == (
        "01",
        "03",
        "999001",
        Decimal("9.75"),
    )  # 338-5C primary, 339-6C BIN, 340-7C, 431-DV
    assert [a.qualifier for a in other.amounts_paid] == ["07"] and other.reject_codes == ()  # 342-HC, no 472-6E
    assert other.payer_date == first.date_of_service  # 443-E8: the day the primary answered
    assert cancelled.status_code == 202
    assert reversed_[2:] == [(2, "B2", "reversal", "A"), (1, "B2", "reversal", "A")], "secondary first"
    assert [r.bin for r in payer.received[2:]] == ["999003", "999001"]
    done = final.document["fills"][0]
    assert done["claim"]["status"] == done["earlier_claims"][0]["status"] == "reversed"
