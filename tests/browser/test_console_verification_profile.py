"""Data verification as the pharmacist reads it: allergies in words with their reactions, times in the pharmacy's
time zone whatever the browser's (issue 27, 5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LAPTOP
from tests.browser.console_driver import base_url, mount_console, queue_item, screenshot, send_hl7, sign_in
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy

INPATIENT = "02_rde_o11_inpatient_lisinopril.hl7"
VISIT = "PV1|1|I|4WEST^401^A"
ALLERGIES = VISIT + "\rAL1|1|DA|7980^Penicillin^RXNORM|SV|hives~anaphylaxis\rAL1|2|DA|^Sulfa|MI"


def test_allergies_show_reactions_and_severity_in_words(page: Page, hub: Pharmacy) -> None:
    assert b"MSA|AA" in send_hl7(hub, INPATIENT, **{VISIT: ALLERGIES})
    row = hub.wait_state(hub.by_placer("PLC1002").id, "data_verification")
    sign_in(page, hub, "pharmacist")

    allergies = queue_item(page, "data-verification", row.rx_number).locator("ul.allergies > li")
    expect(allergies).to_have_text(["Penicillin - hives, anaphylaxis (severe)", "Sulfa (mild)"])
    expect(allergies.first).not_to_contain_text("SV")
    screenshot(page, "pharmacist-allergy-reactions")


@pytest.fixture
def chicago_hub(amqp_url: str, sqlite_url: str) -> Iterator[Pharmacy]:
    """A hub whose pharmacy is in Chicago."""
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001", pharmacy_timezone="America/Chicago")
    with pharmacy(settings) as ph:
        mount_console(ph)
        yield ph


@pytest.fixture
def tokyo_page(browser: Browser) -> Iterator[Page]:
    """A tab in a browser that believes it is in Tokyo."""
    context = browser.new_context(viewport=LAPTOP, service_workers="block", timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def chicago_time(iso: str) -> str:
    """An instant as the console must print it for a Chicago pharmacy: "Dec 7, 2026, 2:14 PM CST"."""
    at = datetime.fromisoformat(iso).astimezone(ZoneInfo("America/Chicago"))
    return f"{at:%b} {at.day}, {at.year}, {at.hour % 12 or 12}:{at:%M %p %Z}"


def test_times_are_the_pharmacys_not_the_browsers(tokyo_page: Page, chicago_hub: Pharmacy) -> None:
    assert b"MSA|AA" in send_hl7(chicago_hub, INPATIENT)
    row = chicago_hub.wait_state(chicago_hub.by_placer("PLC1002").id, "data_verification")
    received = row.document["fills"][0]["history"][0]["at"]
    assert tokyo_page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"

    sign_in(tokyo_page, chicago_hub, "pharmacist")
    tokyo_page.goto(base_url(chicago_hub) + f"/console/prescription?id={row.id}")
    history = tokyo_page.locator("#history tbody tr").first.locator("td").first
    expect(history).to_have_text(chicago_time(received))
    expect(tokyo_page.locator("#history")).not_to_contain_text("GMT+9")
    # a time typed in the message search is the pharmacy's wall clock too (CST is UTC-6, CDT UTC-5)
    typed = ["2026-01-05T09:05", "2026-07-05T09:05"]
    instants = tokyo_page.evaluate("(xs) => xs.map(Times.fromPharmacyTime)", typed)
    assert instants == ["2026-01-05T15:05:00.000Z", "2026-07-05T14:05:00.000Z"]
    screenshot(tokyo_page, "pharmacist-times-in-pharmacy-zone")
