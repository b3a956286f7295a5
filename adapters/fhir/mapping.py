"""One R4 MedicationRequest (with what it references) -> ReceivePrescription or CancelPrescription.

Decisions (standards.md §2.1):

* intent ``order``/``original-order``/``instance-order`` is an order we fill; ``proposal``, ``plan``,
  ``option``, ``directive``, ``reflex-order`` and ``filler-order`` (the pharmacy's own) are refused as
  ``business-rule`` at ``MedicationRequest.intent``.
* status ``active``/``draft`` -> ReceivePrescription; ``cancelled`` -> CancelPrescription CA,
  ``stopped`` -> CancelPrescription DC; anything else is refused at ``MedicationRequest.status``.
* the placer order number (idempotency key) is ``placer.placer_identifier``'s.
* medication must be readable here (inline, contained or in the Bundle): without it there is nothing
  to fill. Subject and requester may point at a server (an external reference or a logical
  identifier): they are kept verbatim for intake to match, never guessed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from adapters.fhir import order_fields
from adapters.fhir.administration import dosage_of, location_of
from adapters.fhir.allergies import order_allergies
from adapters.fhir.compound import compound_of, has_ndc_ingredients
from adapters.fhir.dosage import sig
from adapters.fhir.elements import JsonObject, concept_text, has_code, obj, objs, text
from adapters.fhir.medication import drug_from_concept, drug_from_medication, is_described
from adapters.fhir.outcomes import error_for
from adapters.fhir.parsing import ResourceKind, classify
from adapters.fhir.participants import (
    coverages_in_order,
    patient_from_logical,
    patient_info,
    prescriber_from_logical,
    prescriber_info,
)
from adapters.fhir.placer import placer_identifier
from adapters.fhir.references import BundleContext, BundleEntry, Scope, Target, resolve
from adapters.fhir.validation import r4_problems
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import (
    CoverageInfo,
    DrugInfo,
    Identifier,
    PatientInfo,
    PrescriberInfo,
    Setting,
)
from hub.errors import Problem

ACCEPTED_INTENTS = frozenset({"order", "original-order", "instance-order"})
R4_INTENTS = ACCEPTED_INTENTS | {"proposal", "plan", "reflex-order", "filler-order", "option"}
RECEIVE_STATUSES = frozenset({"active", "draft"})
CANCEL_CONTROLS = {"cancelled": "CA", "stopped": "DC"}
R4_STATUSES = RECEIVE_STATUSES | set(CANCEL_CONTROLS) | {"on-hold", "completed", "entered-in-error", "unknown"}
CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: v3 ActEncounterCode values that mean a hospital stay
INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC"})


class _Reader:
    """One MedicationRequest being mapped: where it is, what it can reach, what is wrong so far."""

    def __init__(self, resource: JsonObject, scope: Scope, context: BundleContext | None) -> None:
        self.resource, self.scope, self.context = resource, scope, context
        self.at = scope.at
        self.problems: list[Problem] = []

    def fail(self, code: str, element: str, message: str) -> None:
        self.problems.append(Problem(code, message, f"{self.at}.{element}" if element else self.at, "error"))

    def follow(self, element: object, where: str, types: frozenset[str]) -> tuple[Target | None, str | None, Any]:
        found = resolve(element, scope=self.scope, context=self.context, where=where, problems=self.problems)
        target = found.target
        kind = target.resource.get("resourceType") if target is not None else None
        if target is not None and (not isinstance(kind, str) or kind not in types):
            wanted = " or ".join(sorted(types))
            self.problems.append(Problem("business-rule", f"{where} is a {kind}, expected {wanted}", where, "error"))
            return None, None, None
        return target, found.external, found.logical


def _check_codes(reader: _Reader) -> tuple[str | None, str | None]:
    intent, status = reader.resource.get("intent"), reader.resource.get("status")
    if not isinstance(intent, str) or intent not in R4_INTENTS:
        reader.fail("code-invalid", "intent", f"intent {intent!r} is not an R4 MedicationRequest intent")
    elif intent not in ACCEPTED_INTENTS:
        reader.fail(
            "business-rule",
            "intent",
            f"intent '{intent}' is not an order a pharmacy fills (accepted: {', '.join(sorted(ACCEPTED_INTENTS))})",
        )
    if not isinstance(status, str) or status not in R4_STATUSES:
        reader.fail("code-invalid", "status", f"status {status!r} is not an R4 MedicationRequest status")
        return None, None
    if status not in RECEIVE_STATUSES and status not in CANCEL_CONTROLS:
        reader.fail(
            "business-rule",
            "status",
            f"status '{status}' is neither a new order (active, draft) nor a cancellation (cancelled, stopped)",
        )
        return None, None
    return (intent if isinstance(intent, str) else None), status


def _drug(reader: _Reader, route: str | None) -> DrugInfo | None:
    if "medicationCodeableConcept" in reader.resource:
        drug = drug_from_concept(obj(reader.resource, "medicationCodeableConcept"), route=route)
    else:
        where = f"{reader.at}.medicationReference"
        target, external, _ = reader.follow(
            obj(reader.resource, "medicationReference"), where, frozenset({"Medication"})
        )
        if external is not None:
            reader.problems.append(
                Problem(
                    "not-found",
                    f"Medication '{external}' is not in the request: send it contained or as a Bundle entry",
                    f"{where}.reference",
                    "error",
                )
            )
        if target is None:
            return None
        drug = drug_from_medication(target.resource, route=route)
        if has_ndc_ingredients(target.resource):
            compound = compound_of(target.resource, reader.resource, target.at, reader.problems)
            drug = drug.model_copy(update={"compound": compound}) if compound else drug
    if not is_described(drug):
        reader.fail("required", "medication", "the medication has neither a code nor text")
        return None
    return drug


def _patient(reader: _Reader) -> tuple[PatientInfo | None, str | None]:
    where = f"{reader.at}.subject"
    target, external, logical = reader.follow(obj(reader.resource, "subject"), where, frozenset({"Patient"}))
    if target is not None:
        return patient_info(target.resource), target.at
    if external is not None or logical is not None:
        return patient_from_logical(logical, external), None
    if not any(p.location.startswith(where) for p in reader.problems):
        reader.fail("required", "subject", "the patient (subject) is required")
    return None, None


def _prescriber(reader: _Reader) -> PrescriberInfo | None:
    where = f"{reader.at}.requester"
    kinds = frozenset({"Practitioner", "PractitionerRole"})
    target, external, logical = reader.follow(obj(reader.resource, "requester"), where, kinds)
    if target is None and (external is not None or logical is not None):
        return prescriber_from_logical(logical, external)
    if target is None:
        if not any(p.location.startswith(where) for p in reader.problems):
            reader.fail("required", "requester", "the prescriber (requester) is required to fill an order")
        return None
    if target.resource.get("resourceType") == "Practitioner":
        return prescriber_info(target.resource)
    role_where = f"{target.at}.practitioner"
    found = resolve(
        obj(target.resource, "practitioner"),
        scope=target.scope,
        context=reader.context,
        where=role_where,
        problems=reader.problems,
    )
    return prescriber_info(found.target.resource if found.target else None, target.resource)


def _encounter(reader: _Reader) -> Target | None:
    """MedicationRequest.encounter, else the first supportingInformation that is an Encounter it carries."""
    where = f"{reader.at}.encounter"
    target, _, _ = reader.follow(obj(reader.resource, "encounter"), where, frozenset({"Encounter"}))
    if target is not None or "encounter" in reader.resource:
        return target
    for element in objs(reader.resource, "supportingInformation"):
        found = resolve(element, scope=reader.scope, context=reader.context, where="", problems=[]).target
        if found is not None and found.resource.get("resourceType") == "Encounter":
            return found
    return None


def _setting(reader: _Reader, target: Target | None) -> Setting:
    if any(has_code(c, CATEGORY, frozenset({"inpatient"})) for c in objs(reader.resource, "category")):
        return Setting.INPATIENT
    encounter_class = obj(target.resource, "class") if target else None
    if encounter_class is not None and text(encounter_class, "code") in INPATIENT_CLASSES:
        return Setting.INPATIENT
    return Setting.OUTPATIENT


def _coverages(reader: _Reader, patient_target: str | None) -> tuple[CoverageInfo, ...]:
    """The Coverages the request's insurance names, else the bundle's Coverages of its patient; by order."""
    named = []
    for index, element in enumerate(objs(reader.resource, "insurance")):
        target, _, _ = reader.follow(
            element, f"{reader.at}.insurance[{index}]", frozenset({"Coverage", "ClaimResponse"})
        )
        if target is not None and target.resource.get("resourceType") == "Coverage":
            named.append(target.resource)
    if named or reader.context is None or patient_target is None:
        return coverages_in_order(named)
    return coverages_in_order([e.resource for e in reader.context.entries if _covers(reader, e, patient_target)])


def _covers(reader: _Reader, entry: BundleEntry, patient_target: str) -> bool:
    beneficiary = obj(entry.resource, "beneficiary") if entry.resource.get("resourceType") == "Coverage" else None
    if beneficiary is None or reader.context is None:
        return False
    found = resolve(beneficiary, scope=reader.context.scope_of(entry), context=reader.context, where="", problems=[])
    return found.target is not None and found.target.at == patient_target


def _route(request: JsonObject) -> str | None:
    return next((r for r in (concept_text(obj(d, "route")) for d in objs(request, "dosageInstruction")) if r), None)


def _receive(reader: _Reader, placer: Identifier) -> Command | None:
    request = reader.resource
    drug = _drug(reader, _route(request))
    patient, patient_at = _patient(reader)
    prescriber = _prescriber(reader)
    encounter = _encounter(reader)
    setting = _setting(reader, encounter)
    coverages = _coverages(reader, patient_at)
    quantity = order_fields.quantity(request)
    if quantity is not None and quantity.value < 0:  # as HL7's RXE-10: an amount to dispense is never negative
        reader.fail(
            "value",
            "dispenseRequest.quantity.value",
            f"the quantity to dispense must not be negative (got {quantity.value})",
        )
    if reader.problems or drug is None or patient is None or prescriber is None:
        return None
    allergies = order_allergies(request, reader.scope, reader.context, patient_at)
    return ReceivePrescription(
        placer_order_number=placer.value,
        placer_system=placer.system,
        patient=patient.model_copy(update={"allergies": allergies}) if allergies else patient,
        prescriber=prescriber,
        drug=drug,
        quantity=quantity,
        days_supply=order_fields.days_supply(request),
        refills=order_fields.refills(request),
        sig=sig(objs(request, "dosageInstruction")),
        dosage=dosage_of(request),
        location=location_of(encounter, reader.context),
        substitution_allowed=order_fields.substitution_allowed(request),
        written_date=order_fields.written_date(request),
        setting=setting,
        coverage=coverages[0] if coverages else None,
        other_coverages=coverages[1:],
        note=order_fields.note(request),
    )


def _cancel(reader: _Reader, placer: Identifier, status: str) -> Command:
    return CancelPrescription(
        placer_order_number=placer.value,
        placer_system=placer.system,
        control=CANCEL_CONTROLS[status],
        reason=concept_text(obj(reader.resource, "statusReason")),
    )


def map_medication_request(
    resource: JsonObject, *, scope: Scope, context: BundleContext | None, origin: str | None
) -> tuple[list[Command], list[Problem]]:
    """Map an already R4-validated MedicationRequest; returns its commands or every problem found."""
    reader = _Reader(resource, scope, context)
    _, status = _check_codes(reader)
    placer = placer_identifier(resource, origin=origin, full_url=scope.full_url)
    if placer is None:
        reader.fail("required", "identifier", "an identifier (placer order number) or a resource id is required")
    if status in CANCEL_CONTROLS and placer is not None and not reader.problems:
        return [_cancel(reader, placer, status)], []
    if status is None or placer is None:
        return [], reader.problems
    try:
        command = _receive(reader, placer)
    except ValidationError as exc:
        reader.fail("value", "", f"cannot be represented as an order: {exc.error_count()} invalid value(s)")
        return [], reader.problems
    return ([command] if command is not None else []), reader.problems


def medication_request_commands(
    resource: JsonObject, *, context: BundleContext | None = None, origin: str | None = None
) -> list[Command]:
    """Commands for one MedicationRequest (alone, or an entry of ``context``); raises with every problem."""
    classify(resource, accept=(ResourceKind.MEDICATION_REQUEST,))
    entry = next((e for e in context.entries if e.resource is resource), None) if context else None
    scope = context.scope_of(entry) if context and entry else Scope(resource, "MedicationRequest")
    problems = r4_problems(resource, at=scope.at)
    if not problems:
        commands, problems = map_medication_request(
            resource, scope=scope, context=context, origin=origin or (context.origin if context else None)
        )
    if problems:
        raise error_for(problems)
    return commands
