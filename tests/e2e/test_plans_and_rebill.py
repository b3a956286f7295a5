"""Plans on file and a corrected paid claim, end to end (issue 33, part 3): plans a technician puts on file bill the
patient's next order to both payers in order, as do a verbal order's plans; a technician's correction of a paid
claim goes out as a B3 rebill to the payer that paid, for the same date of service."""

from __future__ import annotations

from adapters.ncpdp.payer.config import load_payer_config
from tests.e2e.test_claim_fields import RecordingPayer
from tests.e2e.test_second_payer import PRIMARY, _order, _settings, _wait_ledger
from tests.support.pharmacy import pharmacy


def test_a_technician_correcting_a_paid_claim_rebills_it_as_b3(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    payer = RecordingPayer(load_payer_config(settings.payer_sim_config))
    with pharmacy(settings, simulator=payer) as ph:
        pid = _order(ph, "COB-2", PRIMARY)
        ph.wait_state(pid, "data_verification")
        paid = _wait_ledger(ph, pid, 1)
        url = f"/api/prescriptions/{pid}/claim-correction"
        answer = ph.client("technician").post(url, json={"coverage": {"cardholder_id": "PRI-0009"}})
        rebilled = _wait_ledger(ph, pid, 2)
        after = ph.wait_state(pid, "data_verification")
    assert answer.status_code == 202
    assert paid == [(1, "B1", "billing", "P")]
    assert rebilled[1] == (2, "B3", "rebill", "P"), "a rebill has its own purpose in the ledger"
    billing, rebill = payer.received
    assert (rebill.transaction_code, rebill.bin, rebill.date_of_service) == ("B3", "999001", billing.date_of_service)
    assert rebill.insurance is not None and rebill.insurance.cardholder_id == "PRI-0009"
    assert after.document["fills"][0]["claim"]["attempt"] == 2


def test_plans_put_on_file_bill_the_next_order_to_both(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    plans = {
        "coverages": [
            {"bin": "999001", "pcn": "RXHUBSIM", "group_id": "GRP01", "cardholder_id": "FILE-1"},
            {"bin": "999003", "pcn": "SECPCN", "cardholder_id": "FILE-2", "relationship": "1"},
        ]
    }
    with pharmacy(settings) as ph:
        first = _order(ph, "COB-3")
        patient_id = ph.wait_state(first, "data_verification").document["patient_id"]
        tech = ph.client("technician")
        put = tech.put(f"/api/patients/{patient_id}/coverages", json=plans)
        read = tech.get(f"/api/patients/{patient_id}/coverages")
        audited = ph.client("admin").get("/api/admin/audit", params={"patient_id": patient_id}).json()
        unknown = tech.put("/api/patients/nobody/coverages", json=plans)
        second = _order(ph, "COB-4")
        billed = ph.wait_state(second, "data_verification")
        ledger = _wait_ledger(ph, second, 2)
    assert put.status_code == 200 and unknown.status_code == 404
    assert [c["cardholder_id"] for c in read.json()["coverages"]] == ["FILE-1", "FILE-2"]
    assert {"patient-coverages-put", "read patient coverages"} <= {e["action"] for e in audited}
    fill = billed.document["fills"][0]
    assert [c["cardholder_id"] for c in fill["earlier_claims"]] == ["FILE-1"]
    assert (fill["claim"]["bin"], fill["claim"]["cardholder_id"]) == ("999003", "FILE-2")
    assert ledger == [(1, "B1", "billing", "P"), (2, "B1", "billing", "P")]


def test_a_verbal_order_names_a_secondary_plan_billed_after_the_primary(amqp_url: str, sqlite_url: str) -> None:
    settings = _settings(amqp_url, sqlite_url)
    verbal = {
        "patient": {"family_name": "Synthetic", "given_name": "Vera", "identifiers": [{"value": "MRN-V1"}]},
        "prescriber": {"family_name": "Prescriber", "npi": "1234567893"},
        "drug": {"ndc": "00071015523"},
        "quantity": {"value": "90"},
        "days_supply": 90,
        "sig": "Take 1 tablet by mouth once daily",
        "coverage": {"bin": "999001", "pcn": "RXHUBSIM", "cardholder_id": "VO-PRI"},
        "other_coverages": [{"bin": "999003", "pcn": "SECPCN", "cardholder_id": "VO-SEC"}],
        "read_back_confirmed": True,
        "placer_order_number": "VO-COB-1",
    }
    with pharmacy(settings) as ph:
        taken = ph.client("pharmacist").post("/api/verbal-orders", json=verbal)
        pid = ph.by_placer("VO-COB-1").id
        billed = ph.wait_state(pid, "data_verification")
        ledger = _wait_ledger(ph, pid, 2)
    assert taken.status_code == 202
    fill = billed.document["fills"][0]
    assert [c["cardholder_id"] for c in fill["earlier_claims"]] == ["VO-PRI"]
    assert (fill["claim"]["cardholder_id"], fill["claim"]["status"]) == ("VO-SEC", "paid")
    assert ledger == [(1, "B1", "billing", "P"), (2, "B1", "billing", "P")]
