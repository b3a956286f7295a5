"""A refused order in a FHIR read: what a client that was answered 201 (or 200 ok) learns afterwards.

Intake may refuse an order the door had accepted (``order.refused``: a second order under an identifier
its sender already has an order under). GET MedicationRequest/{id} then says so in terms an R4 client acts
on:

* nothing is held under the id: the MedicationRequest as it was submitted, with ``status`` ``cancelled``
  (R4: "withdrawn before any administrations have occurred") and ``statusReason`` coded
  ``urn:rxhub:fhir:order-refusal|duplicate-order`` with the reason in its text; without the submitted
  resource (the order came by HL7 or SCRIPT), 404 with an OperationOutcome giving the reason;
* an order is held under the id (the usual duplicate: the first order keeps it): that order as it stands,
  its status its own, with a ``meta.tag`` per refusal code under the same system, saying that a later
  submission under this identifier was refused and why. The refused submission is not a resource.
"""

from __future__ import annotations

from typing import Any

from adapters.fhir.stamps import last_updated, stamped
from hub.domain.refused_orders import RefusedOrder

#: the code system of the hub's refusal codes (``OrderRefused.code``)
REFUSAL_SYSTEM = "urn:rxhub:fhir:order-refusal"


def refused_view(submitted: dict[str, Any], refusal: RefusedOrder) -> dict[str, Any]:
    """The submitted MedicationRequest, cancelled, with why in ``statusReason``."""
    reason = {"coding": [{"system": REFUSAL_SYSTEM, "code": refusal.code}], "text": refusal.reason}
    kept = {**submitted, "status": "cancelled", "statusReason": reason}
    subject = submitted.get("subject")
    if isinstance(subject, dict) and "reference" in subject:  # the order's patient was never recorded
        kept["subject"] = {"display": subject.get("display") or "the patient the order named"}
    return stamped(kept, refusal.refused_at)


def with_refusal_tags(view: dict[str, Any], refusals: list[RefusedOrder]) -> dict[str, Any]:
    """The held order's view with a ``meta.tag`` per refusal code (the latest reason as its display)."""
    latest = {r.code: r for r in refusals}
    meta = view.get("meta")
    kept = meta if isinstance(meta, dict) else {}
    tags = [t for t in kept.get("tag", []) if not (isinstance(t, dict) and t.get("system") == REFUSAL_SYSTEM)]
    tags += [
        {
            "system": REFUSAL_SYSTEM,
            "code": code,
            "display": f"a later submission under this identifier was {r.reason} ({r.refused_at:%Y-%m-%d})",
        }
        for code, r in latest.items()
    ]
    return stamped({**view, "meta": {**kept, "tag": tags}}, last_updated(view))
