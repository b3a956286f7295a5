"""GET /api/records: the records of a page's cards in one read, audited once naming them all (issue 27, 6)."""

from __future__ import annotations

from hub.persistence.audit import AuditTrail
from tests.conftest import make_settings
from tests.support.pharmacy import pharmacy
from tests.support.staff import VERBAL, order, verbal


def test_one_audited_read_names_every_record_it_returns(amqp_url: str, sqlite_url: str) -> None:
    with pharmacy(make_settings(amqp_url, sqlite_url)) as ph:
        first = order(ph, verbal(), state="data_verification")
        second = order(ph, verbal(drug={"ndc": "00093005801"}), state="data_verification")
        client = ph.client("pharmacist")
        assert client.get("/api/records", params={"ids": ""}).status_code == 422
        r = client.get("/api/records", params={"ids": f"{first.id},{second.id},nope"})
        assert r.status_code == 200, r.text
        records = r.json()["records"]
        assert set(records) == {first.id, second.id}
        patient = records[first.id]["patient"]
        assert patient["birth_date"] == VERBAL["patient"]["birth_date"] and patient["sex"] == "female"
        assert isinstance(patient["age"], int) and patient["age"] >= 46
        assert [o["rx_number"] for o in records[first.id]["others"]] == [second.rx_number]

        reads = [e for e in AuditTrail(ph.hub.engine).query(actor="paul.pharm") if e.action.startswith("read ")]
        assert [(e.action, e.detail["prescription_ids"]) for e in reads] == [
            ("read prescriptions for a page", sorted([first.id, second.id]))
        ]
        assert reads[0].detail["patient_ids"] == [first.document["patient_id"]]
