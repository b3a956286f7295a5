"""axe-core in Debian's chromium on every console page, with work on it: no serious or critical violation.

axe-core comes from tests/node (scripts/ensure.sh node-tools, npm ci). The console's policy allows no inline
script, so the check runs in a context that bypasses CSP (the console's own scripts are unchanged by that).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from hub.entrypoints.http.console.console import PAGES
from tests.browser.conftest import LAPTOP, _loopback_only
from tests.browser.console_driver import base_url, send_hl7, sign_in, stock
from tests.support.pharmacy import Pharmacy

AXE = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
#: rules left out, each with its reason (none so far)
EXCLUDED: dict[str, str] = {}
HOME = {"technician": "work", "pharmacist": "verify", "admin": "messages"}


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    assert AXE.exists(), f"{AXE} is missing: run scripts/ensure.sh node-tools"
    context = browser.new_context(viewport=LAPTOP, service_workers="block", bypass_csp=True)
    context.set_default_timeout(15_000)
    context.route("**/*", _loopback_only)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    yield page
    context.close()
    assert not errors, errors


def serious_violations(page: Page) -> list[str]:
    """Run axe-core on the page as it is now; the serious and critical violations, one line per node."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (excluded) => {
        const rules = Object.fromEntries(excluded.map((id) => [id, { enabled: false }]));
        return (await axe.run(document, { rules, resultTypes: ["violations"] })).violations;
    }""",
        list(EXCLUDED),
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps(n['target'])}: {n.get('failureSummary', '')}"
        for v in result
        if v["impact"] in ("serious", "critical")
        for n in v["nodes"]
    ]


def test_every_console_page_has_no_serious_or_critical_axe_violation(axe_page: Page, hub: Pharmacy) -> None:
    page = axe_page
    stock(hub, "00093005801")
    send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")
    send_hl7(hub, "03_omp_o09_insulin_needs_prior_auth.hl7")
    rx = hub.wait_state(hub.by_placer("PLC1001").id, "data_verification")
    hub.wait_state(hub.by_placer("PLC1003").id, "claim_rejected")
    plan = {"bin": "999001", "cardholder_id": "SYN-1", "relationship": "1"}
    plans = {"coverages": [plan]}
    assert hub.client("technician").put(f"/api/patients/{rx.document['patient_id']}/coverages", json=plans).is_success

    page.goto(base_url(hub) + "/console/")
    page.get_by_label("API token").wait_for()
    found = {"sign-in": serious_violations(page)}
    for role in HOME:
        sign_in(page, hub, role)
        for p in PAGES:
            if role not in p.roles:
                continue
            query = f"?id={rx.id}" if p.slug in ("prescription", "plans") else ""
            page.goto(base_url(hub) + f"/console/{p.slug}{query}")
            page.locator("#who-role").filter(has_text=role).wait_for()
            if p.slug == "work":
                page.locator("#q-claim-exceptions > li").first.wait_for()
            if p.slug == "verify":
                page.locator("#q-data-verification > li").first.wait_for()
            if p.slug == "prescription":
                page.locator("#fills tbody tr").first.wait_for()
            if p.slug == "plans":
                page.get_by_role("group", name="Primary plan").wait_for()
            if p.slug == "search":
                page.get_by_label("Rx number").fill(rx.rx_number)
                page.get_by_role("button", name="Search").click()
                page.locator("#results tbody tr").first.wait_for()
            found[f"{role} {p.slug}"] = serious_violations(page)
        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("API token").wait_for()
    assert not {k: v for k, v in found.items() if v}, json.dumps(found, indent=1)
