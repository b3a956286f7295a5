"""Which methods the FHIR door's routes take: HEAD beside every GET, and the Allow list of a 405."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute


def add_head_routes(router: APIRouter) -> None:
    """HEAD beside every GET route (RFC 9110 §9.3.2): the same answer, its body left off by the server."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and route.methods == {"GET"}:
            router.add_api_route(
                route.path.removeprefix(router.prefix),
                route.endpoint,
                methods=["HEAD"],
                include_in_schema=False,
                name=f"{route.name}_head",
            )


def allowed_methods(router: APIRouter, path: str) -> list[str]:
    """The methods the door's own routes take on this path (none: the path is not one of them)."""
    methods: set[str] = set()
    for route in router.routes:
        if isinstance(route, APIRoute) and "{path:path}" not in route.path and route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)
