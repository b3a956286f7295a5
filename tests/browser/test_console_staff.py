"""Technicians and pharmacists at work in a real browser: claim rejections, verification, role limits."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from hub.persistence.audit import AuditTrail
from tests.browser.console_driver import base_url, queue_item, screenshot, send_hl7, sign_in, stock
from tests.support.pharmacy import Pharmacy


def test_technician_receives_stock_and_resolves_a_claim_rejection_that_arrives_while_the_page_is_open(
    page: Page, hub: Pharmacy
) -> None:
    sign_in(page, hub, "technician")
    page.get_by_role("link", name="Inventory").click()
    page.get_by_label("NDC as printed").fill("00002-8215-01")
    page.get_by_label("Lot").fill("LOT-INS")
    page.get_by_label("Expiry").fill("2030-06-30")
    page.get_by_label("Quantity").fill("100")
    page.get_by_role("button", name="Receive into inventory").click()
    expect(page.locator("#shelf tbody")).to_contain_text("LOT-INS")
    screenshot(page, "technician-inventory")

    page.get_by_role("link", name="Work queues").click()
    expect(page.locator("#q-claim-exceptions")).to_have_class(re.compile("is-empty"))
    assert b"MSA|AA" in send_hl7(hub, "03_omp_o09_insulin_needs_prior_auth.hl7")
    row = hub.wait_state(hub.by_placer("PLC1003").id, "claim_rejected")

    item = queue_item(page, "claim-exceptions", row.rx_number)  # no reload: the page polls
    expect(item.locator(".rejects")).to_contain_text("75 Prior authorization required")
    expect(item.get_by_role("button", name="Bill as cash")).to_be_visible()
    expect(item.get_by_role("button", name="Cancel prescription")).to_be_visible()
    expect(item.get_by_role("button", name="Resubmit with DUR/PPS")).to_have_count(0)  # pharmacist only
    screenshot(page, "technician-work")

    item.get_by_label("Prior authorization number").fill("PA778899")
    item.get_by_label("Prior authorization number").press("Enter")  # the keyboard is enough
    expect(page.locator("#status")).to_have_text(f"Resubmitted Rx {row.rx_number}.")
    done = hub.wait_state(row.id, "data_verification")
    expect(item).to_have_count(0)
    claim = done.document["fills"][0]["claim"]
    assert claim["status"] == "paid" and claim["prior_auth_number"] == "PA778899"


def test_pharmacist_approves_data_and_product_verification_until_ready(page: Page, hub: Pharmacy) -> None:
    stock(hub, "00093005801")
    send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")
    row = hub.wait_state(hub.by_placer("PLC1001").id, "data_verification")
    sign_in(page, hub, "pharmacist")

    item = queue_item(page, "data-verification", row.rx_number)
    expect(item).to_contain_text("Order as received")
    expect(item).to_contain_text("Take 1 capsule by mouth twice daily")
    expect(item).to_contain_text("Allergies")
    expect(item).to_contain_text("DUR alerts")
    screenshot(page, "pharmacist-data-verification")
    item.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_have_text(f"Approved data verification of Rx {row.rx_number}.")
    hub.wait_state(row.id, "product_verification")

    product = queue_item(page, "product-verification", row.rx_number)
    expect(product).to_contain_text("LOT-A")
    expect(product.locator(".label-print")).to_contain_text("Take 1 capsule by mouth twice daily")
    expect(product).to_contain_text("00093005801")
    screenshot(page, "pharmacist-product-verification")
    product.get_by_role("button", name="Approve").click()
    hub.wait_state(row.id, "ready")

    page.goto(base_url(hub) + "/console/work")
    expect(queue_item(page, "ready", row.rx_number).get_by_role("button", name="Picked up")).to_be_visible()
    screenshot(page, "pharmacist-work-ready")


def test_technician_sees_no_pharmacist_actions_and_the_server_refuses_them(page: Page, hub: Pharmacy) -> None:
    send_hl7(hub, "02_rde_o11_inpatient_lisinopril.hl7")
    row = hub.wait_state(hub.by_placer("PLC1002").id, "data_verification")
    sign_in(page, hub, "technician")
    nav = page.get_by_role("navigation", name="Console pages")
    expect(nav.get_by_role("link", name="Work queues")).to_be_visible()
    expect(nav.get_by_role("link", name="Verification")).to_be_hidden()
    expect(nav.get_by_role("link", name="Verbal order")).to_be_hidden()

    for slug in ("verify", "verbal-order"):
        page.goto(base_url(hub) + f"/console/{slug}")
        expect(page.locator("main")).to_contain_text("This page is for the pharmacist role")
        expect(page.get_by_role("button", name="Approve")).to_have_count(0)
        expect(page.get_by_role("button", name="Record verbal order")).to_have_count(0)
    screenshot(page, "technician-refused-verify")

    # the same token, calling the API by hand from the page: the server refuses and audits it
    status = page.evaluate(
        """async (id) => (await fetch(`/api/prescriptions/${id}/data-verification`, {
        method: "POST", headers: {"Content-Type": "application/json",
        Authorization: "Bearer " + sessionStorage.getItem("rxhub.token")}, body: JSON.stringify({approve: true})
    })).status""",
        row.id,
    )
    assert status == 403
    refusals = [e for e in AuditTrail(hub.engine).query(actor="tina.tech") if e.outcome == "forbidden"]
    assert [e.prescription_id for e in refusals] == [row.id]
    assert hub.wait_state(row.id, "data_verification").state == "data_verification"
