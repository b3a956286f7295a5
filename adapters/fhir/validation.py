"""Check a resource against the FHIR R4 (R4B) models and say exactly where it is wrong.

Only ``fhir.resources.R4B`` is used: the package's default models are R5, which would silently drop
R4's ``medicationCodeableConcept`` (standards.md §2.5). Pydantic error locations are turned into
FHIRPath expressions (``Bundle.entry[2].resource.dispenseRequest.quantity.value``), which is what an
OperationOutcome's ``issue.expression`` must carry.
"""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hub.errors import Problem

#: elements that exist in R5 but not in R4 (R5 MedicationRequest/MedicationDispense), by resource type
R5_ONLY = {
    "MedicationRequest": frozenset(
        {
            "medication",
            "informationSource",
            "renderedDosageInstruction",
            "effectiveDosePeriod",
            "reported",
            "device",
        }
    ),
    "MedicationDispense": frozenset({"medication", "notPerformedReason", "renderedDosageInstruction", "recorded"}),
}

#: required choice elements, checked here too because the R4B model checks them only once every
#: other field is valid, and a sender deserves the whole list in one answer
REQUIRED_CHOICES = {
    "MedicationRequest": ("medication", ("medicationCodeableConcept", "medicationReference")),
    "MedicationDispense": ("medication", ("medicationCodeableConcept", "medicationReference")),
}

_CHOICE_LIST = re.compile(r"\[([^\]]*)\]")
_PLAIN_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9]*")
_REQUIRED_TYPES = frozenset({"missing", "model_field_validation.missing"})


def _json_name(name: str) -> str:
    if name == "resource_type":
        return "resourceType"
    if name.endswith("__ext"):
        return "_" + name[: -len("__ext")]
    if name.endswith("_fhir"):
        return name[: -len("_fhir")]
    return name


def expression_for(prefix: str, loc: tuple[int | str, ...]) -> str:
    """A FHIRPath expression for a pydantic error location under ``prefix``."""
    path = prefix
    for item in loc:
        if isinstance(item, int):
            path += f"[{item}]"
        elif _PLAIN_NAME.fullmatch(name := _json_name(item)):
            path += f".{name}"
    return path


def _choice_name(message: str) -> str | None:
    # fhir.resources reports a missing or doubled choice element ("medication[x]") at the model root,
    # naming the alternatives: their common prefix is the element's FHIRPath name.
    found = _CHOICE_LIST.search(message)
    if found is None:
        return None
    names = [n.strip(" '\"") for n in found.group(1).split(",")]
    common = names[0] if names else ""
    for name in names[1:]:
        while not name.startswith(common):
            common = common[:-1]
    return common if _PLAIN_NAME.fullmatch(common) else None


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _problem(resource_type: str, prefix: str, error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    message = error["msg"]
    where = expression_for(prefix, loc)
    if loc == () and (choice := _choice_name(message)) is not None:
        code = "invariant" if "multiple" in message else "required"
        return Problem(code, f"{resource_type}.{choice}[x]: {message}", f"{where}.{choice}", "error")
    if error["type"] == "extra_forbidden":
        name = loc[-1] if loc else ""
        if len(loc) == 1 and name in R5_ONLY.get(resource_type, frozenset()):
            text = (
                f"'{name}' is an R5 element; this server speaks FHIR R4 (4.0.1), "
                f"see {resource_type} in R4 (e.g. medicationCodeableConcept or medicationReference)"
            )
            return Problem("structure", text, where, "error")
        return Problem("structure", f"unknown element '{_json_name(str(name))}' (not in FHIR R4)", where, "error")
    if error["type"] in _REQUIRED_TYPES:
        return Problem("required", f"{where} is required", where, "error")
    if error["type"] == "fhir-validation-wrong-resource-type":
        return Problem("invalid", f"resourceType {_short(error.get('input'))} is not {resource_type}", where, "error")
    return Problem("value", f"{message} (got {_short(error.get('input'))})", where, "error")


def _with_missing_choice(
    resource: dict[str, Any], resource_type: str, at: str, problems: list[Problem]
) -> list[Problem]:
    name, choices = REQUIRED_CHOICES.get(resource_type, ("", ()))
    where = f"{at}.{name}"
    if not choices or any(c in resource for c in choices) or any(p.location == where for p in problems):
        return problems
    return [*problems, Problem("required", f"{resource_type}.{name}[x] is required", where, "error")]


def r4_problems(resource: dict[str, Any], *, at: str) -> list[Problem]:
    """Everything the R4 model finds wrong with ``resource``, located under ``at`` (its FHIRPath)."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return [Problem("structure", "resourceType is missing", at, "error")]
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        return [Problem("invalid", f"unknown resource type {_short(resource_type)} in FHIR R4", at, "error")]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return _with_missing_choice(resource, resource_type, at, [_problem(resource_type, at, e) for e in exc.errors()])
    except Exception as exc:
        return [Problem("structure", f"not a valid R4 {resource_type}: {type(exc).__name__} {exc}", at, "error")]
    return []
