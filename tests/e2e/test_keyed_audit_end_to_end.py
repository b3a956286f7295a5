"""With RXHUB_AUDIT_KEY, an order through the doors and the workers leaves a chain that verifies under the key,
and a row then forged into the table is never sealed by the running hub (issue 31, part 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import insert

from hub.config import Settings
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.audit import AuditTrail
from hub.persistence.database import make_engine
from hub.persistence.tables import audit_log
from hub.security.audit_keys import AuditKeys, with_audit_keys
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
KEY = "e2e-audit-key-" + "x" * 30


def test_a_keyed_hub_chains_its_own_entries_and_leaves_a_forged_one_out(settings: Settings) -> None:
    keyed = settings.model_copy(update={"audit_key": SecretStr(KEY)})
    with pharmacy(keyed) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(SAMPLE.read_bytes())
        ph.wait_state(ph.by_placer("PLC1001").id, "data_verification", "claim_pending", "fill_queue")
        url = keyed.database_url.get_secret_value()
        outsider = make_engine(url)  # an insider with database access, without the key
        with outsider.begin() as conn:
            forged = conn.execute(
                insert(audit_log).values(
                    at=datetime.now(UTC), actor="pharm1", role="pharmacist", action="approve", outcome="ok", detail="{}"
                )
            ).inserted_primary_key[0]
        outsider.dispose()
        checker = with_audit_keys(make_engine(url), AuditKeys([KEY]))
        trail = AuditTrail(checker)
        trail.seal()  # what the hub's own sealer does every half second
        report = eventually(lambda: r if (r := trail.verify()).checked and not r.pending else None, "sealed")
        checker.dispose()
    assert report.checked >= 2, "the receipt and intake at least, all sealed under the key"
    assert [(p.id, p.reason.split(":")[0]) for p in report.problems] == [
        (forged, "not written by a hub process (no valid writer's tag)")
    ]
