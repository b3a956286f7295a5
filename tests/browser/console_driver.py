"""Driving the console like a user: sign in, wait for work to show, screenshots on two screen sizes."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from playwright.sync_api import Locator, Page, expect

from hub.entrypoints.http.console import console_router
from hub.entrypoints.mllp_client import MllpClient
from tests.support.pharmacy import Pharmacy

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "hl7"
ARTIFACTS = ROOT / "test-artifacts" / "console"
TABLET = {"width": 768, "height": 1024}


def served_app(ph: Pharmacy) -> FastAPI:
    """The FastAPI app the running hub serves, under the ASGI layers the server wraps it in (headers, hygiene)."""
    app = ph.hub.doors.http.config.app
    while not isinstance(app, FastAPI):
        app = app.app
    return app


def mount_console(ph: Pharmacy) -> None:
    """Mount the console on the running app unless the app already serves it."""
    app = served_app(ph)
    if not any(getattr(route, "path", None) == "/console/" for route in app.routes):
        app.include_router(console_router())


def base_url(ph: Pharmacy) -> str:
    """Where the hub's HTTP app listens."""
    return f"http://127.0.0.1:{ph.hub.http_port}"


def sign_in(page: Page, ph: Pharmacy, role: str) -> None:
    """Paste the role's token into the sign-in form, as a user would, and land on the role's home page."""
    page.goto(base_url(ph) + "/console/")
    page.get_by_label("API token").fill(ph.tokens[role])
    page.get_by_label("API token").press("Enter")
    home = {"technician": "work", "pharmacist": "verify", "admin": "messages"}[role]
    # polled, not awaited as one navigation: the sign-in may navigate twice (the session is shared with other
    # tabs), and waiting on a navigation a newer one replaced fails with net::ERR_ABORTED
    expect(page).to_have_url(re.compile(rf".*/console/{home}(?:[?#].*)?$"), timeout=30_000)
    page.locator("#who-role").filter(has_text=role).wait_for()


def send_hl7(ph: Pharmacy, name: str, **replace: str) -> bytes:
    """Send a sample order over MLLP (with text replaced, to make a variant) and return the ACK."""
    text = (SAMPLES / name).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
        return client.send(text.encode())


def stock(ph: Pharmacy, ndc: str) -> None:
    """Put a lot on the shelf through the API."""
    r = ph.client("technician").post(
        "/api/inventory", json={"ndc": ndc, "lot": "LOT-A", "expiry": "2030-01-31", "quantity": "500"}
    )
    assert r.status_code == 202, r.text


def queue_item(page: Page, queue: str, rx_number: str) -> Locator:
    """The item of a work queue for one Rx (waits until polling brings it in)."""
    item = page.locator(f"#q-{queue} > li").filter(has_text=f"Rx {rx_number}")
    item.wait_for()
    return item


def screenshot(page: Page, name: str) -> None:
    """Save the page on a laptop and on a tablet screen (test-artifacts/console/, git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    laptop = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"{name}-laptop.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(ARTIFACTS / f"{name}-tablet.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
    if laptop:
        page.set_viewport_size(laptop)
