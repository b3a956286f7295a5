"""Patient, prescriber and coverage as the order names them (R4 Patient, Practitioner, Coverage).

Values are copied, not checked: NPI check digits and patient matching happen at intake, where a
failure becomes an alert for a person rather than a rejected order (see hub.domain.order_parts).
"""

from __future__ import annotations

from datetime import date

from adapters.fhir.elements import JsonObject, codings, identifier, identifiers, obj, objs, text, texts
from hub.domain.order_parts import CoverageInfo, Identifier, PatientInfo, PrescriberInfo

NPI = "http://hl7.org/fhir/sid/us-npi"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
#: type code of a FHIR reference kept as an identifier (an external literal reference)
REFERENCE_TYPE = "fhir-reference"

_SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}


def _name(resource: JsonObject) -> tuple[str | None, str | None]:
    names = objs(resource, "name")
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if chosen is None:
        return None, None
    given = texts(chosen, "given")
    return text(chosen, "family"), given[0] if given else None


def _birth_date(resource: JsonObject) -> date | None:
    raw = text(resource, "birthDate")
    try:
        return date.fromisoformat(raw) if raw is not None and len(raw) == 10 else None
    except ValueError:
        return None


def _address(resource: JsonObject) -> str | None:
    for address in objs(resource, "address"):
        parts = [
            *texts(address, "line"),
            text(address, "city"),
            text(address, "state"),
            text(address, "postalCode"),
        ]
        joined = ", ".join(p for p in parts if p) or text(address, "text")
        if joined:
            return joined
    return None


def _phone(resource: JsonObject) -> str | None:
    return next((text(t, "value") for t in objs(resource, "telecom") if t.get("system") == "phone"), None)


def patient_info(patient: JsonObject) -> PatientInfo:
    """PatientInfo from a Patient resource."""
    family, given = _name(patient)
    gender = patient.get("gender")
    return PatientInfo(
        identifiers=identifiers(patient),
        family_name=family,
        given_name=given,
        birth_date=_birth_date(patient),
        sex=_SEX.get(gender) if isinstance(gender, str) else None,
        address=_address(patient),
        phone=_phone(patient),
    )


def external_identifier(reference: str) -> Identifier:
    """An external literal reference kept verbatim for intake to match (we never guess its content)."""
    return Identifier(value=reference, type_code=REFERENCE_TYPE)


def patient_from_logical(reference: JsonObject | None, external: str | None) -> PatientInfo:
    """PatientInfo for a subject we could not read: its logical identifier and/or external reference."""
    found = [i for i in (identifier(reference),) if i is not None]
    if external is not None:
        found.append(external_identifier(external))
    return PatientInfo(identifiers=tuple(found))


def prescriber_info(practitioner: JsonObject | None, role: JsonObject | None = None) -> PrescriberInfo:
    """PrescriberInfo from a Practitioner and/or the PractitionerRole it acts in (NPI from either)."""
    ids = identifiers(practitioner or {}) + identifiers(role or {})
    family, given = _name(practitioner or {})
    return PrescriberInfo(
        family_name=family,
        given_name=given,
        npi=next((i.value for i in ids if i.system == NPI), None),
        dea=next((i.value for i in ids if i.type_code == "DEA"), None),
        identifiers=ids,
    )


def prescriber_from_logical(reference: JsonObject | None, external: str | None) -> PrescriberInfo:
    """PrescriberInfo for a requester we could not read: its logical identifier and/or external reference."""
    logical = identifier(reference)
    ids = tuple(i for i in (logical, external_identifier(external) if external else None) if i is not None)
    npi = logical.value if logical is not None and logical.system == NPI else None
    return PrescriberInfo(npi=npi, identifiers=ids)


def _class_value(coverage: JsonObject, *codes: str) -> str | None:
    for entry in objs(coverage, "class"):
        if any(c.system == COVERAGE_CLASS and c.code in codes for c in codings(obj(entry, "type"))):
            return text(entry, "value")
    return None


def _plan_name(coverage: JsonObject) -> str | None:
    for entry in objs(coverage, "class"):
        if any(c.code == "plan" for c in codings(obj(entry, "type"))):
            return text(entry, "name") or text(entry, "value")
    return next((text(p, "display") for p in objs(coverage, "payor") if text(p, "display")), None)


def coverages_in_order(coverages: list[JsonObject]) -> tuple[CoverageInfo, ...]:
    """Coverages in billing order: by Coverage.order (1 primary, 2 secondary...), unordered ones last, each
    group as listed."""
    ranked = sorted(enumerate(coverages), key=lambda pair: (_order(pair[1]), pair[0]))
    return tuple(coverage_info(coverage) for _, coverage in ranked)


def _order(coverage: JsonObject) -> int:
    value = coverage.get("order")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1_000_000


def coverage_info(coverage: JsonObject) -> CoverageInfo:
    """CoverageInfo from a Coverage: rxbin/rxpcn/rxgroup/rxid classes (coverage-class), plan, relationship."""
    relationship = codings(obj(coverage, "relationship"))
    return CoverageInfo(
        bin=_class_value(coverage, "rxbin"),
        pcn=_class_value(coverage, "rxpcn"),
        group_id=_class_value(coverage, "rxgroup", "group"),
        cardholder_id=_class_value(coverage, "rxid") or text(coverage, "subscriberId"),
        person_code=text(coverage, "dependent"),
        relationship=relationship[0].code if relationship else None,
        plan_name=_plan_name(coverage),
    )
