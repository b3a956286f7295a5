"""Every message the hub sends passes hl7apy strict validation at every version a destination can pick.

The fixtures are real: the sample inpatient order read by the HL7 door, driven through the aggregate's steps,
its events as the outbox publishes them, the message built with the stored record as at send time.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.hl7.outbound.destinations import SUPPORTED_EVENTS, DestinationConfig
from adapters.hl7.outbound.event_mapping import decode_cloudevent, message_for
from adapters.hl7.parsing import parse_message
from hub.domain.events import Event
from hub.domain.prescription import Prescription
from tests.support.hl7_strict import strict
from tests.unit.hl7_outbound import pipeline, samples

VERSIONS = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"]
Scenario = Callable[[pipeline.StoredRecords], tuple[Prescription, list[Event]]]

#: message kind -> (how the order got there, the event sent, a cabinet (encoded orders) or the EHR, ORC-1)
KINDS: dict[str, tuple[Scenario, str, bool, str]] = {
    "status-accepted": (pipeline.received, "prescription.received", False, "SC"),
    "status-in-progress": (pipeline.verified, "prescription.verified", False, "SC"),
    "status-refused": (pipeline.rejected, "prescription.rejected", False, "OC"),
    "status-cancelled-as-requested": (lambda r: pipeline.cancelled(r, "CA"), "prescription.cancelled", False, "CR"),
    "status-discontinued-as-requested": (lambda r: pipeline.cancelled(r, "DC"), "prescription.cancelled", False, "DR"),
    "encoded-order-new": (pipeline.verified, "prescription.verified", True, "NW"),
    "encoded-order-discontinue": (lambda r: pipeline.cancelled(r, "DC"), "prescription.cancelled", True, "DC"),
    "encoded-order-cancel": (lambda r: pipeline.cancelled(r, "CA"), "prescription.cancelled", True, "CA"),
    "dispense-complete": (pipeline.dispensed, "prescription.dispensed", False, "RE"),
    "dispense-partial": (lambda r: pipeline.dispensed(r, on_hand="20"), "prescription.dispensed", True, "RE"),
}


def destination(version: str, cabinet: bool) -> DestinationConfig:
    """The ward's cabinet (encoded orders) or the hospital EHR, both asking for allergies."""
    return DestinationConfig.model_validate(
        {
            "name": "cabinet" if cabinet else "ehr",
            "host": "127.0.0.1",
            "port": 1,
            "version": version,
            "events": list(SUPPORTED_EVENTS),
            "encoded_orders": cabinet,
            "allergies": True,
            "receiving_application": "PYXIS" if cabinet else "EHR",
            "receiving_facility": "GENHOSP",
        }
    )


def build(kind: str, version: str) -> bytes:
    """The message of this kind at this version, from the scenario's event."""
    scenario, event_type, cabinet, _ = KINDS[kind]
    records = pipeline.StoredRecords()
    _, events = scenario(records)
    (event,) = [e for e in events if e.name == event_type]
    built = message_for(destination(version, cabinet), decode_cloudevent(samples.cloudevent(event)), records)
    assert built is not None
    return built.payload


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_message_passes_strict_validation_at_every_version(kind: str, version: str) -> None:
    message = build(kind, version)
    strict(message)
    parsed = parse_message(message)
    assert parsed.get("ORC", 1) == KINDS[kind][3]
    assert parsed.get("MSH", 12) == version
    assert (parsed.get("PID", 5, 1), parsed.get("PID", 5, 2), parsed.get("PID", 7), parsed.get("PID", 8)) == (
        "Synthetic",
        "Bob",
        "19550315",
        "M",
    )
    pv1 = parsed.first("PV1")
    assert pv1 is not None and (pv1.get(2), pv1.raw(3)) == ("I", "4WEST^401^A")
    assert parsed.get("AL1", 3, 2) == "Penicillin"
    assert parsed.get("ORC", 12) == "1234567893" and parsed.get("ORC", 12, 2) == "Prescriber"


#: hl7apy has no v2.3 RRE^O02 (the answer to a v2.3 RDE^O01); v2.3.1, which has the same structure, is checked
ANSWER_VERSIONS = [v for v in VERSIONS if v != "2.3"]


@pytest.mark.parametrize("version", ANSWER_VERSIONS)
@pytest.mark.parametrize(
    ("event_type", "msa1", "orc1"), [("prescription.received", "AA", "OK"), ("order.refused", "AE", "UA")]
)
def test_application_answers_pass_strict_validation_at_every_version(
    event_type: str, msa1: str, orc1: str, version: str
) -> None:
    records = pipeline.StoredRecords()
    _, events = pipeline.asking_for_answers(records, version)
    (event,) = [e for e in events if e.name == event_type]
    placer = destination(version, cabinet=False).model_copy(update={"application_acks": True})
    built = message_for(placer, decode_cloudevent(samples.cloudevent(event)), records)
    assert built is not None
    strict(built.payload)
    parsed = parse_message(built.payload)
    assert (parsed.get("MSA", 1), parsed.get("MSA", 2), parsed.get("ORC", 1)) == (msa1, "RXH-DEMO-0002", orc1)
