"""The client's ``Prefer`` header (RFC 7240; R4 http.html §2.21.0.5): what a create returns, how a search
treats parameters it does not know."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.responses import Response

from adapters.fhir.json_body import FHIR_JSON, fhir_json
from adapters.fhir.outcomes import operation_outcome
from hub.errors import Problem

RETURNS = frozenset({"minimal", "representation", "OperationOutcome"})


def preferences(headers: Iterable[str]) -> dict[str, str]:
    """Every ``name=value`` preference (names in lower case); a later one does not override an earlier one."""
    found: dict[str, str] = {}
    for header in headers:
        for part in header.replace(";", ",").split(","):
            name, _, value = part.strip().partition("=")
            if name:
                found.setdefault(name.strip().lower(), value.strip().strip('"'))
    return found


def strict(prefer: dict[str, str]) -> bool:
    """``handling=strict``: refuse what is not understood instead of ignoring it (lenient is the default)."""
    return prefer.get("handling") == "strict"


def preferred_return(prefer: dict[str, str], response: Response) -> Response:
    """A successful create's answer as asked: the resource (default), nothing, or an OperationOutcome."""
    wanted = prefer.get("return")
    if response.status_code >= 300 or wanted not in ("minimal", "OperationOutcome"):
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() in ("location", "etag", "last-modified")}
    headers["Preference-Applied"] = f"return={wanted}"
    if wanted == "minimal":
        return Response(status_code=response.status_code, headers=headers)
    where = headers.get("location", "")
    text = f"accepted: {where}" if where else "accepted"
    outcome = operation_outcome([Problem("informational", text, "", "information")])
    return Response(fhir_json(outcome), status_code=response.status_code, media_type=FHIR_JSON, headers=headers)
