"""Scenarios of issue 7 that wait for hub parts not built yet; each names its hook so the table shows it."""

from __future__ import annotations

#: scenario name -> what it will measure and where it plugs in
PENDING: dict[str, str] = {
    "fhir-http": (
        "(c) FHIR ingest over HTTP, 1/8/32 senders: needs the HTTP door (Doors.http_port is 0 today). "
        "Hook: bench/fhir_http.py with run_fhir_load(plan, base_url) -> hl7_load.LoadResult (one httpx.Client "
        "per sender thread, a MedicationRequest with a fresh identifier per request), then the same "
        "DeliveryWitness.await_drained check, registered in bench.run.ingest_scenarios."
    ),
    "workflow": (
        "(d) orders/s from arrival to READY: needs the workflow steps in hub.entrypoints.runtime.STEP_HANDLERS. "
        "Hook: bind DeliveryWitness to the READY event's routing key instead of prescription.received and "
        "time from the AA to the event (CloudEvents time), per order."
    ),
}
