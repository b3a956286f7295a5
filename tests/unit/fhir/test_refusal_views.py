"""A refused order in a FHIR read: the submitted resource cancelled with its reason, or a tag on the holder."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir.resources.R4B.medicationrequest import MedicationRequest

from adapters.fhir.refusal_views import REFUSAL_SYSTEM, refused_view, with_refusal_tags
from hub.domain.refused_orders import RefusedOrder
from tests.unit.fhir.builders import medication_request

REASON = "refused: duplicate order: placer number urn:example:ehr|ORD-1 is already held by Rx 1000001"


def _refusal(at: datetime = datetime(2026, 12, 1, tzinfo=UTC)) -> RefusedOrder:
    return RefusedOrder(
        id="r1",
        correlation_id="c1",
        owner="feed:ehr",
        source="fhir",
        placer_order_number="ORD-1",
        placer_system="urn:example:ehr",
        code="duplicate-order",
        reason=REASON,
        held_by=None,
        control_id=None,
        raw_message_ref="fhir:x",
        refused_at=at,
    )


def test_a_refused_submission_reads_cancelled_with_its_reason() -> None:
    view = refused_view(medication_request(), _refusal())
    assert view["status"] == "cancelled"
    assert view["statusReason"] == {"coding": [{"system": REFUSAL_SYSTEM, "code": "duplicate-order"}], "text": REASON}
    MedicationRequest.model_validate(view)


def test_the_held_order_keeps_its_status_and_carries_one_tag_per_refusal_code() -> None:
    held = {
        **medication_request(),
        "meta": {"lastUpdated": "2026-12-01T10:00:00+00:00", "tag": [{"system": "urn:other", "code": "x"}]},
    }
    view = with_refusal_tags(held, [_refusal(), _refusal(datetime(2026, 12, 2, tzinfo=UTC))])
    assert view["status"] == "active" and view["meta"]["lastUpdated"] == held["meta"]["lastUpdated"]
    [other, tag] = view["meta"]["tag"]
    assert other == {"system": "urn:other", "code": "x"}
    assert (tag["system"], tag["code"]) == (REFUSAL_SYSTEM, "duplicate-order")
    assert tag["display"].startswith("a later submission under this identifier was refused: duplicate order")
    assert "(2026-12-02)" in tag["display"], "the latest refusal"
    assert with_refusal_tags(view, [_refusal()])["meta"]["tag"][1:] == [
        {**tag, "display": tag["display"].replace("2026-12-02", "2026-12-01")}
    ], "tags are replaced, not added"
    MedicationRequest.model_validate(view)
