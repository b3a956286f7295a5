"""Issue 27, part 6, in a real browser: one sign-in per browser session, idle logoff, and a lapsed token asked
for again over the page with what was typed kept."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from hub.entrypoints.http.auth import token_cache
from hub.persistence.users import UserStore
from tests.browser.console_driver import base_url, served_app, sign_in
from tests.support.pharmacy import Pharmacy


def test_the_token_is_typed_once_per_browser_session(page: Page, hub: Pharmacy) -> None:
    sign_in(page, hub, "pharmacist")
    assert "token" not in page.url
    other = page.context.new_page()  # a second tab of the same browser: signed in without typing anything
    other.goto(base_url(hub) + "/console/inventory")
    expect(other.locator("#who-role")).to_have_text("pharmacist")
    expect(other.get_by_role("heading", name="Receive stock")).to_be_visible()
    assert other.evaluate("sessionStorage.getItem('rxhub.token')") == hub.tokens["pharmacist"]
    assert other.evaluate("localStorage.length") == 0  # never kept past the browser session
    # signing out in one tab signs out every tab
    other.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/?signed_out=out")
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('rxhub.token')") is None


def test_idle_logoff_after_the_configured_minutes(page: Page, hub: Pharmacy) -> None:
    page.clock.install()
    sign_in(page, hub, "technician")
    assert page.evaluate("document.body.dataset.idleMinutes") == "15"
    page.clock.fast_forward("14:00")  # polling the queues is not activity; a key press is
    page.locator("body").press("Shift")
    page.clock.fast_forward("14:00")
    expect(page.locator("#who-role")).to_have_text("technician")
    page.clock.fast_forward("01:30")
    page.wait_for_url("**/console/?signed_out=idle")
    expect(page.get_by_role("alert")).to_have_text(
        "You were signed out after 15 minutes without activity. Sign in again to carry on."
    )
    assert page.evaluate("sessionStorage.getItem('rxhub.token')") is None


def test_a_revoked_token_asks_again_and_keeps_what_was_typed(page: Page, hub: Pharmacy) -> None:
    sign_in(page, hub, "technician")
    page.goto(base_url(hub) + "/console/inventory")
    page.get_by_label("NDC").fill("00378-0208-01")
    page.get_by_label("Lot").fill("LOT-KEPT")
    page.get_by_label("Expiry").fill("2031-05-31")
    page.get_by_label("Quantity").fill("100")
    assert UserStore(hub.engine).revoke("tina.tech")
    token_cache(served_app(hub)).evict(name="tina.tech")
    page.get_by_role("button", name="Receive into inventory").click()

    dialog = page.get_by_role("dialog", name="Your sign-in has ended")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("What you typed on this page is kept")
    expect(page.locator("#receive-form .outcome")).to_contain_text("Not sent: your sign-in has ended")
    assert page.url.endswith("/console/inventory")
    dialog.get_by_label("API token").fill("rxh_not-a-token")
    dialog.get_by_role("button", name="Sign in again").click()
    expect(dialog).to_contain_text("That token is not valid either.")

    _, token = UserStore(hub.engine).add("tina.tech2", "technician")
    dialog.get_by_label("API token").fill(token)
    dialog.get_by_role("button", name="Sign in again").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("Lot")).to_have_value("LOT-KEPT")
    expect(page.locator("#who-name")).to_have_text("tina.tech2")
    page.get_by_role("button", name="Receive into inventory").click()
    expect(page.locator("#receive-form .outcome")).to_contain_text("Received lot LOT-KEPT")
