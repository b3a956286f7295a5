"""Plans on file in a real browser: a technician reaches a patient's plans from a prescription, sees them in
billing order, reorders, edits, adds and removes them, and saves them through the staff API, whose refusal of a
field is shown next to that field (nothing is saved then)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.console_driver import base_url, screenshot, send_hl7, sign_in
from tests.browser.test_console_accessibility import axe_page, serious_violations
from tests.support.pharmacy import Pharmacy

PRIMARY = {
    "bin": "999001",
    "pcn": "RXHUBSIM",
    "group_id": "GRP01",
    "cardholder_id": "SYN-PRI-1",
    "person_code": "01",
    "relationship": "1",
}
SECONDARY = {"bin": "999003", "pcn": "SECPCN", "cardholder_id": "SYN-SEC-1", "relationship": "2"}

__all__ = ["axe_page"]  # the accessibility test's tab (CSP bypassed to inject axe-core), used as a fixture here


def _patient_on_file(hub: Pharmacy, plans: list[dict[str, str]]) -> tuple[str, str]:
    """An order's prescription id and its patient, whose plans on file are ``plans`` (put there by the API)."""
    assert b"MSA|AA" in send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")
    row = hub.by_placer("PLC1001")
    patient = row.document["patient_id"]
    put = hub.client("technician").put(f"/api/patients/{patient}/coverages", json={"coverages": plans})
    assert put.status_code == 200, put.text
    return row.id, patient


def _on_file(hub: Pharmacy, patient: str) -> list[dict[str, str]]:
    answer = hub.client("technician").get(f"/api/patients/{patient}/coverages")
    assert answer.status_code == 200, answer.text
    return [{k: v for k, v in plan.items() if v is not None} for plan in answer.json()["coverages"]]


def test_technician_reorders_edits_and_removes_the_plans(page: Page, hub: Pharmacy) -> None:
    rx_id, patient = _patient_on_file(hub, [PRIMARY, SECONDARY])
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + f"/console/prescription?id={rx_id}")
    link = page.get_by_role("link", name="The patient's plans on file")
    expect(link).to_have_attribute("href", f"/console/plans?id={rx_id}")  # the page's script has named it
    link.click()
    expect(page).to_have_url(re.compile(rf".*/console/plans\?id={rx_id}$"))
    assert patient not in page.url

    primary, secondary = (page.get_by_role("group", name=n) for n in ("Primary plan", "Secondary plan"))
    expect(primary.get_by_label("BIN (101-A1)")).to_have_value("999001")
    expect(primary.get_by_label("Person code (303-C3)")).to_have_value("01")
    expect(secondary.get_by_label("Cardholder ID (302-C2)")).to_have_value("SYN-SEC-1")
    expect(secondary.get_by_label("Relationship (306-C6)")).to_have_value("2")
    expect(primary.get_by_role("button", name="Move up")).to_be_disabled()

    secondary.get_by_role("button", name="Move up").click()
    expect(primary.get_by_label("BIN (101-A1)")).to_have_value("999003")
    expect(page.get_by_text("Changed here, not saved yet.")).to_be_visible()
    assert [p["bin"] for p in _on_file(hub, patient)] == ["999001", "999003"]  # nothing saved before Save
    secondary.get_by_label("Group ID (301-C1)").fill("GRP02")
    page.get_by_role("button", name="Save plans").click()
    expect(page.locator("#status")).to_have_text("Saved: 2 plans on file, billed in this order.")
    expect(page.get_by_text("Changed here, not saved yet.")).to_be_hidden()
    assert _on_file(hub, patient) == [SECONDARY, {**PRIMARY, "group_id": "GRP02"}]
    screenshot(page, "technician-plans-on-file")

    primary.get_by_role("button", name="Remove").click()
    expect(secondary).to_have_count(0)
    expect(primary.get_by_label("BIN (101-A1)")).to_have_value("999001")
    page.get_by_role("button", name="Save plans").click()
    expect(page.locator("#status")).to_have_text("Saved: 1 plan on file, billed in this order.")
    assert _on_file(hub, patient) == [{**PRIMARY, "group_id": "GRP02"}]

    primary.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("No plan on file.")).to_be_visible()
    page.get_by_role("button", name="Save plans").click()
    expect(page.locator("#status")).to_have_text("Saved: no plan on file.")
    assert _on_file(hub, patient) == []


def test_the_apis_refusal_is_shown_next_to_its_field_and_nothing_is_saved(axe_page: Page, hub: Pharmacy) -> None:
    page = axe_page
    rx_id, patient = _patient_on_file(hub, [PRIMARY])
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + f"/console/plans?id={rx_id}")
    primary = page.get_by_role("group", name="Primary plan")
    expect(primary.get_by_label("BIN (101-A1)")).to_have_value("999001")

    page.get_by_role("button", name="Add a plan").click()
    secondary = page.get_by_role("group", name="Secondary plan")
    expect(secondary.get_by_label("BIN (101-A1)")).to_be_focused()
    secondary.get_by_label("BIN (101-A1)").fill("99900X")
    secondary.get_by_label("Cardholder ID (302-C2)").fill("SYN-SEC-2")
    secondary.get_by_label("Person code (303-C3)").fill("0002")
    page.get_by_role("button", name="Save plans").click()

    bin_, person = secondary.get_by_label("BIN (101-A1)"), secondary.get_by_label("Person code (303-C3)")
    expect(bin_).to_have_attribute("aria-invalid", "true")
    expect(bin_).to_have_accessible_description(re.compile(r"6 digits String should match pattern"))
    expect(person).to_have_accessible_description(re.compile(r"at most 3 characters"))
    expect(bin_).to_be_focused()
    expect(secondary.get_by_label("Cardholder ID (302-C2)")).not_to_have_attribute("aria-invalid", "true")
    expect(primary.get_by_label("BIN (101-A1)")).not_to_have_attribute("aria-invalid", "true")
    refusal = "Not saved: check the secondary plan BIN (101-A1), the secondary plan Person code (303-C3)."
    expect(page.locator("#status")).to_have_text(refusal)
    expect(page.get_by_role("form", name="Plans in billing order").locator(".outcome")).to_have_text(refusal)
    assert _on_file(hub, patient) == [PRIMARY]
    assert not serious_violations(page)
    screenshot(page, "technician-plans-refused")

    bin_.fill("999003")
    person.fill("02")
    page.get_by_role("button", name="Save plans").click()
    expect(page.locator("#status")).to_have_text("Saved: 2 plans on file, billed in this order.")
    expect(page.locator(".field-error:visible")).to_have_count(0)
    assert _on_file(hub, patient) == [PRIMARY, {"bin": "999003", "cardholder_id": "SYN-SEC-2", "person_code": "02"}]
