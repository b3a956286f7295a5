"""The search parameters each resource type supports: one table read by the searches and the
CapabilityStatement alike, so the statement declares exactly what a search honours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from adapters.fhir.search_values import Span, span_of

Kind = Literal["token", "reference", "string", "date"]
MR_STATUS = "http://hl7.org/fhir/CodeSystem/medicationrequest-status"
MR_INTENT = "http://hl7.org/fhir/CodeSystem/medicationrequest-intent"
MD_STATUS = "http://terminology.hl7.org/CodeSystem/medicationdispense-status"
GENDER = "http://hl7.org/fhir/administrative-gender"


@dataclass(frozen=True)
class SearchParam:
    """A parameter: its R4 name and type; ``values`` reads what it matches from a resource (token, string and
    date kinds; a reference or ``_id`` matches the ids the search's source gives for it)."""

    name: str
    kind: Kind
    documentation: str
    values: Callable[[dict[str, Any]], list[Any]] = lambda _: []

    @property
    def modifiers(self) -> frozenset[str]:
        """The modifiers honoured (any other makes the parameter unknown)."""
        return frozenset({"exact", "contains"}) if self.kind == "string" else frozenset()


def _identifiers(resource: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(i.get("system"), i.get("value", "")) for i in resource.get("identifier", [])]


def _code(field: str, system: str) -> Callable[[dict[str, Any]], list[tuple[str | None, str]]]:
    return lambda resource: [(system, resource[field])] if field in resource else []


def _spans(field: str) -> Callable[[dict[str, Any]], list[Span]]:
    return lambda resource: [span_of(resource[field])] if field in resource else []


def _names(part: str) -> Callable[[dict[str, Any]], list[str]]:
    def names(resource: dict[str, Any]) -> list[str]:
        found: list[str] = []
        for name in resource.get("name", []):
            if part in ("family", "name") and name.get("family"):
                found.append(name["family"])
            if part in ("given", "name"):
                found.extend(name.get("given", []))
            if part == "name" and name.get("text"):
                found.append(name["text"])
        return found

    return names


_ID = SearchParam("_id", "token", "the logical id")
_PATIENT = SearchParam("patient", "reference", "the patient (Patient/{id})")
_SUBJECT = SearchParam("subject", "reference", "the patient (Patient/{id}); the same as patient")
SEARCH_PARAMS: dict[str, tuple[SearchParam, ...]] = {
    "MedicationRequest": (
        _ID,
        SearchParam("identifier", "token", "placer order number: system|value, |value or value", _identifiers),
        _PATIENT,
        _SUBJECT,
        SearchParam("status", "token", "active, on-hold, cancelled, completed", _code("status", MR_STATUS)),
        SearchParam("intent", "token", "order", _code("intent", MR_INTENT)),
        SearchParam("authoredon", "date", "date written; prefixes eq ne gt lt ge le sa eb", _spans("authoredOn")),
    ),
    "MedicationDispense": (
        _ID,
        SearchParam("prescription", "reference", "the MedicationRequest filled (MedicationRequest/{id})"),
        _PATIENT,
        _SUBJECT,
        SearchParam(
            "status",
            "token",
            "preparation, in-progress, completed, cancelled, declined, on-hold",
            _code("status", MD_STATUS),
        ),
        SearchParam(
            "whenhandedover", "date", "when handed over; prefixes eq ne gt lt ge le sa eb", _spans("whenHandedOver")
        ),
    ),
    "Patient": (
        _ID,
        SearchParam("identifier", "token", "system|value, |value or value", _identifiers),
        SearchParam("name", "string", "family or given name, starts with (any case)", _names("name")),
        SearchParam("family", "string", "family name, starts with (any case)", _names("family")),
        SearchParam("given", "string", "given name, starts with (any case)", _names("given")),
        SearchParam("birthdate", "date", "birth date; prefixes eq ne gt lt ge le sa eb", _spans("birthDate")),
        SearchParam("gender", "token", "male, female, other, unknown", _code("gender", GENDER)),
    ),
    "ClaimResponse": (
        _ID,
        SearchParam("request", "reference", "the MedicationRequest whose fills were billed (MedicationRequest/{id})"),
        _PATIENT,
    ),
}
#: names some clients write in camel case, as the element is spelled
ALIASES = {"authoredOn": "authoredon", "whenHandedOver": "whenhandedover", "birthDate": "birthdate"}
#: what a reference parameter points at (for ids written ``Type/id``)
TARGETS = {
    "patient": "Patient",
    "subject": "Patient",
    "prescription": "MedicationRequest",
    "request": "MedicationRequest",
}
#: reference parameters that match the same ids as another
SAME_IDS = {"subject": "patient"}


def declared(resource_type: str) -> list[dict[str, Any]]:
    """The CapabilityStatement ``searchParam`` list of a resource type."""
    return [
        {"name": p.name, "type": p.kind, "documentation": p.documentation} for p in SEARCH_PARAMS.get(resource_type, ())
    ]


def openapi_parameters(resource_type: str) -> list[dict[str, Any]]:
    """The OpenAPI query parameters of a resource type's search, paging included."""
    paging = [
        SearchParam("_count", "token", "matches per page (default 50, at most 200)"),
        SearchParam("_offset", "token", "matches to skip (the next link carries it)"),
    ]
    return [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"{p.kind}: {p.documentation}",
        }
        for p in (*SEARCH_PARAMS.get(resource_type, ()), *paging)
    ]
