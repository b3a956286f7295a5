"""$process-message: a message Bundle in, a response message Bundle out, whatever happened.

R4 messaging.html: the reply's MessageHeader.response names the request MessageHeader and says ``ok``,
``fatal-error`` (do not resend as is) or ``transient-error`` (resend later), with the OperationOutcome
in ``response.details``. The orders of one message are published in one confirmed batch (all or none).
A body too broken to name its MessageHeader cannot get a reply message: it is answered with a bare
OperationOutcome instead (the error propagates to the route). Either way every MedicationRequest entry
has an issue of its own: accepted, already received, refused, or not taken (``bundles.with_untaken``).
"""

from __future__ import annotations

from typing import Any

from adapters.fhir.bundles import bundle_commands, with_untaken
from adapters.fhir.door import FhirDoor, utc_now
from adapters.fhir.messages import MessageInfo, ResponseCode, request_message_info, response_message
from adapters.fhir.outcomes import http_status_for, operation_outcome, outcome_for
from adapters.fhir.parsing import ResourceKind, classify, parse_resource
from adapters.fhir.writes import Answer, settle_all
from hub.errors import ControlIdInUse, DomainError, InboundMessageError, InfrastructureError


async def process_message(door: FhirDoor, body: bytes, sender: str) -> Answer:
    """Accept the message's orders and answer with a response message (ok, fatal-error, transient-error)."""
    info: MessageInfo | None = None
    bundle: dict[str, Any] = {}
    try:
        bundle = parse_resource(body)
        info = request_message_info(bundle)
        classify(bundle, accept=(ResourceKind.MESSAGE,))
        settled = await settle_all(door, bundle_commands(bundle), bundle, body, sender, conditional=False)
    except (InboundMessageError, InfrastructureError, DomainError) as exc:
        if info is None or info.header_id is None:
            raise
        again = isinstance(exc, InfrastructureError | ControlIdInUse)  # resend later: it may well be taken then
        code: ResponseCode = "transient-error" if again else "fatal-error"
        outcome = with_untaken(outcome_for(exc), bundle)
        reply = response_message(info.header_id, code, outcome, now=utc_now(), request=info)
        return Answer(http_status_for(exc), reply)
    notes = operation_outcome([item.note() for item in settled.values()])
    header_id = info.header_id if info is not None and info.header_id else "unknown"
    return Answer(200, response_message(header_id, "ok", notes, now=utc_now(), request=info))
