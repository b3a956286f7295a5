"""420-DK in a real browser (issue 33, part 2): the technician picks submission clarification codes on a
rejected claim's resubmission, and they travel with the claim."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.console_driver import queue_item, screenshot, send_hl7, sign_in
from tests.support.pharmacy import Pharmacy


def test_technician_resubmits_with_clarification_codes(page: Page, hub: Pharmacy) -> None:
    assert b"MSA|AA" in send_hl7(hub, "03_omp_o09_insulin_needs_prior_auth.hl7")
    row = hub.wait_state(hub.by_placer("PLC1003").id, "claim_rejected")
    sign_in(page, hub, "technician")

    item = queue_item(page, "claim-exceptions", row.rx_number)
    resubmit = item.get_by_role("form", name=f"Resubmit for Rx {row.rx_number}")
    codes = resubmit.get_by_role("group", name="Submission clarification (420-DK, up to 3)")
    codes.get_by_label("03 Vacation supply").check()
    codes.get_by_label("04 Lost prescription").check()
    resubmit.get_by_label("Prior authorization number").fill("PA123456")
    screenshot(page, "technician-clarification-codes")
    resubmit.get_by_role("button", name="Resubmit claim").click()
    expect(page.locator("#status")).to_have_text(f"Resubmitted Rx {row.rx_number}.")
    claim = hub.wait_state(row.id, "data_verification").document["fills"][0]["claim"]
    assert claim["attempt"] == 2 and claim["clarification_codes"] == ["03", "04"]
    assert claim["prior_auth_number"] == "PA123456"
