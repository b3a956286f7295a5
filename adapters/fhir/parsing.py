"""Bytes to a JSON object, with limits, and what kind of FHIR request that object is.

The caller enforces the body size; this module enforces the shape: UTF-8 JSON (a BOM is tolerated),
one object at the top, no duplicate keys (FHIR R4 JSON §2.6.2 forbids them), no NaN/Infinity, nesting
no deeper than ``MAX_DEPTH``, and no string the hub cannot store (``hub.domain.storable``: a ``\u0000``,
which R4 strings may not hold either, or an unpaired surrogate escape), refused at its FHIRPath.
Decimals stay ``Decimal`` so a quantity keeps its precision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from adapters.fhir.elements import MAX_EXPONENT
from adapters.fhir.fhir_strings import CONTROL_ESCAPE, first_control
from hub.domain.storable import first_unstorable
from hub.errors import MessageContentError, Problem

#: deepest nesting accepted; real prescriptions stay under 15, so this only stops hostile input
MAX_DEPTH = 64


class ResourceKind(StrEnum):
    """The kinds of inbound FHIR content the hub acts on."""

    MEDICATION_REQUEST = "MedicationRequest"
    TRANSACTION = "transaction"
    BATCH = "batch"
    MESSAGE = "message"
    DOCUMENT = "document"


_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
#: the only way JSON text brings a NUL or an unpaired surrogate (the decoder refuses raw control characters
#: and invalid UTF-8): a body without one is not walked
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_BUNDLE_KINDS = {k.value: k for k in ResourceKind if k is not ResourceKind.MEDICATION_REQUEST}


def _content_error(code: str, text: str, location: str = "") -> MessageContentError:
    return MessageContentError(text, [Problem(code=code, text=text, location=location)])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate JSON property {key!r}")
            seen.add(key)
    return result


def _decimal(literal: str) -> Decimal:
    value = Decimal(literal)
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise ValueError(f"number {literal[:20]!r} is out of range")
    return value


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_EXPONENT:
        raise ValueError(f"integer {literal[:20]!r}... is out of range")
    return int(literal)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: object) -> int:
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > MAX_DEPTH:
                return deepest
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return deepest


def parse_resource(body: bytes) -> dict[str, Any]:
    """Decode a FHIR JSON body into a plain object, or raise a content error that says why."""
    try:
        decoded = body.decode("utf-8-sig")
        value = json.loads(
            decoded,
            object_pairs_hook=_no_duplicates,
            parse_float=_decimal,
            parse_int=_integer,
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError as exc:
        raise _content_error("structure", f"body is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise _content_error("structure", f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from exc
    except RecursionError as exc:
        raise _content_error("structure", f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:
        raise _content_error("structure", f"invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise _content_error("structure", "a FHIR resource must be a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise _content_error("structure", f"JSON nested deeper than {MAX_DEPTH} levels")
    if _UNSTORABLE_ESCAPE.search(body):
        _refuse_unstorable(value)
    if CONTROL_ESCAPE.search(body):
        _refuse_control(value)
    return value


def _refuse_control(resource: dict[str, Any]) -> None:
    found = first_control(resource)
    if found is not None:
        resource_type = resource.get("resourceType")
        where = found.where(
            resource_type if isinstance(resource_type, str) and _TYPE_NAME.fullmatch(resource_type) else ""
        )
        raise _content_error("value", found.describe(where or "the resource"), where)


def _refuse_unstorable(resource: dict[str, Any]) -> None:
    found = first_unstorable(resource)
    if found is not None:
        resource_type = resource.get("resourceType")
        where = found.dotted(
            resource_type if isinstance(resource_type, str) and _TYPE_NAME.fullmatch(resource_type) else ""
        )
        raise _content_error("value", found.describe(where or "the resource"), where)


def _kind_of(resource: dict[str, Any]) -> ResourceKind | None:
    resource_type = resource.get("resourceType")
    if resource_type == "MedicationRequest":
        return ResourceKind.MEDICATION_REQUEST
    if resource_type == "Bundle":
        bundle_type = resource.get("type")
        if not isinstance(bundle_type, str):
            raise _content_error("required", "Bundle.type is required", "Bundle.type")
        return _BUNDLE_KINDS.get(bundle_type)
    return None


def classify(resource: dict[str, Any], *, accept: Iterable[ResourceKind] = tuple(ResourceKind)) -> ResourceKind:
    """Say what the body is, refusing anything the endpoint (``accept``) does not take."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise _content_error("structure", "resourceType is missing: this is not a FHIR resource")
    allowed = frozenset(accept)
    kind = _kind_of(resource)
    if kind is not None and kind in allowed:
        return kind
    wanted = ", ".join(sorted(k.value for k in allowed))
    if resource_type == "Bundle":
        got = resource.get("type")
        raise _content_error("invalid", f"Bundle of type {got!r} not accepted here (accepted: {wanted})", "Bundle.type")
    location = resource_type if _TYPE_NAME.fullmatch(resource_type) else ""
    raise _content_error("invalid", f"resource type {resource_type!r} not accepted here (accepted: {wanted})", location)
