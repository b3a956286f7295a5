"""The FHIR write interactions: create (conditional), transaction, batch, and document submission.

* create: 201 + Location once the order is on the broker, answered with the order as the hub holds it
  (``door.accepted``); an order already known (its identifier, or the ``If-None-Exist`` search) is
  answered 200 with the order as it stands, and nothing is published.
* transaction and document: every order of the Bundle is published in ONE confirmed batch, or none is
  (503). The Patient an order names is created with it (``order_patients``: 201, Location); other
  supporting entries (Practitioner, Coverage...) are read for the orders, not stored: their
  transaction-response entry says so in an informational outcome. A document is then created itself
  (``documents``). A refused Bundle's OperationOutcome has an issue at every MedicationRequest entry
  (``bundles.with_untaken``).
* batch: each entry stands alone (R4 Bundle: batch entries have no interdependencies): its own status,
  its own publish, its own OperationOutcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from adapters.fhir import documents, order_patients
from adapters.fhir.bundles import BundleResult, EntryResult, bundle_commands, with_untaken
from adapters.fhir.conditional import if_none_exist
from adapters.fhir.door import FhirDoor, Known, accepted, utc_now
from adapters.fhir.elements import obj, text
from adapters.fhir.fhir_views_from_hub import order_patient_id
from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.orders import Order, sender_origin
from adapters.fhir.outcomes import error_for, http_status_for, operation_outcome, outcome_for
from adapters.fhir.parsing import ResourceKind, classify, parse_resource
from adapters.fhir.stamps import stamped
from adapters.fhir.subjects import subject_entries
from hub.domain.commands import ReceivePrescription
from hub.errors import DomainError, InboundMessageError, NotFound, Problem, RxHubError

SUPPORTING = "read as supporting information for the order(s) in this Bundle; not stored as a resource"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, FHIR resource, and the Location of what was created."""

    status: int
    resource: dict[str, Any]
    location: str | None = None
    #: the resource already encoded (as recorded for resends), when it was
    body: bytes | None = None
    #: every order in it was known before: a resend, answered as the first time
    duplicate: bool = False
    #: what ``Prefer: return=OperationOutcome`` answers with, when it says more than "accepted"
    outcome: dict[str, Any] | None = None


@dataclass(frozen=True)
class Settled:
    """One order of a request after dedupe: known before (200) or accepted now (201; 200 for a cancel)."""

    order: Order
    resource: dict[str, Any]
    known: bool
    #: relative URL of the MedicationRequest answered (a conditional create may find another order)
    location: str

    @property
    def status(self) -> int:
        """The HTTP status of this order's outcome."""
        return 201 if not (self.known or self.order.is_cancel) else 200

    def note(self) -> Problem:
        """An informational issue naming the order, for answers that are OperationOutcomes."""
        what = "already received" if self.known else ("cancellation accepted" if self.order.is_cancel else "accepted")
        where = f"Bundle.entry[{self.order.index}].resource" if self.order.index is not None else ""
        return Problem("informational", f"{self.location}: {what}", where, "information")


def status_line(status: int) -> str:
    """A Bundle entry response status: the code and its reason phrase (R4 Bundle.entry.response.status)."""
    return f"{status} {HTTPStatus(status).phrase}"


async def _prior(door: FhirDoor, order: Order, sender: str, condition: str | None) -> Known | None:
    if condition is not None and not order.is_cancel:
        found = await door.search(if_none_exist(condition), scope=sender)
        if found is not None:
            return found
    known = await door.known(order, sender)
    if known is None and order.is_cancel and not await door.sent_by(order, sender):
        # another sender's order, or none: "not found", never a cancel of someone else's order
        where = (
            f"Bundle.entry[{order.index}].resource.identifier"
            if order.index is not None
            else "MedicationRequest.identifier"
        )
        raise NotFound(
            f"the order to cancel is not known: no order of this sender has identifier "
            f"{order.key.removeprefix('cancel|')}",
            location=where,
        )
    return known


