"""Cash prices in a real browser (issue 27): "bill as cash" shows the price and sends nothing until the
technician confirms it; will-call shows the amount due."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.console_driver import base_url, queue_item, screenshot, send_hl7, sign_in, stock
from tests.support.pharmacy import Pharmacy
from tests.support.staff import settled

INSULIN = "00002821501"


def _approve(hub: Pharmacy, prescription_id: str, stage: str) -> None:
    client = hub.client("pharmacist")
    r = client.post(f"/api/prescriptions/{prescription_id}/{stage}-verification", json={"approve": True})
    assert r.status_code == 202, r.text
    assert settled(client, r.json()["command_id"])["status"] == "applied"


def test_bill_as_cash_shows_the_price_asks_to_confirm_and_will_call_shows_the_amount_due(
    page: Page, hub: Pharmacy
) -> None:
    stock(hub, INSULIN)
    assert b"MSA|AA" in send_hl7(hub, "03_omp_o09_insulin_needs_prior_auth.hl7")
    row = hub.wait_state(hub.by_placer("PLC1003").id, "claim_rejected")
    price = Decimal(row.document["fills"][0]["claim"]["amount_requested"])
    sign_in(page, hub, "technician")

    item = queue_item(page, "claim-exceptions", row.rx_number)
    expect(item.locator(".cash-price")).to_have_text(f"Cash price: ${price:,.2f}")
    cash = item.get_by_role("form", name=f"Bill as cash for Rx {row.rx_number}")
    expect(cash.get_by_label("Cash price (USD)")).to_have_value(str(price))
    cash.get_by_role("button", name="Bill as cash").click()
    confirm = cash.get_by_role("group", name="Confirm cash price")
    expect(confirm).to_contain_text(f"The patient pays ${price:,.2f} in cash for Rx {row.rx_number}")
    assert hub.wait_state(row.id, "claim_rejected").state == "claim_rejected"  # nothing sent before confirming

    cash.get_by_label("Cash price (USD)").fill("25.5")  # a new price hides the old confirmation
    expect(confirm).to_be_hidden()
    cash.get_by_label("Cash price (USD)").press("Enter")
    screenshot(page, "technician-cash-confirm")
    confirm.get_by_role("button", name="Confirm: bill $25.50 cash").click()
    expect(page.locator("#status")).to_have_text(f"Billed as cash ($25.50) Rx {row.rx_number}.")
    claim = hub.wait_state(row.id, "data_verification").document["fills"][0]["claim"]
    assert claim["status"] == "cash" and Decimal(claim["amount_requested"]) == Decimal("25.50")

    _approve(hub, row.id, "data")
    hub.wait_state(row.id, "product_verification")
    _approve(hub, row.id, "product")
    hub.wait_state(row.id, "ready")
    page.goto(base_url(hub) + "/console/work")
    ready = queue_item(page, "ready", row.rx_number)
    expect(ready.locator(".amount-due")).to_have_text("Amount due: $25.50 (cash)")
    screenshot(page, "technician-will-call-amount")


def test_will_call_shows_the_copay_of_a_paid_claim(page: Page, hub: Pharmacy) -> None:
    stock(hub, "00093005801")
    send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")
    row = hub.wait_state(hub.by_placer("PLC1001").id, "data_verification")
    _approve(hub, row.id, "data")
    hub.wait_state(row.id, "product_verification")
    _approve(hub, row.id, "product")
    ready_row = hub.wait_state(row.id, "ready")
    copay = Decimal(ready_row.document["fills"][0]["claim"]["patient_pay"])
    sign_in(page, hub, "technician")
    ready = queue_item(page, "ready", row.rx_number)
    expect(ready.locator(".amount-due")).to_have_text(f"Amount due: ${copay:,.2f}")
