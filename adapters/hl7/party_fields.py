"""Who the order is about and who wrote it: PID/AL1 to PatientInfo, ORC-12 (+ DEA field) to PrescriberInfo."""

from __future__ import annotations

from adapters.hl7.field_values import read_date
from adapters.hl7.message_model import Hl7Segment, ParsedHl7
from hub.domain.order_parts import Allergy, Identifier, PatientInfo, PrescriberInfo
from hub.errors import Problem

#: table 0001 administrative sex; A (ambiguous) -> O(ther), N (not applicable) -> U(nknown)
_SEX = {"M": "M", "F": "F", "O": "O", "U": "U", "A": "O", "N": "U"}
#: table 0128 allergy severity in words; U (unknown) says nothing, so it is none
_SEVERITY = {"SV": "severe", "MO": "moderate", "MI": "mild", "U": None}
#: HL7 OID of the US NPI (the assigning authority FHIR calls http://hl7.org/fhir/sid/us-npi)
_NPI_OID = "2.16.840.1.113883.4.6"
#: the ordering provider's DEA number field (XCN) of each order detail segment
_DEA_FIELD = {"RXE": 13, "RXO": 14}


def read_patient(msg: ParsedHl7, problems: list[Problem]) -> PatientInfo:
    """PID-3 (every CX repetition), PID-5, PID-7, PID-8 and every AL1; no PID is a 100 error."""
    pid = msg.first("PID")
    if pid is None:
        problems.append(Problem("100", "a new order needs a PID segment", "PID^1"))
        return PatientInfo()
    return PatientInfo(
        identifiers=_identifiers(pid, 3),
        family_name=pid.get(5, 1) or None,
        given_name=pid.get(5, 2) or None,
        birth_date=read_date(pid.get(7), pid.location(7), problems),
        sex=_SEX.get(pid.get(8).upper()),
        allergies=tuple(a for al1 in msg.all("AL1") if (a := _allergy(al1)) is not None),
    )


def _identifiers(seg: Hl7Segment, field: int) -> tuple[Identifier, ...]:
    found = []
    for rep in range(1, len(seg.repetitions(field)) + 1):
        value = seg.get(field, 1, rep)
        if value:
            system = seg.get(field, 4, rep) or seg.get(field, 4, rep, 2)
            found.append(Identifier(value=value, system=system or None, type_code=seg.get(field, 5, rep) or None))
    return tuple(found)


def _allergy(al1: Hl7Segment) -> Allergy | None:
    code, text = al1.get(3, 1), al1.get(3, 2)
    if not (code or text):
        return None
    return Allergy(
        text=text or code,
        code=code or None,
        system=al1.get(3, 3) or None,
        severity=_severity(al1),
        reactions=_reactions(al1),
    )


def _severity(al1: Hl7Segment) -> str | None:
    """AL1-4 in words: table 0128 code, else the sender's text (CWE.2) or whatever code it used."""
    code, text = al1.get(4, 1), al1.get(4, 2)
    if code.upper() in _SEVERITY:
        return _SEVERITY[code.upper()]
    return text or code or None


def _reactions(al1: Hl7Segment) -> tuple[str, ...]:
    """AL1-5, every repetition: ST as v2 defines it, or a coded reaction's text (CE.2) when a sender codes it."""
    found = (al1.get(5, 2, rep) or al1.get(5, 1, rep) for rep in range(1, len(al1.repetitions(5)) + 1))
    return tuple(dict.fromkeys(r for r in found if r))


def read_prescriber(orc: Hl7Segment, order_detail: Hl7Segment | None) -> PrescriberInfo:
    """ORC-12 ordering provider; DEA from RXE-13 / RXO-14 (XCN.1), whose name fills in a missing ORC-12."""
    dea_field = _DEA_FIELD.get(order_detail.segment_id, 0) if order_detail else 0
    xcns = [(orc, 12)] + ([(order_detail, dea_field)] if order_detail and dea_field else [])
    named, field = next(((s, f) for s, f in xcns if s.get(f, 2) or s.get(f, 3)), (orc, 12))
    provider_id = orc.get(12, 1)
    npi = provider_id if provider_id and _is_npi(orc) else None
    return PrescriberInfo(
        family_name=named.get(field, 2) or None,
        given_name=named.get(field, 3) or None,
        npi=npi,
        dea=(order_detail.get(dea_field, 1) or None) if order_detail and dea_field else None,
        identifiers=() if npi or not provider_id else (_xcn_identifier(orc, 12),),
    )


def _is_npi(orc: Hl7Segment) -> bool:
    """XCN.13 type NPI, or XCN.9 authority NPI / the NPI OID; untyped, a 10-digit id with a valid NPI check.

    The check digit is the Luhn digit over ``80840`` + the first 9 digits (standards.md 6), so a random
    untyped 10-digit local id passes only about 1 time in 50.
    """
    type_code, authority = orc.get(12, 13).upper(), orc.get(12, 9).upper()
    if type_code == "NPI" or authority == "NPI" or orc.get(12, 9, 1, 2) == _NPI_OID:
        return True
    return not (type_code or authority) and _npi_check_digit_ok(orc.get(12, 1))


def _npi_check_digit_ok(value: str) -> bool:
    if len(value) != 10 or not (value.isascii() and value.isdigit()) or value[0] not in "12":
        return False
    digits = [int(d) for d in "80840" + value]
    total = 0
    for i, d in enumerate(reversed(digits)):
        doubled = d * 2 if i % 2 == 1 else d
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _xcn_identifier(seg: Hl7Segment, field: int) -> Identifier:
    authority = seg.get(field, 9) or seg.get(field, 9, 1, 2)
    return Identifier(value=seg.get(field, 1), system=authority or None, type_code=seg.get(field, 13) or None)
