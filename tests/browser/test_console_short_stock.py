"""Short stock in a real browser (issue 33, part 5): the fill queue shows what is short and the choice; a
partial fill chosen there is billed again for the part (343-HD P), reviewed by the pharmacist and goes on to the
product check with the rest owed."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.console_driver import queue_item, screenshot, send_hl7, sign_in
from tests.support.pharmacy import Pharmacy
from tests.support.staff import settled


def test_the_fill_queue_offers_partial_or_wait_and_a_partial_fill_goes_on(page: Page, hub: Pharmacy) -> None:
    tech, rph = hub.client("technician"), hub.client("pharmacist")
    delivery = {"ndc": "00093005801", "lot": "LOT-A", "expiry": "2030-01-31", "quantity": "8"}
    assert tech.post("/api/inventory", json=delivery).status_code == 202
    send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")  # 20 capsules
    row = hub.wait_state(hub.by_placer("PLC1001").id, "data_verification")
    r = rph.post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True})
    assert settled(rph, r.json()["command_id"])["status"] == "applied"
    sign_in(page, hub, "technician")

    item = queue_item(page, "fill", row.rx_number)
    expect(item.locator(".short-stock")).to_have_text("Only 8 of 20 in stock.")
    wait = item.get_by_role("form", name=f"Wait for stock for Rx {row.rx_number}")
    wait.get_by_label("Reason").fill("delivery tomorrow")
    wait.get_by_role("button", name="Wait for stock").click()
    expect(page.locator("#status")).to_have_text(f"Waiting for stock for Rx {row.rx_number}.")
    item = queue_item(page, "fill", row.rx_number)
    expect(item.locator(".short-stock")).to_contain_text("Waiting for stock")
    screenshot(page, "technician-short-stock")

    partial = item.get_by_role("form", name=f"Partial fill now for Rx {row.rx_number}")
    partial.get_by_label("Reason").fill("patient needs it today")
    partial.get_by_role("button", name="Partial fill now").click()
    expect(page.locator("#status")).to_have_text(f"Partial fill chosen for Rx {row.rx_number}.")
    hub.wait_state(row.id, "data_verification")
    r = rph.post(f"/api/prescriptions/{row.id}/data-verification", json={"approve": True})
    assert settled(rph, r.json()["command_id"])["status"] == "applied"
    fill = hub.wait_state(row.id, "product_verification").document["fills"][0]
    assert (Decimal(fill["quantity_dispensed"]), Decimal(fill["owed"])) == (8, 12)
    assert fill["partial"]["reason"] == "patient needs it today" and fill["dispensing_status"] == "P"
