"""The alert rules and the dashboard in deploy/: promtool checks the rules and runs their unit tests.

promtool comes from Debian's prometheus package (scripts/ensure.sh promtool, run by ``make test``); without
it these tests fail, never skip.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "rxhub-alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "rxhub.json"
#: every alert the issue asks for (dead letters, no consumers, outbox backlog, stuck destination, claim timeouts)
ALERTS = {
    "RxHubDeadLetters",
    "RxHubQueueWithoutConsumer",
    "RxHubQueueDepthsStale",
    "RxHubOutboxBacklog",
    "RxHubOutboundDestinationStuck",
    "RxHubOutboundDeadLetters",
    "RxHubClaimTimeouts",
    "RxHubBreakGlass",
}


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run Debian's promtool (``scripts/ensure.sh promtool`` installs it)."""
    return subprocess.run(
        ["promtool", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False, cwd=RULES.parent
    )


def dashboard_metrics() -> set[str]:
    """Every rxhub metric the dashboard's queries name."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {
        name
        for panel in panels
        for target in panel["targets"]
        for name in re.findall(r"\brxhub_[a-z_]+", target["expr"])
    }


def test_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "rxhub-alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert set(re.findall(r"alert: (\w+)", RULES.read_text())) == ALERTS
    assert set(re.findall(r"alertname: (\w+)", (RULES.parent / "rxhub-alerts.test.yml").read_text())) == ALERTS


def test_the_dashboard_is_grafana_json_with_a_query_per_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "rxhub" and dashboard["panels"]
    assert all(panel["targets"] and panel["targets"][0]["expr"] for panel in dashboard["panels"])
    assert {"rxhub_messages_total", "rxhub_queue_consumers", "rxhub_outbound_messages_total"} <= dashboard_metrics()
