"""GET /api/search: a prescription by patient name + birth date, Rx number or placer number, audited once per
search (issue 27, 5)."""

from __future__ import annotations

from hub.persistence.audit import AuditTrail
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy
from tests.support.staff import VERBAL, order, verbal


def test_search_by_name_and_birth_date_rx_and_placer_number_audited_once_each(amqp_url: str, database_url: str) -> None:
    with pharmacy(make_settings(amqp_url, database_url)) as ph:
        first = order(ph, verbal(), state="data_verification")
        second = order(ph, verbal(drug={"ndc": "00093005801"}), state="data_verification")
        other = {**VERBAL["patient"], "birth_date": "1981-02-03"}  # same name, another patient
        stranger = order(ph, verbal(patient=other), state="data_verification")
        client = ph.client("technician")

        r = client.get("/api/search", params={"family": "SYNTHETIC", "birth_date": "1980-02-03"})
        assert r.status_code == 200, r.text
        found = r.json()
        assert sorted(f["rx_number"] for f in found) == sorted([first.rx_number, second.rx_number])
        assert found[0]["birth_date"] == "1980-02-03" and found[0]["sex"] == "female"
        assert "patient_id" not in found[0]

        assert [f["rx_number"] for f in client.get("/api/search", params={"rx_number": stranger.rx_number}).json()] == [
            stranger.rx_number
        ]
        placer = client.get("/api/search", params={"placer": second.placer_order_number}).json()
        assert [f["prescription_id"] for f in placer] == [second.id]
        assert client.get("/api/search", params={"rx_number": "NOPE"}).json() == []
        # name without birth date, or nothing at all: refused, not every prescription
        assert client.get("/api/search", params={"family": "Synthetic"}).status_code == 422
        assert client.get("/api/search").status_code == 422

        searches = [e for e in AuditTrail(ph.hub.engine).query(actor="tina.tech") if e.action == "search prescriptions"]
        assert len(searches) == 4
        by_name = next(e for e in searches if e.detail["criteria"]["family"] == "SYNTHETIC")
        assert sorted(by_name.detail["prescription_ids"]) == sorted([first.id, second.id])
        assert by_name.detail["patient_ids"] == [first.document["patient_id"]]
