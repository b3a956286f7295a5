"""The console's pages and assets as the server sends them: no data, no inline script, strict headers."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hub.entrypoints.http.console import console_router
from hub.entrypoints.http.console.console import PAGES


class Client:
    """Requests straight to the ASGI app (no server, no browser): what the server sends, byte for byte."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://hub") as c:
                return await c.get(path, **kwargs)

        # a thread of its own: Playwright's sync API keeps an event loop running on the main thread
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, call()).result()


@pytest.fixture
def client() -> Client:
    app = FastAPI()
    app.include_router(console_router())
    return Client(app)


@pytest.mark.parametrize("path", ["/console/", *[f"/console/{p.slug}" for p in PAGES]])
def test_every_page_is_a_shell_with_its_scripts_and_a_strict_policy(client: Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    html = r.text
    assert "$" not in html, "a template placeholder was left unfilled"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script would be blocked by the policy"
    assert " on" + "click=" not in html and "style=" not in html
    for src in re.findall(r'src="(/console/static/[^"]+)"', html) + re.findall(r'href="(/console/static/[^"]+)"', html):
        assert client.get(src).status_code == 200, src


def test_navigation_names_the_roles_each_page_is_for(client: Client) -> None:
    html = client.get("/console/work").text
    assert '<li data-roles="pharmacist" hidden><a href="/console/verify">Verification</a></li>' in html
    assert '<li data-roles="admin" hidden><a href="/console/dead-letters">Dead letters</a></li>' in html
    body = '<body data-page="work" data-roles="technician pharmacist" data-idle-minutes="15" data-timezone="UTC">'
    assert body in html


def test_pages_carry_the_pharmacys_time_zone_from_the_settings() -> None:
    app = FastAPI()
    app.include_router(console_router(timezone="America/Chicago"))
    assert 'data-timezone="America/Chicago"' in Client(app).get("/console/verify").text


def test_console_without_slash_redirects_and_unknown_assets_are_not_found(client: Client) -> None:
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/console/"
    assert client.get("/console/static/console.js").headers["content-type"].startswith("text/javascript")
    for name in ("nope.js", "..%2Fconsole.py", "%2E%2E%2F%2E%2E%2Fconfig.py", "layout.html"):
        assert client.get(f"/console/static/{name}").status_code == 404, name
