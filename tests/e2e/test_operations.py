"""Operations over real HTTP: health, readiness, metrics without patient data, message search and story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.audit import AuditTrail
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def _published(story: dict[str, Any]) -> dict[str, Any] | None:
    """The message's story once the relay has published every event of its prescriptions."""
    events = [e for rx in story["prescriptions"] for e in rx["events"]]
    return story if events and all(e["published_at"] for e in events) else None


def test_health_metrics_and_a_message_story(settings: Settings) -> None:
    settings = settings.model_copy(update={"default_bin": "999001"})
    with pharmacy(settings) as ph:
        admin, tech = ph.client("admin"), ph.client("technician")
        assert admin.get("/healthz").json() == {"status": "ok"}
        ready = admin.get("/readyz")
        assert ready.status_code == 200 and ready.json()["broker"] and ready.json()["database"]
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(SAMPLE.read_bytes())
        row = ph.by_placer("PLC1001")
        ph.wait_state(row.id, "data_verification")

        assert tech.get("/api/admin/messages", params={"control_id": "RXH-DEMO-0001"}).status_code == 403
        found = admin.get("/api/admin/messages", params={"control_id": "RXH-DEMO-0001"}).json()
        assert [m["control_id"] for m in found] == ["RXH-DEMO-0001"]
        assert admin.get("/api/admin/messages", params={"rx_number": row.rx_number}).json()[0]["id"] == found[0]["id"]
        story = eventually(
            lambda: _published(admin.get(f"/api/admin/messages/{found[0]['id']}").json()),
            "every event of the order published by the relay",
        )
        assert "raw" not in story and story["answer"].startswith("MSH|")
        [rx] = story["prescriptions"]
        assert [e["type"] for e in rx["events"]][:3] == ["prescription.received", "claim.submitted", "SendClaim"]
        with_raw = admin.get(f"/api/admin/messages/{found[0]['id']}", params={"raw": "true"}).json()
        assert "Synthetic^Alice" in with_raw["raw"]
        assert [e.action for e in AuditTrail(ph.engine).query(actor="ada.admin")].count("read raw message") == 1

        dashboard = admin.get("/api/admin/dashboard").json()
        assert dashboard["prescriptions"]["data_verification"] == 1 and dashboard["dead_letters"] == 0
        metrics = admin.get("/metrics").text
    assert 'rxhub_messages_total{door="hl7",outcome="accepted"}' in metrics
    assert "rxhub_queue_depth{" in metrics and "rxhub_ack_seconds_bucket" in metrics
    assert "Synthetic" not in metrics and "Alice" not in metrics and "19800101" not in metrics
