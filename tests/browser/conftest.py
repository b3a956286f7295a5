"""Browser fixtures: Debian's chromium driven by Playwright, loopback only, and a hub serving the console."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

from tests.browser.console_driver import mount_console
from tests.conftest import make_settings
from tests.support.pharmacy import Pharmacy, pharmacy

CHROMIUM = os.environ.get("RXHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver per module: its sync API runs an event loop in the main thread, which must be
    gone before tests that call asyncio.run() (a session-wide driver would break every later one)."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/ensure.sh browser"
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless; never a browser Playwright downloaded."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab on a laptop-sized screen; requests off loopback are refused and JS errors fail the test."""
    context = browser.new_context(viewport=LAPTOP, service_workers="block")
    context.set_default_timeout(15_000)
    context.route("**/*", _loopback_only)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: _console_error(msg, errors))
    yield page
    context.close()
    assert not errors, errors


def _loopback_only(route: Route) -> None:
    host = urlsplit(route.request.url).hostname
    if host in ("127.0.0.1", "localhost", "::1"):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def _console_error(msg: ConsoleMessage, errors: list[str]) -> None:
    # the console reports refusals (401/403/409/422) itself; the browser's own log of those is expected
    if msg.type == "error" and not any(f"status of {code}" in msg.text for code in ("40", "422")):
        errors.append(f"console: {msg.text}")


@pytest.fixture
def hub(amqp_url: str, sqlite_url: str) -> Iterator[Pharmacy]:
    """The whole hub with the payer simulator, staff users, and the console mounted."""
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001", payer_timeout_ms=3000)
    with pharmacy(settings) as ph:
        mount_console(ph)
        yield ph
