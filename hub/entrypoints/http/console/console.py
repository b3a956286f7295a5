"""The staff console: server-served pages whose scripts call the JSON API with the user's own bearer token.

The pages carry no data and need no sign-in; everything shown or done goes through ``/api`` with the
token the user pasted (kept in the tab's sessionStorage), so the console has the same authorization and
the same audit trail as any other client: no back door.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from string import Template

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

_HERE = Path(__file__).resolve().parent
_STATIC = _HERE / "static"
_TEMPLATES = _HERE / "templates"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}

#: The pages render untrusted text (raw messages, payer messages) only through textContent; the policy
#: backs that up by refusing inline and foreign scripts, and framing (clickjacking of approve buttons).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Page(BaseModel):
    """One console page: where it lives, its title, who it is for and the script that fills it."""

    model_config = ConfigDict(frozen=True)

    slug: str
    title: str
    roles: tuple[str, ...]
    scripts: tuple[str, ...]
    #: listed in the navigation (a page reached from another, such as one prescription's, is not)
    in_nav: bool = True


PAGES: tuple[Page, ...] = (
    Page(
        slug="work",
        title="Work queues",
        roles=("technician", "pharmacist"),
        scripts=("reject_codes.js", "items.js", "work.js"),
    ),
    Page(slug="verify", title="Verification", roles=("pharmacist",), scripts=("items.js", "verify.js")),
    Page(
        slug="search", title="Find a prescription", roles=("technician", "pharmacist", "admin"), scripts=("search.js",)
    ),
    Page(
        slug="prescription",
        title="Prescription",
        roles=("technician", "pharmacist", "admin"),
        scripts=("prescription.js",),
        in_nav=False,
    ),
    Page(slug="plans", title="Plans on file", roles=("technician", "pharmacist"), scripts=("plans.js",), in_nav=False),
    Page(slug="inventory", title="Inventory", roles=("technician", "pharmacist", "admin"), scripts=("inventory.js",)),
    Page(
        slug="identity",
        title="Identity conflicts",
        roles=("technician", "pharmacist", "admin"),
        scripts=("identity.js",),
    ),
    Page(
        slug="refused-orders",
        title="Refused orders",
        roles=("technician", "pharmacist", "admin"),
        scripts=("refused.js",),
    ),
    Page(slug="verbal-order", title="Verbal order", roles=("pharmacist",), scripts=("verbal.js",)),
    Page(slug="messages", title="Messages", roles=("admin",), scripts=("messages.js",)),
    Page(slug="dead-letters", title="Dead letters", roles=("admin",), scripts=("dead_letters.js",)),
    Page(slug="dashboard", title="Dashboard", roles=("admin",), scripts=("dashboard.js",)),
)
SIGN_IN = Page(slug="", title="Sign in", roles=(), scripts=("sign_in.js",))


#: minutes without activity before the console signs its user out (``Settings.console_idle_minutes``)
DEFAULT_IDLE_MINUTES = 15.0
#: the zone times are shown in when none is given (``Settings.pharmacy_timezone``)
DEFAULT_TIMEZONE = "UTC"


def render_page(page: Page, idle_minutes: float = DEFAULT_IDLE_MINUTES, timezone: str = DEFAULT_TIMEZONE) -> str:
    """The page shell: layout, navigation (shown per role by the script) and the page's own body; the idle
    limit and the pharmacy's time zone ride on ``<body data-...>`` so the scripts learn them without a request."""
    layout = Template((_TEMPLATES / "layout.html").read_text(encoding="utf-8"))
    body = (_TEMPLATES / f"{page.slug or 'sign_in'}.html").read_text(encoding="utf-8")
    nav = "\n".join(
        f'<li data-roles="{" ".join(p.roles)}" hidden><a href="/console/{p.slug}">{p.title}</a></li>'
        for p in PAGES
        if p.in_nav
    )
    scripts = "\n".join(f'<script src="/console/static/{name}" defer></script>' for name in page.scripts)
    return layout.substitute(
        title=page.title,
        slug=page.slug or "sign-in",
        roles=" ".join(page.roles),
        nav=nav,
        main=body,
        scripts=scripts,
        idle=f"{idle_minutes:g}",
        timezone=html.escape(timezone),
    )


def _html(page: Page, idle_minutes: float, timezone: str) -> HTMLResponse:
    return HTMLResponse(render_page(page, idle_minutes, timezone), headers=SECURITY_HEADERS)


def console_router(idle_minutes: float = DEFAULT_IDLE_MINUTES, timezone: str = DEFAULT_TIMEZONE) -> APIRouter:
    """The console's pages and assets, to be mounted at ``/console``; ``idle_minutes``: the idle logoff;
    ``timezone``: the pharmacy's (``Settings.pharmacy_timezone``, validated when the settings were read)."""
    router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
    assets = {p.name: p for p in _STATIC.iterdir() if p.suffix in _MEDIA_TYPES}

    @router.get("")
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    @router.get("/")
    def sign_in() -> HTMLResponse:
        return _html(SIGN_IN, idle_minutes, timezone)

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        # only the files present at start-up: a name is a dictionary key, never a path
        path = assets.get(name)
        if path is None:
            raise HTTPException(404, "no such asset")
        return Response(
            path.read_bytes(),
            media_type=_MEDIA_TYPES[path.suffix],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    for page in PAGES:
        router.add_api_route(
            f"/{page.slug}", _page_endpoint(page, idle_minutes, timezone), methods=["GET"], response_class=HTMLResponse
        )
    return router


def _page_endpoint(page: Page, idle_minutes: float, timezone: str) -> Callable[[], HTMLResponse]:
    def endpoint() -> HTMLResponse:
        return _html(page, idle_minutes, timezone)

    endpoint.__name__ = f"console_{page.slug.replace('-', '_')}"
    return endpoint
