"""A payer's DUR finding on a paid claim (D.0 AM24) reaches the pharmacist at data verification and must be
answered before approval, like the hub's own DUR alerts (issue 33, part 4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapters.ncpdp.payer.config import OutsideFill, PayerInteraction, load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator
from hub.entrypoints.mllp_client import MllpClient
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy

AMOXICILLIN = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
WARFARIN = "00054429725"


def test_payer_interaction_alert_blocks_approval_until_answered(amqp_url: str, sqlite_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=5000)
    plan = load_payer_config(settings.payer_sim_config)
    plan = plan.model_copy(
        update={
            "interactions": (
                PayerInteraction(
                    ndc="00093005801",
                    with_ndc=WARFARIN,
                    reason="DD",
                    clinical_significance="1",
                    text="AMOXICILLIN MAY RAISE INR",
                ),
            ),
            "outside_fills": (OutsideFill(ndc=WARFARIN, date_of_fill=date(2026, 11, 20), quantity=30),),
        }
    )
    raw = AMOXICILLIN.read_bytes()
    with pharmacy(settings, simulator=PayerSimulator(plan)) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            assert b"MSA|AA" in client.send(raw)
        placer = raw.split(b"ORC|NW|")[1].split(b"^")[0].decode()
        pid = ph.by_placer(placer).id
        paid = ph.wait_state(pid, "data_verification")
        rph = ph.client("pharmacist")
        [item] = [i for i in rph.get("/api/queues/data-verification").json() if i["prescription_id"] == pid]
        payer_alerts = [a for a in item["detail"]["alerts"] if a["kind"] == "payer_dur"]
        refused = rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True})
        answered = rph.post(
            f"/api/prescriptions/{pid}/data-verification",
            json={"approve": True, "overrides": [[payer_alerts[0]["alert_id"], "INR checked; prescriber aware"]]},
        )
        approved = ph.wait_state(pid, "filling", "product_verification")
    claim = paid.document["fills"][0]["claim"]
    assert claim["status"] == "paid"
    assert claim["payer_dur"][0]["reason"] == "DD" and claim["payer_dur"][0]["other_pharmacy"] == "3"
    assert claim["payer_dur"][0]["previous_fill_date"] == "2026-11-20"
    assert [a["severity"] for a in payer_alerts] == ["high"]
    assert "AMOXICILLIN MAY RAISE INR" in payer_alerts[0]["text"]
    assert "filled at another pharmacy" in payer_alerts[0]["text"]
    assert refused.status_code == 409
    assert payer_alerts[0]["alert_id"] in refused.text
    assert answered.status_code == 202
    overrides = [a for a in approved.document["alerts"] if a["kind"] == "payer_dur"]
    assert overrides[0]["override"]["reason"] == "INR checked; prescriber aware"
