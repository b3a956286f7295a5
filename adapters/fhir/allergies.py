"""The patient's AllergyIntolerances an order carries, as hub Allergies (substance, reactions, severity).

An order brings them contained in the MedicationRequest, as entries of its Bundle, or named by
``supportingInformation``; one counts when its ``patient`` is the order's subject, or when the order names it.
Refuted and entered-in-error ones are not allergies and are left out.
"""

from __future__ import annotations

from adapters.fhir.elements import JsonObject, codings, concept_text, obj, objs, text
from adapters.fhir.references import BundleContext, Scope, Target, resolve
from hub.domain.order_parts import Allergy

VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
#: reaction severity (R4 code system reaction-event-severity), mildest first
SEVERITIES = ("mild", "moderate", "severe")
_NOT_ALLERGIES = frozenset({"refuted", "entered-in-error"})


def order_allergies(
    request: JsonObject, scope: Scope, context: BundleContext | None, patient_at: str | None
) -> tuple[Allergy, ...]:
    """Every allergy of the order's patient that the request holds, each once, in the order found."""
    found: list[JsonObject] = []
    for index, element in enumerate(objs(request, "supportingInformation")):
        where = f"{scope.at}.supportingInformation[{index}]"
        target = resolve(element, scope=scope, context=context, where=where, problems=[]).target
        if target is not None and _is_allergy(target.resource):
            found.append(target.resource)
    if patient_at is not None:
        found += [t.resource for t in _candidates(scope, context) if _about(t, context, patient_at)]
    unique = list({id(r): r for r in found}.values())
    return tuple(a for a in (allergy_of(r) for r in unique) if a is not None)


def _candidates(scope: Scope, context: BundleContext | None) -> list[Target]:
    contained = [
        Target(r, f"{scope.at}.contained[{i}]", scope)
        for i, r in enumerate(objs(scope.container, "contained"))
        if _is_allergy(r)
    ]
    entries = [context.target_of(e) for e in context.entries if _is_allergy(e.resource)] if context else []
    return contained + entries


def _is_allergy(resource: JsonObject) -> bool:
    return resource.get("resourceType") == "AllergyIntolerance"


def _about(allergy: Target, context: BundleContext | None, patient_at: str) -> bool:
    patient = resolve(obj(allergy.resource, "patient"), scope=allergy.scope, context=context, where="", problems=[])
    return patient.target is not None and patient.target.at == patient_at


def allergy_of(resource: JsonObject) -> Allergy | None:
    """One AllergyIntolerance: substance (code), every reaction's manifestations, its worst reaction severity."""
    if any(c.code in _NOT_ALLERGIES for c in codings(obj(resource, "verificationStatus"))):
        return None
    reactions = objs(resource, "reaction")
    concept = obj(resource, "code") or next((obj(r, "substance") for r in reactions if obj(r, "substance")), None)
    name = concept_text(concept)
    if name is None:
        return None
    coded = codings(concept)
    manifestations = (concept_text(m) for r in reactions for m in objs(r, "manifestation"))
    severities = [s for s in (text(r, "severity") for r in reactions) if s in SEVERITIES]
    return Allergy(
        text=name,
        code=coded[0].code if coded else None,
        system=coded[0].system if coded else None,
        severity=max(severities, key=SEVERITIES.index) if severities else None,
        reactions=tuple(dict.fromkeys(m for m in manifestations if m)),
    )
