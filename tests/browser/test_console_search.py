"""Finding a prescription in a real browser (issue 27): by patient name + birth date, Rx or placer number; its
page shows every fill with its history and offers return to stock (will-call) and refill (dispensed)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from hub.persistence.audit import AuditTrail
from tests.browser.console_driver import screenshot, send_hl7, sign_in, stock
from tests.support.pharmacy import Pharmacy
from tests.support.staff import settled


def _approve(hub: Pharmacy, prescription_id: str, stage: str) -> None:
    client = hub.client("pharmacist")
    r = client.post(f"/api/prescriptions/{prescription_id}/{stage}-verification", json={"approve": True})
    assert r.status_code == 202, r.text
    assert settled(client, r.json()["command_id"])["status"] == "applied"


def test_find_by_patient_return_to_stock_then_refill_from_the_prescription_page(page: Page, hub: Pharmacy) -> None:
    stock(hub, "00093005801")
    send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7", **{"|20|CAP|0|": "|20|CAP|2|"})  # two refills
    row = hub.wait_state(hub.by_placer("PLC1001").id, "data_verification")
    _approve(hub, row.id, "data")
    hub.wait_state(row.id, "product_verification")
    _approve(hub, row.id, "product")
    hub.wait_state(row.id, "ready")

    sign_in(page, hub, "technician")
    page.get_by_role("navigation", name="Console pages").get_by_role("link", name="Find a prescription").click()
    page.get_by_label("Family name").fill("synthetic")
    page.get_by_label("Birth date").fill("1980-01-01")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results tbody")
    expect(results).to_contain_text(f"Rx {row.rx_number}")
    expect(results).to_contain_text("ready")
    screenshot(page, "technician-search")

    page.get_by_label("Family name").fill("")
    page.get_by_label("Birth date").fill("")
    page.get_by_label("Placer order number").fill("PLC1001")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#status")).to_have_text("1 prescription found.")
    results.get_by_role("link", name=f"Rx {row.rx_number}").click()

    page.wait_for_url("**/console/prescription?id=*")
    expect(page.locator("h1")).to_have_text(f"Rx {row.rx_number}")
    expect(page.locator("#history tbody")).to_contain_text("approve product")
    rts = page.get_by_role("form", name=f"Return Rx {row.rx_number} to stock")
    rts.get_by_label("Reason").fill("not picked up in 14 days")
    rts.get_by_role("button", name="Return to stock").click()
    expect(page.locator("#status")).to_have_text(f"Returned to stock Rx {row.rx_number}.")
    hub.wait_state(row.id, "returned_to_stock")
    expect(page.locator("#fills tbody")).to_contain_text("returned to stock")
    screenshot(page, "technician-prescription")

    page.get_by_role("form", name=f"Refill Rx {row.rx_number}").get_by_role("button", name="Refill").click()
    expect(page.locator("#status")).to_have_text(f"Refill started for Rx {row.rx_number}.")
    refilled = hub.wait_state(
        row.id, "data_verification", "claim_pending", "claim_rejected", "filling", "product_verification", "ready"
    )
    assert len(refilled.document["fills"]) == 2
    expect(page.locator("#fills tbody tr")).to_have_count(2)  # the returned fill stays in the history

    searches = [e for e in AuditTrail(hub.engine).query(actor="tina.tech") if e.action == "search prescriptions"]
    assert len(searches) == 2
