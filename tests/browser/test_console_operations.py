"""Integration engineers in a real browser: find a message and its story, replay a dead letter, the dashboard."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from hub.domain.commands import CancelPrescription
from hub.domain.order_parts import Source
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.audit import AuditTrail
from tests.browser.console_driver import base_url, screenshot, send_hl7, sign_in
from tests.support.pharmacy import Pharmacy
from tests.support.signing import publish_signed

ORDER = "01_rde_o11_retail_amoxicillin.hl7"
#: the sample's sender (MSH-3/4 EHR|GENHOSP) on loopback, bound to no feed: the owner of its orders
SENDER = "hl7:EHR|GENHOSP"


def _publish_cancel_before_its_order(hub: Pharmacy) -> None:
    cancel = Envelope.wrap(
        CancelPrescription(placer_order_number="PLC1001", placer_system="EHR", reason="dup"),
        correlation_id=order_correlation_id("EHR", "PLC1001", owner=SENDER),
        source=Source.HL7,
        principal=SENDER,
    )
    publish_signed(hub.hub.settings, cancel)  # confirmed: on the queue before the console is asked about it


def test_admin_finds_a_message_by_control_id_and_replays_a_dead_letter(page: Page, hub: Pharmacy) -> None:
    # a cancel that overtakes its order (another door's copy accepted it first) fails at intake until retries
    # run out, then waits as a dead letter; a door itself refuses a cancel of an order its sender never sent
    _publish_cancel_before_its_order(hub)
    sign_in(page, hub, "admin")
    page.goto(base_url(hub) + "/console/dead-letters")
    letter = page.locator("#letters tbody tr").filter(has_text="CancelPrescription")
    expect(letter).to_contain_text("arrived before the order", timeout=20_000)

    assert b"MSA|AA" in send_hl7(hub, ORDER)
    row = hub.wait_state(hub.by_placer("PLC1001").id, "data_verification", "claim_pending")
    page.goto(base_url(hub) + "/console/messages")
    page.get_by_label("Control id").fill("RXH-DEMO-0001")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    results.get_by_role("link", name="RXH-DEMO-0001").click()
    story = page.locator("#story")
    expect(story).to_contain_text("MSA|AA|RXH-DEMO-0001")
    expect(story).to_contain_text(f"Rx {row.rx_number}")
    expect(story).to_contain_text("prescription.received")
    expect(story).not_to_contain_text("Synthetic^Alice")
    story.get_by_role("button", name="Show raw message").click()
    expect(story.locator("pre.raw").first).to_contain_text("Synthetic^Alice")
    actions = [e.action for e in AuditTrail(hub.engine).query(actor="ada.admin")]
    assert actions.count("read raw message") == 1
    screenshot(page, "admin-message-story")

    page.goto(base_url(hub) + "/console/dead-letters")
    expect(letter).to_contain_text(f"Rx {row.rx_number}")  # its order is recorded now: the letter names it
    letter.get_by_role("button", name="Replay").click()
    expect(page.locator("#status")).to_contain_text("Replayed CancelPrescription")
    hub.wait_state(row.id, "cancelled")
    expect(page.locator("#letters-empty")).to_be_visible()
    assert "dlq replay" in [e.action for e in AuditTrail(hub.engine).query(actor="ada.admin")]

    page.goto(base_url(hub) + "/console/dashboard")
    expect(page.locator("#doors")).to_contain_text("hl7")
    expect(page.locator("#tiles")).to_contain_text("dead letters")
    expect(page.locator("#states")).to_contain_text("cancelled")
    screenshot(page, "admin-dashboard")