async def _settle(
    door: FhirDoor, order: Order, resource: dict[str, Any], sender: str, condition: str | None, now: datetime
) -> Settled:
    found = await _prior(door, order, sender, condition)
    if found is not None:
        return Settled(order, found.resource, known=True, location=found.location)
    if order.is_cancel:
        return Settled(
            order, await _cancelled(door, order, resource, sender, now), known=False, location=order.location
        )
    return Settled(order, accepted(resource, order, now), known=False, location=order.location)


async def _cancelled(
    door: FhirDoor, order: Order, resource: dict[str, Any], sender: str, now: datetime
) -> dict[str, Any]:
    """A cancellation's answer: the order it cancels as the hub holds it, with the status sent (cancelled or
    stopped); as sent when the hub holds nothing to show (``door.accepted``)."""
    original = await door.original(order, sender)
    if original is None:
        return accepted(resource, order, now)
    return stamped({**original.resource, "status": resource.get("status", "cancelled")}, now)


async def create(door: FhirDoor, body: bytes, sender: str, condition: str | None) -> Answer:
    """POST /MedicationRequest: one order, conditional on its identifier (and If-None-Exist when given)."""
    resource = parse_resource(body)
    if condition is not None:
        if_none_exist(condition)  # a malformed header is refused before anything else happens
    (command,) = medication_request_commands(resource, origin=sender_origin(sender))
    settled = await _settle(door, Order.of(command, owner=sender), resource, sender, condition, utc_now())
    if not settled.known and (first := await door.claim(sender, settled.order, body, "MedicationRequest")):
        settled = Settled(settled.order, first.resource, known=True, location=first.location)  # lost a race
    if settled.known:
        return Answer(settled.status, settled.resource, settled.location, duplicate=True)
    (encoded,) = await door.accept(sender, [(settled.order, settled.resource)], body, "MedicationRequest")
    return Answer(settled.status, settled.resource, settled.location, encoded)


def _entries(bundle: dict[str, Any]) -> list[Any]:
    raw = bundle.get("entry")
    return raw if isinstance(raw, list) else []


def _entry_resource(bundle: dict[str, Any], index: int) -> dict[str, Any]:
    return obj(_entries(bundle)[index], "resource") or {}


def _condition(bundle: dict[str, Any], index: int) -> str | None:
    return text(obj(_entries(bundle)[index], "request"), "ifNoneExist")


async def settle_all(
    door: FhirDoor, result: BundleResult, bundle: dict[str, Any], body: bytes, sender: str, *, conditional: bool
) -> dict[int, Settled]:
    """All orders of an all-or-nothing Bundle, the new ones published in one confirmed batch."""
    now, settled = utc_now(), {}
    for entry in result.entries:
        if not entry.commands:
            continue
        order = Order.of(entry.commands[0], entry.index, owner=sender)
        condition = _condition(bundle, entry.index) if conditional else None
        settled[entry.index] = await _settle(door, order, _entry_resource(bundle, entry.index), sender, condition, now)
    fresh: dict[str, Settled] = {}
    for item in settled.values():
        if not item.known:
            fresh.setdefault(item.order.key, item)
    # the keys are taken before publishing: of two Bundles racing with one identifier, one is accepted
    message_type = f"Bundle/{result.kind.value}"
    first = await door.claim_all(sender, [item.order for item in fresh.values()], body, message_type)
    for index, item in settled.items():
        if (found := first.get(item.order.key)) is not None:  # an identical order accepted a moment ago
            settled[index] = Settled(item.order, found.resource, known=True, location=found.location)
    taken = [(item.order, item.resource) for key, item in fresh.items() if key not in first]
    await door.accept(sender, taken, body, message_type)
    return settled


def _reply(
    status: int,
    *,
    resource: dict[str, Any] | None = None,
    location: str | None = None,
    outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status_line(status)}
    if location:
        response["location"] = location
    if outcome is not None:
        response["outcome"] = outcome
    return {"resource": resource, "response": response} if resource is not None else {"response": response}


def _supporting() -> dict[str, Any]:
    return _reply(200, outcome=operation_outcome([Problem("informational", SUPPORTING, "", "information")]))


def _settled_reply(item: Settled) -> dict[str, Any]:
    return _reply(item.status, resource=item.resource, location=item.location)


