"""The rest of a partial fill in a real browser: the prescription's page says what is owed (and, for schedule II,
until when, in the pharmacy's time zone) and starts the completion; a refusal is shown in the API's words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.console_driver import base_url, mount_console, screenshot, send_hl7, sign_in
from tests.browser.test_console_accessibility import axe_page, serious_violations
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.staff import settled
from tests.support.waiting import eventually

AMOXICILLIN, HYDROCODONE = "00093005801", "00591040501"
CHICAGO = "America/Chicago"

__all__ = ["axe_page"]  # the accessibility test's tab (CSP bypassed to inject axe-core), used as a fixture here


@pytest.fixture
def chicago_hub(amqp_url: str, sqlite_url: str) -> Iterator[Pharmacy]:
    """A hub whose pharmacy is in Chicago, with the console its settings configure."""
    settings = make_settings(
        amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=3000, pharmacy_timezone=CHICAGO
    )
    with pharmacy(settings) as ph:
        mount_console(ph)
        yield ph


def _stock(hub: Pharmacy, ndc: str, quantity: str, lot: str) -> None:
    delivery = {"ndc": ndc, "lot": lot, "expiry": "2030-01-31", "quantity": quantity}
    assert hub.client("technician").post("/api/inventory", json=delivery).status_code == 202


def _approve_data(hub: Pharmacy, pid: str) -> None:
    """The pharmacist approves data verification, answering the current fill's blocking alerts."""
    row = hub.wait_state(pid, "data_verification")
    fill_number = row.document["fills"][-1]["fill_number"]
    blocking = [
        [a["alert_id"], "reviewed"]
        for a in row.document["alerts"]
        if a["severity"] == "high" and a["override"] is None and a["fill_number"] in (None, fill_number)
    ]
    rph = hub.client("pharmacist")
    r = rph.post(f"/api/prescriptions/{pid}/data-verification", json={"approve": True, "overrides": blocking})
    assert settled(rph, r.json()["command_id"])["status"] == "applied", r.text


def _partial_picked_up(hub: Pharmacy, pid: str, requested_by: str) -> None:
    """Short stock, a partial fill chosen, verified, released and picked up: the rest is owed."""
    _approve_data(hub, pid)
    tech, rph = hub.client("technician"), hub.client("pharmacist")
    eventually(lambda: hub.wait_state(pid, "filling").document["fills"][-1]["short_stock"], "the short stock")
    choice = {"choice": "partial", "reason": "wholesaler back-order", "requested_by": requested_by}
    assert tech.post(f"/api/prescriptions/{pid}/short-stock", json=choice).status_code == 202
    _approve_data(hub, pid)  # the payer's answer to the part, reviewed like any claim's
    hub.wait_state(pid, "product_verification")
    assert rph.post(f"/api/prescriptions/{pid}/product-verification", json={"approve": True}).status_code == 202
    hub.wait_state(pid, "ready")
    assert tech.post(f"/api/prescriptions/{pid}/dispense").status_code == 202
    hub.wait_state(pid, "dispensed")


def test_technician_sees_the_rest_owed_and_starts_the_completion(page: Page, hub: Pharmacy) -> None:
    _stock(hub, AMOXICILLIN, "8", "LOT-A")
    assert b"MSA|AA" in send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")  # 20 capsules
    row = hub.by_placer("PLC1001")
    _partial_picked_up(hub, row.id, "pharmacy")
    _stock(hub, AMOXICILLIN, "50", "LOT-B")
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + f"/console/prescription?id={row.id}")

    form = page.get_by_role("form", name=f"Complete the partial fill of Rx {row.rx_number}")
    expect(form.locator(".rest-owed")).to_have_text("Rest owed: 12 owed (8 of 20 dispensed)")
    expect(page.locator("#rx-summary")).to_contain_text("Rest owed12 owed (8 of 20 dispensed)")
    expect(page.get_by_role("form", name=f"Refill Rx {row.rx_number}")).to_have_count(0)  # the rest comes first
    screenshot(page, "technician-rest-owed")
    form.get_by_role("button", name="Start completion").click()
    expect(page.locator("#status")).to_have_text(f"Completion started for Rx {row.rx_number}.")
    expect(form).to_have_count(0)  # the page reloaded: the rest is being dispensed, no longer owed
    expect(page.locator("#fills tbody tr")).to_have_count(2)
    fills = hub.client("technician").get(f"/api/prescriptions/{row.id}").json()["prescription"]["fills"]
    assert [(f["fill_number"], f["dispensing_status"], f["quantity"]) for f in fills][-1][:2] == (0, "C")


def _pharmacy_time(iso: str) -> str:
    """An instant as the console prints it for a Chicago pharmacy: "Dec 7, 2026, 5:59 PM CST"."""
    at = datetime.fromisoformat(iso).astimezone(ZoneInfo(CHICAGO))
    return f"{at:%b} {at.day}, {at.year}, {at.hour % 12 or 12}:{at:%M %p %Z}"


def test_a_schedule_ii_rest_past_its_deadline_is_refused_in_words(axe_page: Page, chicago_hub: Pharmacy) -> None:
    page, hub = axe_page, chicago_hub
    _stock(hub, HYDROCODONE, "8", "C1")
    written = (date.today() - timedelta(days=40)).strftime("%Y%m%d")
    drug = "00093005801^Amoxicillin 500 MG Oral Capsule"
    ack = send_hl7(
        hub,
        "01_rde_o11_retail_amoxicillin.hl7",
        **{drug: HYDROCODONE + "^Hydrocodone APAP 5-325 MG"},
        **{"|20261120": "|" + written},
    )
    assert b"MSA|AA" in ack
    row = hub.by_placer("PLC1001")
    _partial_picked_up(hub, row.id, "patient")  # asked for by the patient: 30 days from the date written
    _stock(hub, HYDROCODONE, "50", "C2")
    deadline = hub.client("technician").get(f"/api/prescriptions/{row.id}").json()["rest_owed"]["complete_by"]
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + f"/console/prescription?id={row.id}")

    form = page.get_by_role("form", name=f"Complete the partial fill of Rx {row.rx_number}")
    expect(form.locator(".rest-owed")).to_have_text(
        "Rest owed: 12 owed (8 of 20 dispensed); schedule II: dispense the rest by " + _pharmacy_time(deadline)
    )
    form.get_by_role("button", name="Start completion").click()
    refusal = "Not now: the rest of a schedule II partial fill must be dispensed within 30 days of the date written"
    expect(page.locator("#status")).to_contain_text(refusal)
    expect(form.locator(".outcome.error")).to_contain_text("(21 CFR 1306.13)")
    by = f"(21 CFR 1306.13), by {_pharmacy_time(deadline)}; a new prescription is needed"
    expect(form.locator(".outcome")).to_contain_text(by)  # the deadline in the pharmacy's time, not ISO UTC
    expect(page.locator("#status")).to_contain_text(by)
    for words in ("Approved", "started", "Sent"):
        expect(page.locator("#status")).not_to_contain_text(words)
    assert not serious_violations(page)
    screenshot(page, "technician-completion-refused")
    fills = hub.client("technician").get(f"/api/prescriptions/{row.id}").json()["prescription"]["fills"]
    assert len(fills) == 1
