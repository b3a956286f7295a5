"""/docs and /redoc work on an air-gapped network: every script, stylesheet and icon they name comes from the hub."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_settings
from tests.security.http_app import App, http_app


class _Assets(HTMLParser):
    """The URLs a page loads: script src, link href (stylesheets, icons), img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        url = named.get("src") if tag in ("script", "img") else named.get("href") if tag == "link" else None
        if url:
            self.urls.append(url)


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, amqp_url: str) -> Iterator[App]:
    database = tmp_path_factory.mktemp("docs") / "rxhub.sqlite3"
    with http_app(make_settings(amqp_url, f"sqlite:///{database}", api_docs=True)) as running:
        yield running


@pytest.mark.parametrize(("page", "kinds"), [("/docs", {".js", ".css", ".png"}), ("/redoc", {".js", ".png"})])
def test_a_docs_page_and_all_it_loads_come_from_the_hub(app: App, page: str, kinds: set[str]) -> None:
    response = app.client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert not re.search(r"(?:https?:)?//", response.text), "the page names another host"
    urls = _assets(response.text)
    assert {Path(urlsplit(url).path).suffix for url in urls} == kinds
    for url in urls:
        assert not urlsplit(url).netloc and url.startswith("/"), url
        asset = app.client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    spec = re.search(r"""(?:url: '|spec-url=")([^'"]+)""", response.text)
    assert spec is not None and app.client.get(spec.group(1)).json()["openapi"].startswith("3.")


def test_swagger_ui_renders_openapi_3_1(app: App) -> None:
    """FastAPI writes OpenAPI 3.1, which Swagger UI renders from version 5 on (4.x shows an error instead)."""
    assert app.client.get("/openapi.json").json()["openapi"].startswith("3.1")
    script = next(u for u in _assets(app.client.get("/docs").text) if u.endswith(".js"))
    version = re.search(rb'PACKAGE_VERSION:"(\d+)\.', app.client.get(script).content)
    assert version is not None and int(version.group(1)) >= 5
