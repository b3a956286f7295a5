"""Insurance corrections in a real browser (issue 33, part 3): a claim rejected 07 (M/I cardholder) is corrected on
the claim exceptions page, and only the changed fields travel with the resubmission, which is paid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.payer_link.simulator import PayerSimulator
from tests.browser.console_driver import mount_console, queue_item, screenshot, send_hl7, sign_in
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy

MEMBER = "ZX7654321"


@pytest.fixture
def members_hub(amqp_url: str, sqlite_url: str) -> Iterator[Pharmacy]:
    """The hub whose simulated payer knows one member: any other cardholder rejects 07."""
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=3000)
    config = load_payer_config(settings.payer_sim_config).model_copy(update={"members": (MEMBER,)})
    with pharmacy(settings, simulator=PayerSimulator(config)) as ph:
        mount_console(ph)
        yield ph


def test_technician_corrects_the_cardholder_and_resubmits(page: Page, members_hub: Pharmacy) -> None:
    hub = members_hub
    assert b"MSA|AA" in send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")
    row = hub.wait_state(hub.by_placer("PLC1001").id, "claim_rejected")
    billed = row.document["fills"][0]["claim"]
    assert billed["reject_codes"] == ["07"]
    sign_in(page, hub, "technician")

    item = queue_item(page, "claim-exceptions", row.rx_number)
    resubmit = item.get_by_role("form", name=f"Resubmit for Rx {row.rx_number}")
    insurance = resubmit.get_by_role("group", name="Insurance on the claim")
    expect(insurance.get_by_label("BIN (101-A1)")).to_have_value("999001")
    insurance.get_by_label("Cardholder ID (302-C2)").fill(MEMBER)
    screenshot(page, "technician-coverage-correction")
    resubmit.get_by_role("button", name="Resubmit claim").click()
    expect(page.locator("#status")).to_have_text(f"Resubmitted Rx {row.rx_number}.")
    claim = hub.wait_state(row.id, "data_verification").document["fills"][0]["claim"]
    assert (claim["attempt"], claim["status"], claim["cardholder_id"]) == (2, "paid", MEMBER)
    assert (claim["bin"], claim["group_id"]) == (billed["bin"], billed["group_id"])


def test_technician_checks_eligibility_before_resubmitting(page: Page, members_hub: Pharmacy) -> None:
    hub = members_hub
    assert b"MSA|AA" in send_hl7(hub, "01_rde_o11_retail_amoxicillin.hl7")
    row = hub.wait_state(hub.by_placer("PLC1001").id, "claim_rejected")
    sign_in(page, hub, "technician")

    item = queue_item(page, "claim-exceptions", row.rx_number)
    check = item.get_by_role("form", name=f"Check eligibility for Rx {row.rx_number}")
    answer = check.get_by_role("status", name="Eligibility answer")
    check.get_by_role("button", name="Check eligibility (E1)").click()
    expect(answer).to_contain_text("Not eligible: rejected 07")
    item.get_by_label("Cardholder ID (302-C2)").fill(MEMBER)
    check.get_by_role("button", name="Check eligibility (E1)").click()
    expect(answer).to_have_text("Eligible: the plan accepted the E1.")
    screenshot(page, "technician-eligibility-check")
    assert hub.wait_state(row.id, "claim_rejected").document["fills"][0]["claim"]["attempt"] == 1  # nothing billed
