"""The patient of an order, as a Patient id the door can give before a worker has matched a profile.

A create or transaction is answered once its orders are on the broker; which profile the patient is (an
existing one, or a new one) is decided later, at intake. So the answer names the patient ``Patient/<order
id>-patient``: the patient as that order names them. Once the order is recorded that id reads the matched
profile under the same id, with ``link`` (type ``refer``) to the profile's own ``Patient/<hub id>``, which
the order's MedicationRequest then names. Before that, like the order itself, it answers 404.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.fhir.door import FhirDoor
from adapters.fhir.fhir_views_from_hub import order_patient_id, patient_snapshot
from adapters.fhir.snapshots import PatientSnapshot
from adapters.fhir.stamps import stamped
from adapters.fhir.views import patient_view
from hub.domain.order_parts import PatientInfo
from hub.errors import NotFound

_ALIAS = re.compile(r"^(?P<order>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-patient$")
__all__ = ["as_named", "is_order_patient", "order_patient_id", "read"]


def is_order_patient(patient_id: str) -> bool:
    """Whether a Patient id is an order's (not a profile's own)."""
    return _ALIAS.fullmatch(patient_id) is not None


def as_named(patient_id: str, info: PatientInfo) -> dict[str, Any]:
    """The patient as an order names them (the answer to a create or transaction)."""
    return patient_view(PatientSnapshot(id=patient_id, patient=info))


async def read(door: FhirDoor, patient_id: str, scope: str | None) -> dict[str, Any]:
    """GET /Patient/<order id>-patient: the profile the order's patient was matched to, under this id."""
    found = _ALIAS.fullmatch(patient_id)
    rx = await door.prescription(found.group("order"), scope, by_correlation_only=True) if found else None
    profile = await door.patient(rx.patient_id, scope) if rx is not None else None
    if profile is None:
        raise NotFound(
            f"Patient/{patient_id} is not known (yet): the patient of an accepted order is readable "
            "once the pharmacy has recorded the order"
        )
    view = patient_view(patient_snapshot(profile))
    link = [{"other": {"reference": f"Patient/{profile.patient_id}"}, "type": "refer"}]
    return stamped({**view, "id": patient_id, "link": link}, None)
