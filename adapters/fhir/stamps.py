"""``meta.versionId`` and ``meta.lastUpdated`` on every resource the door answers with (R4 Resource.meta).

The version is a digest of the resource as rendered (its ``meta`` aside): it changes whenever anything a
client sees changes, and it is the same for every read of an unchanged resource, so it serves as the ETag
(``adapters.fhir.versions`` takes ``meta.versionId`` when a view carries one).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from adapters.fhir.json_body import fhir_json

_STAMPS = ("versionId", "lastUpdated")


def content_version(resource: dict[str, Any]) -> str:
    """The version of a rendered resource: a digest of everything in it but the version and its time."""
    content = {key: value for key, value in resource.items() if key != "meta"}
    meta = resource.get("meta")
    if isinstance(meta, dict) and (kept := {k: v for k, v in meta.items() if k not in _STAMPS}):
        content["meta"] = kept
    return hashlib.sha256(fhir_json(content)).hexdigest()[:20]


def instant(moment: datetime) -> str:
    """An R4 instant (UTC when the moment has no zone)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def stamped(resource: dict[str, Any], last_updated: datetime | str | None) -> dict[str, Any]:
    """The resource with its version and, when known, the moment it last changed."""
    meta = resource.get("meta")
    kept = {k: v for k, v in meta.items() if k not in _STAMPS} if isinstance(meta, dict) else {}
    stamps: dict[str, Any] = {"versionId": content_version(resource)}
    if last_updated is not None:
        stamps["lastUpdated"] = last_updated if isinstance(last_updated, str) else instant(last_updated)
    return {**resource, "meta": stamps | kept}


def last_updated(resource: dict[str, Any]) -> str | None:
    """``meta.lastUpdated`` as the resource carries it."""
    meta = resource.get("meta")
    found = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return found if isinstance(found, str) else None


def weak_etag(resource: dict[str, Any]) -> str:
    """``W/"<versionId>"`` of a stamped resource (the answer to a create carries it)."""
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return f'W/"{version or content_version(resource)}"'
