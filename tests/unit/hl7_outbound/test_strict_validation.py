"""Every message the hub sends passes hl7apy strict validation at every version a destination can pick.

The fixtures are real: the sample inpatient order read by the HL7 door, driven through the aggregate's steps,
its events as the outbox publishes them, the message built with the stored record as at send time.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import ValidationError
from hl7apy.parser import parse_message as hl7apy_parse

from adapters.hl7.outbound.destinations import SUPPORTED_EVENTS, DestinationConfig
from adapters.hl7.outbound.event_mapping import decode_cloudevent, message_for
from adapters.hl7.parsing import parse_message
from hub.domain.events import Event
from hub.domain.prescription import Prescription
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


def strict(message: bytes) -> None:
    """hl7apy's strict validation: structure, required fields, datatypes and lengths of that version."""
    parsed = hl7apy_parse(message.decode(), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    _refile_encoded_timing(parsed)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "errors.txt"
        try:
            parsed.validate(report_file=str(report))
        except ValidationError:
            errors = [line for line in report.read_text().splitlines() if line.startswith("Error")]
            unexpected = [e for e in errors if not _V23_OBSERVATION.search(e)]
            assert not unexpected, unexpected


#: v2.3 RDE^O01/RDS^O01 end their ORDER group with ``{[OBX] [{NTE}]}``, a group that may be empty; hl7apy's
#: v2.3 tables make it (and its OBX) required, which the standard does not
_V23_OBSERVATION = re.compile(r"^Error: Missing required child RD[ES]_O01_ORDER\.RD[ES]_O01_OBSERVATION$")


def _refile_encoded_timing(parsed: Any) -> None:
    """hl7apy files RDE^O11's TQ1 after RXE under the ORC's TIMING group (both start with TQ1): move it to
    TIMING_ENCODED, where v2.5+ puts it, so the check judges the message as HL7 defines it."""
    for order in parsed.children:
        names = [child.name for child in order.children]
        if order.name != "RDE_O11_ORDER" or "RXE" not in names:
            continue
        for misfiled in [c for c in list(order.children)[names.index("RXE") + 1 :] if c.name == "RDE_O11_TIMING"]:
            encoded = order.add_group("RDE_O11_TIMING_ENCODED")
            for segment in list(misfiled.children):
                encoded.add(segment)
            order.children.remove(misfiled)


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
