"""Synthetic orders for the chaos load: one patient per order (DUR reads the patient's whole profile).

Every order carries a unique placer number, so the auditor can match each positive answer to exactly one
stored prescription by ``prescriptions.placer_order_number``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from bench.fhir_load import medication_request

NDC = "00093005801"  # amoxicillin: in the catalogue and paid by the simulated payer (BIN 999001)
PLACER_SYSTEM = "CHAOS"
FHIR_PLACER_SYSTEM = "urn:example:chaos-ehr"


def hl7_order(control_id: str, placer: str, control: str = "NW") -> bytes:
    """An RDE^O11 new order (or cancel, ``control="CA"``) for amoxicillin 500 mg."""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    written = date.today().strftime("%Y%m%d")
    segments = [
        f"MSH|^~\\&|CHAOS|GENHOSP|RXHUB|PHARMACY|{now}||RDE^O11^RDE_O11|{control_id}|P|2.5.1",
        f"PID|1||M{placer}^^^GENHOSP^MR||Pt{placer}^Alice^Q||19800101|F|||12 Elm St^^Springfield^IL^62701",
        "PV1|1|O",
        f"ORC|{control}|{placer}^{PLACER_SYSTEM}|||||||{now}|||1234567893^Prescriber^Paula^^^^^^NPI^^^^NPI",
        "TQ1|1||BID",
        f"RXE||{NDC}^Amoxicillin 500 MG Oral Capsule^NDC|1||CAP||^Take 1 capsule by mouth twice daily for 10 days"
        f"|||20|CAP|0||||||||||||||||||||{written}",
        "RXR|PO",
    ]
    return ("\r".join(segments) + "\r").encode()


def fhir_order(placer: str) -> bytes:
    """A MedicationRequest with contained Patient and Practitioner, placer number in a PLAC identifier."""
    return json.dumps(medication_request(placer, FHIR_PLACER_SYSTEM)).encode()


def ack_code(ack: bytes, control_id: str) -> str | None:
    """MSA-1 of an ACK whose MSA-2 echoes ``control_id`` (None when it does not answer this message)."""
    for segment in ack.replace(b"\n", b"\r").split(b"\r"):
        if segment.startswith(b"MSA"):
            fields = segment.split(segment[3:4])
            if len(fields) > 2 and fields[2] == control_id.encode():
                return fields[1].decode(errors="replace")
    return None
