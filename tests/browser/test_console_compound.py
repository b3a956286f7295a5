"""A compound's ingredients where the console shows the drug: the prescription page a technician opens."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from hub.entrypoints.mllp_client import MllpClient
from tests.browser.console_driver import base_url, screenshot, sign_in
from tests.support.pharmacy import Pharmacy
from tests.unit.hl7.test_compound_order import BASE, LIDOCAINE, PRILOCAINE, RDE, RXE

PID = "PID|1||MRN7001^^^HOSP^MR||SYNTHETIC^CORA||19750304|F"
ORC = "ORC|NW|CMPB1|||||||20250101|||1234567893^WELBY^MARCUS^^^^^^^^^^NPI"


def test_the_prescription_page_lists_a_compounds_ingredients(page: Page, hub: Pharmacy) -> None:
    message = "\r".join([RDE, PID, "PV1|1|O", ORC, RXE, "RXR|TOP", LIDOCAINE, PRILOCAINE, BASE])
    with MllpClient("127.0.0.1", hub.hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(message.encode())
    row = hub.by_placer("CMPB1")
    hub.wait_state(row.id, "claim_rejected", "data_verification")
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + f"/console/prescription?id={row.id}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Ingredients")
    expect(facts).to_contain_text("cream: Lidocaine (NDC 00054418425) 6 G + Prilocaine (NDC 52268015001) 6 G")
    expect(facts).to_contain_text("Cream base (NDC 99999000101) 48 G")
    screenshot(page, "technician-compound-ingredients")
