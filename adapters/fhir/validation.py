"""Check a resource against the FHIR R4 (R4B) models and say exactly where it is wrong.

Only ``fhir.resources.R4B`` is used: the package's default models are R5, which would silently drop
R4's ``medicationCodeableConcept`` (standards.md §2.5). Pydantic error locations are turned into
FHIRPath expressions (``Bundle.entry[2].resource.dispenseRequest.quantity.value``), which is what an
OperationOutcome's ``issue.expression`` must carry.

The R4B models are slow (pydantic plus a Python hook per element), and a feed sends much the same
elements in every order: the same prescriber, the same dosage, the same dispense request. So the elements
of every resource the model accepted are remembered (``KnownValid``), and the next resource of that type
is checked without those of its elements that are optional, not a choice and already known to be valid:
the model checks each element on its own, and its whole-resource checks (required elements, one of each
choice, no nulls in lists) look only at elements that are never left out. A resource that passes so is
valid as a whole; one that does not is checked again whole, so every answer about a bad resource is
exactly the model's.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.utils import is_list_type, is_primitive_type
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


@cache
def _separable(resource_type: str) -> dict[str, bool]:
    """JSON name -> is it a list, for the elements of a resource type that can be checked on their own.

    Those are the optional, complex (not primitive), non-choice elements whose JSON name is their field name.
    """
    found = {}
    for name, field in get_fhir_model_class(resource_type).model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if field.is_required() or extra.get("element_required") or "one_of_many" in extra:
            continue
        if name.endswith("__ext") or (field.alias or name) != name or is_primitive_type(field):
            continue
        found[name] = is_list_type(field)
    return found


class KnownValid:
    """Elements (resource type, element name, value) seen in resources the R4 model accepted; bounded."""

    def __init__(self, max_entries: int = 2048, max_chars: int = 4096) -> None:
        self._max, self._max_chars = max_entries, max_chars
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def _known(self, key: tuple[str, str, str]) -> bool:
        with self._lock:
            if key not in self._seen:
                return False
            self._seen.move_to_end(key)
            return True

    def without_known(self, resource_type: str, resource: dict[str, Any]) -> dict[str, Any] | None:
        """``resource`` without its elements (list items) known to be valid; None when none is known."""
        separable = _separable(resource_type)
        reduced: dict[str, Any] | None = None
        for name, value in resource.items():
            listed = separable.get(name)
            if listed is None or isinstance(value, list) is not listed:
                continue
            if listed:
                kept = [item for item in value if not self._known((resource_type, name, repr(item)))]
                if len(kept) == len(value):
                    continue
                reduced = dict(resource) if reduced is None else reduced
                if kept:
                    reduced[name] = kept
                else:
                    del reduced[name]
            elif self._known((resource_type, name, repr(value))):
                reduced = dict(resource) if reduced is None else reduced
                del reduced[name]
        return reduced

    def learn(self, resource_type: str, resource: dict[str, Any]) -> None:
        """Remember the separable elements of a resource the model accepted."""
        separable = _separable(resource_type)
        keys = []
        for name, value in resource.items():
            listed = separable.get(name)
            if listed is None or isinstance(value, list) is not listed:
                continue
            for item in value if listed else [value]:
                shown = repr(item)
                if len(shown) <= self._max_chars:
                    keys.append((resource_type, name, shown))
        with self._lock:
            for key in keys:
                self._seen[key] = None
                self._seen.move_to_end(key)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._seen.clear()


#: the process's memory of valid elements
KNOWN_VALID = KnownValid()


def _valid(model: type[Any], resource: dict[str, Any]) -> bool:
    try:
        model.model_validate(resource)
    except Exception:
        return False
    return True


def r4_problems(resource: dict[str, Any], *, at: str) -> list[Problem]:
    """Everything the R4 model finds wrong with ``resource``, located under ``at`` (its FHIRPath)."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        return [Problem("structure", "resourceType is missing", at, "error")]
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        return [Problem("invalid", f"unknown resource type {_short(resource_type)} in FHIR R4", at, "error")]
    reduced = KNOWN_VALID.without_known(resource_type, resource)
    if reduced is not None and _valid(model, reduced):
        KNOWN_VALID.learn(resource_type, reduced)
        return []
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return _with_missing_choice(resource, resource_type, at, [_problem(resource_type, at, e) for e in exc.errors()])
    except Exception as exc:
        return [Problem("structure", f"not a valid R4 {resource_type}: {type(exc).__name__} {exc}", at, "error")]
    KNOWN_VALID.learn(resource_type, resource)
    return []
