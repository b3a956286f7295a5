"""The committed event catalogue matches the event models (regenerate with `rxhub events > docs/asyncapi.json`)."""

from __future__ import annotations

import json
from pathlib import Path

from hub.entrypoints.event_catalogue import catalogue, render

ROOT = Path(__file__).resolve().parents[2]


def test_docs_asyncapi_is_current() -> None:
    assert (ROOT / "docs" / "asyncapi.json").read_text() == render()


def test_every_issue_named_event_is_published() -> None:
    required = {
        "prescription.received",
        "prescription.rejected",
        "prescription.cancelled",
        "claim.submitted",
        "claim.paid",
        "claim.rejected",
        "claim.reversed",
        "prescription.verified",
        "fill.completed",
        "fill.verified",
        "prescription.ready",
        "prescription.dispensed",
        "prescription.returned",
        "inventory.low",
    }
    assert required <= set(catalogue()["channels"])


def test_no_event_payload_carries_patient_names_or_birth_dates() -> None:
    text = json.dumps(catalogue()["channels"]).lower()
    for forbidden in ("birth_date", "family_name", "given_name", "patient_name"):
        assert forbidden not in text
