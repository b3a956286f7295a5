"""The audit trail as FHIR R4 AuditEvent resources (JSON dicts), for auditors' tools.

hub/ may not import the FHIR library (adapters own it); the shapes follow R4B AuditEvent and the tests
validate them with fhir.resources.R4B.  Codes: DICOM (DCM) audit event types, HL7 audit-event-type
``rest``, security-source-type, audit-entity-type and object-role.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.persistence.audit import AuditEntry
from hub.security.audit_chain import utc_text

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
#: outcomes that are refusals (AuditEvent.outcome 4 = minor failure)
REFUSALS = ("forbidden", "unauthenticated", "expired", "rate-limited")


def _type(entry: AuditEntry) -> tuple[dict[str, str], str]:
    """The event type coding and the CRUDE action."""
    if entry.outcome in ("unauthenticated", "expired", "rate-limited"):
        return {"system": DCM, "code": "110114", "display": "User Authentication"}, "E"
    if entry.outcome == "forbidden":
        return {"system": DCM, "code": "110113", "display": "Security Alert"}, "E"
    if entry.action.startswith("read"):
        return {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}, "R"
    if entry.action == "receive message":
        return {"system": DCM, "code": "110107", "display": "Import"}, "C"
    return {"system": DCM, "code": "110100", "display": "Application Activity"}, "U"


def _entities(entry: AuditEntry) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if entry.prescription_id:
        entities.append({"what": {"identifier": {"system": "urn:rxhub:prescription", "value": entry.prescription_id}},
                         "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}})
    if entry.patient_id:
        entities.append({"what": {"identifier": {"system": "urn:rxhub:patient", "value": entry.patient_id}},
                         "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                         "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"}})
    chain = [{"type": "hash", "valueString": entry.hash or ""}]
    chain += [{"type": key, "valueString": str(value)} for key, value in sorted(entry.detail.items())]
    entities.append({"what": {"identifier": {"system": "urn:rxhub:audit", "value": str(entry.seq or "")}},
                     "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                     "description": entry.action, "detail": chain})
    return entities


def to_audit_event(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as an AuditEvent resource."""
    event_type, action = _type(entry)
    return {
        "resourceType": "AuditEvent",
        "id": f"rxhub-audit-{entry.seq}" if entry.seq else "rxhub-audit-unsealed",
        "type": event_type,
        "subtype": [{"system": "urn:rxhub:audit-action", "code": entry.action}],
        "action": action,
        "recorded": utc_text(entry.at),
        "outcome": "0" if entry.outcome == "ok" else "4",
        "outcomeDesc": entry.outcome,
        "agent": [{"who": {"display": entry.actor}, "requestor": True, "role": [{"text": entry.role}]}],
        "source": {"observer": {"display": "RxHub"},
                   "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}]},
        "entity": _entities(entry),
    }


def audit_bundle(entries: Iterable[AuditEntry]) -> dict[str, Any]:
    """A collection Bundle of AuditEvents, in chain order."""
    events = [to_audit_event(e) for e in entries]
    return {"resourceType": "Bundle", "type": "collection", "total": len(events),
            "entry": [{"fullUrl": f"urn:rxhub:audit:{e['id']}", "resource": e} for e in events]}
