"""A technician finds an order refused after it was received, in a real browser (issue 26, part 5)."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.browser.console_driver import screenshot, send_hl7, sign_in
from tests.support.pharmacy import Pharmacy

ORDER = "01_rde_o11_retail_amoxicillin.hl7"


def test_technician_sees_a_second_order_under_a_held_number(page: Page, hub: Pharmacy) -> None:
    assert b"MSA|AA" in send_hl7(hub, ORDER)
    held = hub.by_placer("PLC1001")
    assert b"MSA|AA" in send_hl7(hub, ORDER, **{"RXH-DEMO-0001": "RXH-DEMO-0002"}), "the door cannot tell"
    deadline = time.monotonic() + 20  # refused by intake before the page's first read: no wait for its poll
    with hub.client("technician") as api:
        while not api.get("/api/refused-orders").json() and time.monotonic() < deadline:
            time.sleep(0.05)
    sign_in(page, hub, "technician")
    page.get_by_role("link", name="Refused orders").click()
    item = page.locator("#q-refused-orders > li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Order PLC1001 (EHR)")
    expect(item).to_contain_text(
        f"refused: duplicate order: placer number EHR|PLC1001 is already held by Rx {held.rx_number}"
    )
    expect(page.locator("[data-count='refused-orders']")).to_have_text("(1)")
    screenshot(page, "technician-refused-orders")
