"""Content negotiation of the FHIR door (R4 http.html §2.21.0.6 and §2.21.0.7): JSON, FHIR R4, nothing else.

``_format`` overrides ``Accept``. A ``fhirVersion`` parameter other than 4.0 is answered 406 in what the
client accepts and 415 in what it sends; XML and other formats are answered 406.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.fhir.json_body import FHIR_JSON

#: media types this server writes (its answers are all application/fhir+json)
JSON_TYPES = frozenset({FHIR_JSON, "application/json", "application/json+fhir"})
_ANY = frozenset({"*/*", "application/*"})
#: ``_format`` values meaning JSON (R4 http.html: json, application/json, application/fhir+json)
JSON_FORMATS = frozenset({"json", *JSON_TYPES})
#: fhirVersion parameter values meaning this server's release (R4 versions.html: 4.0 is R4)
FHIR_VERSIONS = frozenset({"4.0", "4.0.1"})


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    ranges = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        pairs = (p.split("=", 1) for p in params if "=" in p)
        ranges.append((media.lower(), {k.strip().lower(): v.strip().strip('"') for k, v in pairs}))
    return ranges


def _accepted(media: str, params: dict[str, str]) -> bool:
    if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
        return False
    if media not in JSON_TYPES and media not in _ANY:
        return False
    return params.get("fhirversion", "4.0") in FHIR_VERSIONS


def not_acceptable(accept: Iterable[str], format_: str | None) -> str | None:
    """Why no answer this server writes is acceptable, or None when ``application/fhir+json`` R4 is."""
    if format_ is not None:
        return (
            None
            if format_.strip().lower() in JSON_FORMATS
            else f"_format={format_} is not supported: this server speaks {FHIR_JSON} (FHIR R4) only"
        )
    ranges = [r for header in accept for r in _media_ranges(header)]
    if not ranges or any(_accepted(media, params) for media, params in ranges):
        return None
    offered = ", ".join(sorted({m for m, _ in ranges}))
    return f"Accept {offered} cannot be met: this server answers {FHIR_JSON}; fhirVersion=4.0 (FHIR R4) only"


def unsupported_content(content_type: str | None) -> str | None:
    """Why a body's declared FHIR version is refused (415), or None when it is R4 or not declared."""
    for _, params in _media_ranges(content_type or ""):
        version = params.get("fhirversion")
        if version is not None and version not in FHIR_VERSIONS:
            return f"Content-Type fhirVersion={version} is not supported: this server takes FHIR R4 (4.0)"
    return None
