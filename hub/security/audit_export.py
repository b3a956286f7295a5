"""The audit trail as FHIR R4 AuditEvent resources (JSON dicts) in a searchset Bundle, for auditors' tools.

hub/ may not import the FHIR library (adapters own it); the shapes follow R4 AuditEvent and the tests
validate them with Medplum's R4 validator and fhir.resources.R4B. Codes: DICOM (DCM) audit event types,
HL7 audit-event-type ``rest``, security-source-type, audit-entity-type, object-role, audit-event-outcome.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hub.persistence.audit import AuditEntry
from hub.security.audit_chain import utc_text

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
FHIR_JSON = "application/fhir+json"
#: outcomes that are successes (audit-event-outcome 0): an acknowledged message (HL7 AA/CA, FHIR and SCRIPT
#: "accepted", a resend answered as before) or an action done
SUCCESSES = frozenset({"ok", "accepted", "duplicate", "answered", "AA", "CA"})
#: refusals of what a client asked or sent (4, minor failure: "often equivalent to an HTTP 400 response")
REFUSALS = frozenset(
    {
        "forbidden",
        "unauthenticated",
        "expired",
        "rate-limited",
        "locked",
        "refused",
        "error",
        "rejected",
        "AE",
        "AR",
        "CE",
        "CR",
    }
)
#: anything else failed on the hub's side (8, serious failure: "often equivalent to an HTTP 500 response"),
#: e.g. ``not_stored``; 12 (major failure: the system is no longer available) is never written as an entry
SERIOUS = "8"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def outcome_code(outcome: str) -> str:
    """The audit-event-outcome code of an entry's outcome."""
    if outcome in SUCCESSES:
        return "0"
    return "4" if outcome in REFUSALS else SERIOUS


def _text(value: object) -> str | None:
    """A FHIR string: control characters replaced, None when nothing but whitespace is left."""
    cleaned = _CONTROL.sub("\ufffd", str(value)) if value is not None else ""
    return cleaned if cleaned.strip() else None


def _type(entry: AuditEntry) -> tuple[dict[str, str], str]:
    """The event type coding and the CRUDE action."""
    if entry.outcome in ("unauthenticated", "expired", "rate-limited", "locked"):
        return {"system": DCM, "code": "110114", "display": "User Authentication"}, "E"
    if entry.outcome == "forbidden":
        return {"system": DCM, "code": "110113", "display": "Security Alert"}, "E"
    if entry.action.startswith("read"):
        return {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}, "R"
    if entry.action == "receive message":
        return {"system": DCM, "code": "110107", "display": "Import"}, "C"
    return {"system": DCM, "code": "110100", "display": "Application Activity"}, "U"


def _details(entry: AuditEntry) -> list[dict[str, str]]:
    pairs = [("hash", entry.hash), *sorted(entry.detail.items())]
    return [
        {"type": key, "valueString": value}
        for key, raw in pairs
        if (value := _text(raw)) is not None and _text(key) is not None
    ]


def _entities(entry: AuditEntry) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if _text(entry.prescription_id):
        entities.append(
            {
                "what": {"identifier": {"system": "urn:rxhub:prescription", "value": entry.prescription_id}},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            }
        )
    if _text(entry.patient_id):
        entities.append(
            {
                "what": {"identifier": {"system": "urn:rxhub:patient", "value": entry.patient_id}},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    record: dict[str, Any] = {"type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}}
    if entry.seq:
        record["what"] = {"identifier": {"system": "urn:rxhub:audit", "value": str(entry.seq)}}
    if description := _text(entry.action):
        record["description"] = description
    if details := _details(entry):
        record["detail"] = details
    entities.append(record)
    return entities


def _agent(entry: AuditEntry) -> dict[str, Any]:
    agent: dict[str, Any] = {"who": {"display": _text(entry.actor) or "unknown"}, "requestor": True}
    if role := _text(entry.role):
        agent["role"] = [{"text": role}]
    return agent


def to_audit_event(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as an AuditEvent resource."""
    event_type, action = _type(entry)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"rxhub-audit-{entry.seq}" if entry.seq else "rxhub-audit-unsealed",
        "type": event_type,
        "action": action,
        "recorded": utc_text(entry.at),
        "outcome": outcome_code(entry.outcome),
        "agent": [_agent(entry)],
        "source": {
            "observer": {"display": "RxHub"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": _entities(entry),
    }
    if subtype := _text(entry.action):  # a code: single spaces only
        event["subtype"] = [{"system": "urn:rxhub:audit-action", "code": " ".join(subtype.split())}]
    if description := _text(entry.outcome):
        event["outcomeDesc"] = description
    return event


def audit_bundle(entries: Iterable[AuditEntry], self_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of AuditEvents, in chain order (R4 bdl-1: ``total`` only in a searchset or history)."""
    events = [to_audit_event(e) for e in entries]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(events)}
    if self_url:
        bundle["link"] = [{"relation": "self", "url": self_url}]
    if events:  # R4 JSON: an array is never empty
        bundle["entry"] = [
            {"fullUrl": f"urn:rxhub:audit:{e['id']}", "resource": e, "search": {"mode": "match"}} for e in events
        ]
    return bundle
