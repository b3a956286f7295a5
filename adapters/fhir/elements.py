"""Typed reads of FHIR JSON elements (CodeableConcept, Identifier, Quantity...) from plain dicts.

Every reader tolerates a wrong shape by returning ``None`` or an empty tuple: the R4B model check has
already reported shape errors with their location, so mapping code never has to crash on them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from hub.domain.order_parts import Coding, Identifier

JsonObject = dict[str, Any]

#: largest decimal exponent a number may have (parsing refuses larger ones, see parsing.py)
MAX_EXPONENT = 40
#: v2 table 0203 identifier type system (FHIR R4 Identifier.type binding)
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def obj(value: object, key: str) -> JsonObject | None:
    """``value[key]`` when ``value`` is an object and the member is an object."""
    if isinstance(value, dict):
        member = value.get(key)
        if isinstance(member, dict):
            return member
    return None


def objs(value: object, key: str) -> tuple[JsonObject, ...]:
    """The object members of the array ``value[key]``; anything else is skipped."""
    if isinstance(value, dict):
        member = value.get(key)
        if isinstance(member, list):
            return tuple(item for item in member if isinstance(item, dict))
    return ()


def text(value: object, key: str) -> str | None:
    """``value[key]`` when it is a non-blank string, stripped."""
    if isinstance(value, dict):
        member = value.get(key)
        if isinstance(member, str) and member.strip():
            return member.strip()
    return None


def texts(value: object, key: str) -> tuple[str, ...]:
    """The non-blank strings of the array ``value[key]``."""
    if isinstance(value, dict):
        member = value.get(key)
        if isinstance(member, list):
            return tuple(item.strip() for item in member if isinstance(item, str) and item.strip())
    return ()


def number(value: object, key: str) -> Decimal | None:
    """``value[key]`` as a Decimal when it is a JSON number (never a bool)."""
    if not isinstance(value, dict):
        return None
    member = value.get(key)
    if isinstance(member, bool) or not isinstance(member, int | float | Decimal):
        return None
    try:
        result = Decimal(str(member))
    except InvalidOperation:
        return None
    # beyond 10^±MAX_EXPONENT no prescription value makes sense; refusing here keeps int()/format() cheap
    return result if result.is_finite() and abs(result.adjusted()) <= MAX_EXPONENT else None


def codings(concept: object) -> tuple[Coding, ...]:
    """The codings of a CodeableConcept that have a code, as hub Codings."""
    found = []
    for coding in objs(concept, "coding"):
        code = text(coding, "code")
        if code is not None:
            found.append(Coding(code=code, system=text(coding, "system"), display=text(coding, "display")))
    return tuple(found)


def has_code(concept: object, system: str, codes: frozenset[str]) -> bool:
    """Whether a CodeableConcept carries one of ``codes`` from ``system``."""
    return any(c.system == system and c.code in codes for c in codings(concept))


def concept_text(concept: object) -> str | None:
    """A CodeableConcept's human text: its ``text``, else the first coding's display or code."""
    if (own := text(concept, "text")) is not None:
        return own
    for coding in codings(concept):
        return coding.display or coding.code
    return None


def identifier(element: object) -> Identifier | None:
    """A FHIR Identifier as a hub Identifier (type = first v2-0203 code, else first type code)."""
    value = text(element, "value")
    if value is None:
        return None
    type_codes = codings(obj(element, "type"))
    v2 = [c.code for c in type_codes if c.system == V2_0203]
    type_code = v2[0] if v2 else (type_codes[0].code if type_codes else None)
    return Identifier(value=value, system=text(element, "system"), type_code=type_code)


def identifiers(resource: object) -> tuple[Identifier, ...]:
    """All usable identifiers of a resource, in order."""
    return tuple(i for i in (identifier(e) for e in objs(resource, "identifier")) if i is not None)


def plain(value: Decimal) -> str:
    """A decimal as people write it: ``10`` not ``1E+1``, ``2.5`` not ``2.50``."""
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def quantity_text(quantity: object) -> str | None:
    """A Quantity as ``"10 mL"`` (unit, else UCUM code), or None without a value."""
    value = number(quantity, "value")
    if value is None:
        return None
    unit = text(quantity, "unit") or text(quantity, "code")
    return f"{plain(value)} {unit}" if unit else plain(value)
