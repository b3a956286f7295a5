"""A technician settles an identity conflict in a real browser: both profiles side by side, then a link."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from hub.persistence.tables import patients
from tests.browser.console_driver import screenshot, send_hl7, sign_in
from tests.support.pharmacy import Pharmacy

ORDER = "01_rde_o11_retail_amoxicillin.hl7"


def test_technician_compares_the_two_profiles_and_links_them(page: Page, hub: Pharmacy) -> None:
    # one sender, one number: Alice, then an order with another name, birth date and sex under it
    assert b"MSA|AA" in send_hl7(hub, ORDER)
    assert b"MSA|AA" in send_hl7(
        hub,
        ORDER,
        **{
            "RXH-DEMO-0001": "RXH-DEMO-0002",
            "PLC1001": "PLC2001",
            "Synthetic^Alice^Q": "Other^Bob",
            "19800101|F": "19700101|M",
        },
    )
    bob = hub.by_placer("PLC2001")
    sign_in(page, hub, "technician")
    page.get_by_role("link", name="Identity conflicts").click()
    item = page.locator("#q-identity-conflicts > li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Differs: birth date, sex, name")
    expect(item.locator("tr.differs")).to_have_count(4)  # family and given name, birth date, sex
    expect(item.locator("table")).to_contain_text("Alice")
    expect(item.locator("table")).to_contain_text("Bob")
    screenshot(page, "technician-identity")

    item.get_by_label("Reason").fill("same patient: confirmed with the clinic")
    item.get_by_role("button", name="Link: one person").click()
    expect(page.locator("#status")).to_have_text("Linked the two profiles.")
    expect(item).to_have_count(0)
    with hub.engine.connect() as conn:
        merged = conn.execute(select(patients.c.merged_into).where(patients.c.id == bob.document["patient_id"]))
        assert merged.scalar_one() is not None
