"""The API's documentation pages (Swagger UI at /docs, ReDoc at /redoc) served with their scripts and styles
from the hub itself.

FastAPI's own pages load them from a CDN, so on a pharmacy's air-gapped network they stayed blank. The assets
come from the ``fastapi-offline`` package (Swagger UI 5, which renders the OpenAPI 3.1 FastAPI writes; ReDoc;
a favicon); only its files are used, the app stays ours. The pages are off unless ``RXHUB_API_DOCS`` is set:
a hub on a pharmacy's network need not show anyone who reaches it how to drive its API.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: where the pages' scripts, styles and favicon are served
ASSETS_URL = "/docs/assets"
#: the folder of the installed package that holds them (a real folder: pip installs packages unpacked)
ASSETS_DIR = Path(str(resources.files("fastapi_offline") / "static"))


def mount_api_docs(app: FastAPI, served: bool) -> None:
    """Serve /docs and /redoc, and their assets under ``ASSETS_URL``; the app must be made with ``docs_url=None``
    and ``redoc_url=None`` (FastAPI's CDN pages). The pages answer 404 unless ``served`` (``RXHUB_API_DOCS``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="api-docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """Swagger UI: try the API with a bearer token."""
        _served(served)
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        """ReDoc: the API to read, without Google's fonts."""
        _served(served)
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


def _served(served: bool) -> None:
    """404 unless the settings turn the documentation pages on."""
    if not served:
        raise HTTPException(404, "the API documentation pages are off (RXHUB_API_DOCS)")
