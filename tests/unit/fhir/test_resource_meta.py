"""What every rendered resource carries beside its content: identifier types from their own code systems,
and a version that changes exactly when what a client sees changes. Checked with Medplum's R4 validator."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.fhir.identifier_types import HUB_IDENTIFIER_TYPE, V2_0203, identifier_type
from adapters.fhir.snapshots import PatientSnapshot
from adapters.fhir.stamps import content_version, stamped
from adapters.fhir.views import patient_view
from hub.domain.order_parts import Identifier, PatientInfo
from tests.support.fhir_validator import FhirValidator, fhir_validator

__all__ = ["fhir_validator"]

MOMENT = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def test_type_codes_are_claimed_only_for_the_code_system_that_defines_them() -> None:
    assert identifier_type("MR") == {"coding": [{"system": V2_0203, "code": "MR"}]}
    assert identifier_type("fhir-reference")["coding"][0]["system"] == HUB_IDENTIFIER_TYPE
    assert identifier_type("MedicalRecordIdentificationNumberEHR") == {"text": "MedicalRecordIdentificationNumberEHR"}


def test_a_patient_with_every_kind_of_identifier_type_is_valid_r4(fhir_validator: FhirValidator) -> None:
    info = PatientInfo(
        family_name="Testpatient",
        given_name="Alex",
        identifiers=(
            Identifier(value="MRN-1", system="urn:example:mrn", type_code="MR"),
            Identifier(value="Patient/example", type_code="fhir-reference"),
            Identifier(value="E-1", system="urn:example:ehr", type_code="MedicalRecordIdentificationNumberEHR"),
        ),
    )
    view = patient_view(PatientSnapshot(id="p-1", patient=info))
    fhir_validator.assert_valid(view)
    assert [i["type"] for i in view["identifier"]] == [
        identifier_type("MR"),
        identifier_type("fhir-reference"),
        {"text": "MedicalRecordIdentificationNumberEHR"},
    ]


def test_the_version_changes_with_the_content_only() -> None:
    resource = {"resourceType": "Patient", "id": "p-1", "meta": {"profile": ["urn:example:profile"]}}
    first = stamped(resource, MOMENT)
    assert first["meta"] == {
        "versionId": content_version(resource),
        "lastUpdated": "2026-12-07T20:00:00+00:00",
        "profile": ["urn:example:profile"],
    }
    assert stamped(first, datetime(2027, 1, 1, tzinfo=UTC))["meta"]["versionId"] == first["meta"]["versionId"]
    assert stamped({**first, "gender": "other"}, MOMENT)["meta"]["versionId"] != first["meta"]["versionId"]
    tagged = {**first, "meta": {**first["meta"], "tag": [{"code": "x"}]}}
    assert stamped(tagged, MOMENT)["meta"]["versionId"] != first["meta"]["versionId"]
