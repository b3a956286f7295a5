"""The version a read answers with: ETag (weak, R4 http.html §2.21.0.4), Last-Modified, If-None-Match.

The version is the resource's ``meta.versionId`` when its view carries one, else a digest of the resource as
rendered, which changes whenever anything a client sees changes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from adapters.fhir.json_body import fhir_json


def version_id(resource: dict[str, Any]) -> str:
    """The resource's version: ``meta.versionId``, else a digest of what it says."""
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    if isinstance(version, str) and version:
        return version
    return hashlib.sha256(fhir_json(resource)).hexdigest()[:20]


def etag(resource: dict[str, Any]) -> str:
    """The weak ETag FHIR servers give a read: ``W/"<versionId>"``."""
    return f'W/"{version_id(resource)}"'


def last_modified(resource: dict[str, Any]) -> str | None:
    """``meta.lastUpdated`` as an HTTP date, when the resource has one."""
    meta = resource.get("meta")
    stamp = meta.get("lastUpdated") if isinstance(meta, dict) else None
    try:
        return format_datetime(_utc(datetime.fromisoformat(stamp)), usegmt=True) if isinstance(stamp, str) else None
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def version_headers(resource: dict[str, Any]) -> dict[str, str]:
    """ETag and, when known, Last-Modified."""
    modified = last_modified(resource)
    return {"ETag": etag(resource)} | ({"Last-Modified": modified} if modified else {})


def not_modified(if_none_match: str | None, resource: dict[str, Any], if_modified_since: str | None = None) -> bool:
    """Whether the client holds the current version: If-None-Match names it (weak comparison, RFC 9110
    §13.1.2) or is ``*``; without If-None-Match, If-Modified-Since is not before ``meta.lastUpdated``."""
    if if_none_match:
        # a bare versionId (fhirpy's refresh() sends meta.versionId unquoted) names the version too
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
        return "*" in tags or version_id(resource) in tags
    modified = last_modified(resource)
    if not if_modified_since or modified is None:
        return False
    try:
        return parsedate_to_datetime(if_modified_since) >= parsedate_to_datetime(modified)
    except (TypeError, ValueError):  # not an HTTP date: ignored (RFC 9110 §13.1.3)
        return False
