"""Issue 27, part 5, in a real browser: stock received with the NDC as printed or from a scanned barcode;
expired lots, unknown and ambiguous NDCs refused in words; drug names on the shelf."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect

from hub.domain.gs1 import gtin_check_digit
from hub.persistence.audit import AuditTrail
from tests.browser.console_driver import base_url, sign_in
from tests.support.pharmacy import Pharmacy


def _receive(page: Page, ndc: str, lot: str, expiry: str = "2031-05-31") -> None:
    page.get_by_label("NDC as printed").fill(ndc)
    page.get_by_label("Lot").fill(lot)
    page.get_by_label("Expiry").fill(expiry)
    page.get_by_label("Quantity").fill("100")
    page.get_by_role("button", name="Receive into inventory").click()


def test_receiving_takes_ndcs_as_printed_and_refuses_what_the_shelf_may_not_hold(page: Page, hub: Pharmacy) -> None:
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + "/console/inventory")
    said = page.locator("#receive-form .outcome")

    _receive(page, "0143-3142-01", "LOT-442")  # 4-4-2, as on the bottle
    expect(said).to_contain_text("Received lot LOT-442")
    row = page.locator("#shelf tbody tr").filter(has_text="LOT-442")
    expect(row).to_contain_text("0143-3142-01")
    expect(row.locator("td").first).not_to_have_text("(not in the catalogue)")
    expect(row.locator("td").first).not_to_be_empty()

    _receive(page, "0143314201", "LOT-10")  # 10 digits without dashes: which segment to pad is not known
    expect(said).to_contain_text("Check the form:")
    expect(said).to_contain_text("4-4-2, 5-3-2, 5-4-1")

    _receive(page, "99999-9999-99", "LOT-UNKNOWN")
    expect(said).to_have_text(
        "Check the form: NDC 99999-9999-99 is not in the drug catalogue: stock of it could never be dispensed"
    )

    _receive(page, "0143-3142-01", "LOT-2020", expiry="2020-06-30")
    expect(said).to_have_text("Check the form: lot LOT-2020 expired on 2020-06-30: it may not go on the shelf")
    expect(page.locator("#shelf tbody")).not_to_contain_text("LOT-2020")
    refused = [e for e in AuditTrail(hub.engine).query(actor="tina.tech") if e.outcome == "refused"]
    assert len(refused) == 2, refused


def test_a_scanned_barcode_fills_the_form(page: Page, hub: Pharmacy) -> None:
    gtin = "0030143314201"
    gtin += str(gtin_check_digit(gtin))
    expiry = f"{(date.today().year + 2) % 100:02d}0300"  # day 00: the end of March
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + "/console/inventory")
    page.get_by_label("Scan the package barcode").fill(f"]d201{gtin}10SCAN-7\x1d17{expiry}")
    page.get_by_label("Scan the package barcode").press("Enter")
    expect(page.locator("#r-product")).to_contain_text("NDC 0143-3142-01")
    expect(page.get_by_label("NDC as printed")).to_have_value("0143-3142-01")
    expect(page.get_by_label("Lot")).to_have_value("SCAN-7")
    expect(page.get_by_label("Expiry")).to_have_value(f"{date.today().year + 2}-03-31")
    expect(page.get_by_label("Quantity")).to_be_focused()
    page.get_by_label("Quantity").fill("50")
    page.get_by_role("button", name="Receive into inventory").click()
    expect(page.locator("#receive-form .outcome")).to_contain_text("Received lot SCAN-7")

    page.get_by_label("Scan the package barcode").fill("(01)00312345678906")
    page.get_by_label("Scan the package barcode").press("Enter")
    expect(page.locator("#status")).to_contain_text("NDC digits 1234567890 match no product in the drug catalogue")
    page.get_by_label("Scan the package barcode").fill("(01)00312345678907")
    page.get_by_label("Scan the package barcode").press("Enter")
    expect(page.locator("#status")).to_contain_text("the barcode cannot be read: GTIN 00312345678907 fails its check")