def _patient_reply(item: Settled) -> dict[str, Any]:
    """A Patient entry that is an order's subject: created with the order (``order_patients``)."""
    patient_id = order_patient_id(item.order.resource_id)
    command = item.order.command
    if not isinstance(command, ReceivePrescription):
        return _supporting()
    return _reply(
        200 if item.known else 201,
        resource=order_patients.as_named(patient_id, command.patient),
        location=f"Patient/{patient_id}",
    )


async def transaction(
    door: FhirDoor, result: BundleResult, bundle: dict[str, Any], body: bytes, sender: str
) -> dict[str, Any]:
    """A transaction-response Bundle, one entry per request entry, in order: each order and the Patient it
    names with a Location; other supporting entries with an informational outcome."""
    settled = await settle_all(door, result, bundle, body, sender, conditional=True)
    subjects = subject_entries(bundle, settled)
    entries = [
        _settled_reply(settled[e.index])
        if e.index in settled
        else _patient_reply(settled[subjects[e.index]])
        if e.index in subjects
        else _supporting()
        for e in result.entries
    ]
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


async def _batch_entry(
    door: FhirDoor, entry: EntryResult, bundle: dict[str, Any], body: bytes, sender: str
) -> dict[str, Any]:
    if entry.problems:
        error = error_for(entry.problems)
        return _reply(http_status_for(error), outcome=outcome_for(error))
    if not entry.commands:
        return _supporting()
    try:
        order = Order.of(entry.commands[0], entry.index, owner=sender)
        item = await _settle(
            door, order, _entry_resource(bundle, entry.index), sender, _condition(bundle, entry.index), utc_now()
        )
        if not item.known and (first := await door.claim(sender, item.order, body, "Bundle/batch")):
            item = Settled(item.order, first.resource, known=True, location=first.location)
        if not item.known:
            await door.accept(sender, [(item.order, item.resource)], body, "Bundle/batch")
    except RxHubError as exc:  # one entry's failure is its own answer (batch), never the others'
        return _reply(http_status_for(exc), outcome=outcome_for(exc))
    return _settled_reply(item)


async def batch(
    door: FhirDoor, result: BundleResult, bundle: dict[str, Any], body: bytes, sender: str
) -> dict[str, Any]:
    """A batch-response Bundle: every entry answered on its own."""
    entries = [await _batch_entry(door, e, bundle, body, sender) for e in result.entries]
    return {"resourceType": "Bundle", "type": "batch-response", "entry": entries}


async def post_base(door: FhirDoor, body: bytes, sender: str) -> Answer:
    """POST [base]: a transaction or a batch Bundle."""
    bundle = parse_resource(body)
    classify(bundle, accept=(ResourceKind.TRANSACTION, ResourceKind.BATCH))
    try:
        result = bundle_commands(bundle)
        if result.kind is ResourceKind.TRANSACTION:
            return Answer(200, await transaction(door, result, bundle, body, sender))
        return Answer(200, await batch(door, result, bundle, body, sender))
    except (InboundMessageError, DomainError) as exc:  # the whole Bundle refused (a batch entry answers for itself)
        return Answer(http_status_for(exc), with_untaken(outcome_for(exc), bundle))


async def post_document(door: FhirDoor, body: bytes, sender: str) -> Answer:
    """POST /Bundle with a document: its orders all or none, then the Bundle created (201, Location) or, sent
    before, found (200); ``outcome`` names each order (what Prefer: return=OperationOutcome gets)."""
    bundle = parse_resource(body)
    classify(bundle, accept=(ResourceKind.DOCUMENT,))
    try:
        settled = await settle_all(door, bundle_commands(bundle), bundle, body, sender, conditional=False)
    except (InboundMessageError, DomainError) as exc:
        return Answer(http_status_for(exc), with_untaken(outcome_for(exc), bundle))
    stored, created = await documents.keep(door, sender, bundle, body, utc_now())
    notes = operation_outcome([item.note() for item in settled.values()])
    return Answer(201 if created else 200, stored, f"Bundle/{stored['id']}", duplicate=not created, outcome=notes)
