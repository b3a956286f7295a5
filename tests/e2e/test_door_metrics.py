"""Every door counts its messages with the same outcome words, and /metrics shows consumers and dead letters.

The hub runs in this process, whose counters other tests also move: each check compares two scrapes.
"""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub.config import Settings
from hub.messaging.consumer import FailureKind
from hub.messaging.topology import Topology
from tests.e2e.script.messages import new_rx
from tests.e2e.script.support import script_feed
from tests.unit.fhir.builders import medication_request
from tests.unit.test_monitoring import dashboard_metrics, promtool

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(admin: httpx.Client) -> Samples:
    text = admin.get("/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _messages(before: Samples, after: Samples, door: str) -> dict[str, float]:
    """How many messages of each outcome ``door`` counted between two scrapes."""
    moved = {}
    for (name, labels), value in after.items():
        if name == "rxhub_messages_total" and ("door", door) in labels:
            outcome = dict(labels)["outcome"]
            moved[outcome] = value - before.get((name, labels), 0.0)
    return {outcome: n for outcome, n in moved.items() if n}


def test_fhir_script_and_staff_api_are_counted_like_hl7(settings: Settings) -> None:
    order = medication_request(identifier=[{"system": "urn:example:ehr", "value": "MET-1"}])
    with script_feed(settings) as feed:
        admin, tech = feed.ph.client("admin"), feed.ph.client("technician")
        before = _scrape(admin)
        assert feed.post(new_rx("MET-S-1", "MET-O-1")).status_code == 200
        assert feed.post(new_rx("MET-S-1", "MET-O-1")).status_code == 200
        assert feed.post(b"<Message><Header/></Message>").status_code == 200  # Error 900, in a 200
        fhir = {"Content-Type": "application/fhir+json"}
        assert feed.http.post("/fhir/MedicationRequest", json=order, headers=fhir).status_code == 201
        assert feed.http.post("/fhir/MedicationRequest", json=order, headers=fhir).status_code == 200
        assert httpx.post(f"{feed.http.base_url}/fhir/MedicationRequest", json=order).status_code == 401
        assert tech.post("/api/inventory", json={}).status_code == 422
        after = _scrape(admin)

    assert _messages(before, after, "script") == {"accepted": 1, "duplicate": 1, "rejected": 1}
    assert _messages(before, after, "fhir") == {"accepted": 1, "duplicate": 1, "refused": 1}
    assert _messages(before, after, "api") == {"rejected": 1}
    for door, n in (("script", 3), ("fhir", 3), ("api", 1)):
        key = ("rxhub_ack_seconds_count", frozenset({("door", door)}))
        assert after[key] - before.get(key, 0.0) == n
    for outcome in ("accepted", "duplicate", "rejected", "refused", "not_stored", "errors"):
        assert ("rxhub_messages_total", frozenset({("door", "hl7"), ("outcome", outcome)})) in after

    topology = Topology(settings.broker_prefix)
    for step in topology.steps:
        for kind in FailureKind:
            assert ("rxhub_dead_letters_total", frozenset({("step", step), ("kind", str(kind))})) in after
        assert after[("rxhub_queue_consumers", frozenset({("queue", topology.work_queue(step))}))] >= 1
    assert after[("rxhub_queue_depth_read_timestamp_seconds", frozenset())] > 0


def test_a_real_scrape_passes_promtool_and_has_every_dashboard_metric(settings: Settings) -> None:
    with script_feed(settings) as feed:
        text = feed.ph.client("admin").get("/metrics").text
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    exported = set(re.findall(r"^# TYPE (\w+) ", text, re.MULTILINE))
    histogram_parts = re.compile(r"_(bucket|count|sum)$")
    missing = {
        name for name in dashboard_metrics() if histogram_parts.sub("", name) not in exported and name not in exported
    }
    assert not missing, f"the dashboard queries metrics the hub does not export: {missing}"
