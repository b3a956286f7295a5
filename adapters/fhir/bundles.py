"""Bundles -> commands: transaction (all or nothing), batch (per entry), message and document.

* transaction, message, document: any problem anywhere refuses the whole Bundle with one error that
  lists every problem (``Bundle.entry[2].resource.intent``...).
* batch: each entry stands alone (R4 Bundle: "no interdependencies"); an entry's problems are returned
  in its EntryResult and the other entries still map. A problem with the Bundle itself refuses all.
* message: the first entry must be the MessageHeader (R4 Bundle invariant: "a message must have a
  MessageHeader as the first resource"). A message whose focus names a MedicationRequest is a
  prescription order, and every MedicationRequest entry of it is an order: the ones focus names, then
  the ones it does not (NHS EPS names only the first item of a prescription in some messages; each such
  entry is logged as a warning with its index, never skipped). A message whose focus names none (a
  dispense notification, a benefit check) is ``not-supported``, whatever it carries. On any error the
  raised error's ``control_id`` is the request MessageHeader id (for the reply).
* document: the first entry must be a Composition; the orders are every MedicationRequest entry.
* transaction/batch entries other than MedicationRequest (Patient, Practitioner, Coverage...) are
  supporting information: read for mapping, never stored, and they produce no command.
* MedicationRequests of one prescription (same groupIdentifier) must share courseOfTherapyType: a
  group cannot be both a one-off and a repeat authorisation (NHS EPS rejects this too).
* Every MedicationRequest entry is answered at its own entry: taken (the door's note names its order), or
  refused by its own issue, or, when an all-or-nothing Bundle is refused for other entries' problems, by
  an informational "not taken" issue (``with_untaken``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from adapters.fhir.elements import JsonObject, codings, obj, objs, text
from adapters.fhir.mapping import map_medication_request
from adapters.fhir.messages import MessageInfo, message_info
from adapters.fhir.outcomes import error_for, operation_outcome
from adapters.fhir.parsing import ResourceKind, classify
from adapters.fhir.references import BundleContext, BundleEntry, resolve, restful_base
from adapters.fhir.validation import r4_problems
from hub.domain.commands import Command
from hub.errors import Problem

log = logging.getLogger(__name__)

BUNDLE_KINDS = (ResourceKind.TRANSACTION, ResourceKind.BATCH, ResourceKind.MESSAGE, ResourceKind.DOCUMENT)
_WRITE_METHODS = frozenset({"POST", "PUT"})
_ENTRY = re.compile(r"Bundle\.entry\[(\d+)\]")
UNTAKEN = (
    "not taken: the Bundle is accepted all or nothing and was refused for the issues at other "
    "entries; nothing of it was kept"
)


class EntryResult(BaseModel):
    """What one Bundle entry became: commands (orders), problems (batch only), or nothing (supporting)."""

    model_config = ConfigDict(frozen=True)

    index: int
    full_url: str | None = None
    resource_type: str | None = None
    commands: tuple[SerializeAsAny[Command], ...] = ()
    problems: tuple[Problem, ...] = ()


class BundleResult(BaseModel):
    """A mapped Bundle: its kind, the MessageHeader facts for a reply, and per-entry results."""

    model_config = ConfigDict(frozen=True)

    kind: ResourceKind
    bundle_id: str | None = None
    message: MessageInfo | None = None
    entries: tuple[EntryResult, ...] = ()

    def commands(self) -> list[Command]:
        """Every command, in entry order."""
        return [c for e in self.entries for c in e.commands]


def _shell(bundle: JsonObject) -> JsonObject:
    raw = bundle.get("entry")
    if not isinstance(raw, list):
        return bundle
    entries = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e for e in raw]
    return {**bundle, "entry": entries}


def _origin(context: BundleContext, entry: BundleEntry) -> str | None:
    if context.origin is not None:
        return context.origin
    return restful_base(entry.full_url)


def _request_problems(raw: object, index: int) -> list[Problem]:
    where = f"Bundle.entry[{index}].request"
    method = text(obj(raw, "request"), "method")
    if method is None:
        return [Problem("required", "a transaction/batch entry needs request.method and url", where, "error")]
    if method not in _WRITE_METHODS:
        message = f"request.method {method} is not supported here: send orders with POST (or PUT to update)"
        return [Problem("not-supported", message, f"{where}.method", "error")]
    return []


def _course(entry: BundleEntry) -> frozenset[str]:
    return frozenset(c.code for c in codings(obj(entry.resource, "courseOfTherapyType")))


def _group(entry: BundleEntry) -> tuple[str | None, str] | None:
    group = obj(entry.resource, "groupIdentifier")
    value = text(group, "value")
    return (text(group, "system"), value) if value is not None else None


def _course_problems(orders: list[BundleEntry]) -> list[tuple[int, Problem]]:
    groups: dict[tuple[str | None, str], list[BundleEntry]] = {}
    for entry in orders:
        if (key := _group(entry)) is not None:
            groups.setdefault(key, []).append(entry)
    found = []
    for members in groups.values():
        first = _course(members[0])
        for entry in members[1:]:
            if _course(entry) != first:
                where = f"Bundle.entry[{entry.index}].resource.courseOfTherapyType"
                message = (
                    f"courseOfTherapyType {sorted(_course(entry))} differs from {sorted(first)} in the same "
                    "prescription (groupIdentifier): one prescription has one course of therapy"
                )
                found.append((entry.index, Problem("business-rule", message, where, "error")))
    return found


def _orders(kind: ResourceKind, context: BundleContext, problems: list[Problem]) -> list[BundleEntry]:
    if kind is ResourceKind.MESSAGE:
        return sorted(_message_orders(context, problems), key=lambda e: e.index)
    if kind is ResourceKind.DOCUMENT and (
        not context.entries or context.entries[0].index != 0 or _type(context.entries[0]) != "Composition"
    ):
        problems.append(
            Problem("invalid", "a document Bundle must start with a Composition", "Bundle.entry[0]", "error")
        )
    orders = [e for e in context.entries if _type(e) == "MedicationRequest"]
    if not orders and not problems:
        problems.append(Problem("not-supported", "the Bundle carries no MedicationRequest", "Bundle.entry", "error"))
    return orders


def _type(entry: BundleEntry) -> Any:
    return entry.resource.get("resourceType")


def _message_orders(context: BundleContext, problems: list[Problem]) -> list[BundleEntry]:
    named = _focus_orders(context, problems)
    if not named:
        return named
    unnamed = [
        e for e in context.entries if _type(e) == "MedicationRequest" and e.index not in {n.index for n in named}
    ]
    for entry in unnamed:
        # the index only: the entry holds a patient's order
        log.warning(
            "message Bundle entry %d: a MedicationRequest that MessageHeader.focus does not name, taken as an order",
            entry.index,
        )
    return named + unnamed


def _focus_orders(context: BundleContext, problems: list[Problem]) -> list[BundleEntry]:
    header = context.entries[0]
    orders: list[BundleEntry] = []
    for index, focus in enumerate(objs(header.resource, "focus")):
        where = f"Bundle.entry[0].resource.focus[{index}]"
        found = resolve(focus, scope=context.scope_of(header), context=context, where=where, problems=problems)
        entry = next((e for e in context.entries if found.target and e.resource is found.target.resource), None)
        if entry is not None and _type(entry) == "MedicationRequest" and entry not in orders:
            orders.append(entry)
    if not orders and not problems:
        event = text(obj(header.resource, "eventCoding"), "code") or text(header.resource, "eventUri")
        problems.append(
            Problem(
                "not-supported",
                f"message event '{event}' carries no MedicationRequest in its focus: "
                "this server only accepts prescription orders",
                "Bundle.entry[0].resource.focus",
                "error",
            )
        )
    return orders


def _raw_entries(bundle: JsonObject) -> list[Any]:
    raw = bundle.get("entry")
    return raw if isinstance(raw, list) else []


def _entry_problems(kind: ResourceKind, bundle: JsonObject, context: BundleContext) -> dict[int, list[Problem]]:
    found: dict[int, list[Problem]] = {}
    with_resource = {e.index: e for e in context.entries}
    for index, raw in enumerate(_raw_entries(bundle)):
        problems = found.setdefault(index, [])
        if kind in (ResourceKind.TRANSACTION, ResourceKind.BATCH):
            problems.extend(_request_problems(raw, index))
        entry = with_resource.get(index)
        if entry is None:
            problems.append(
                Problem("required", "the entry has no resource", f"Bundle.entry[{index}].resource", "error")
            )
        else:
            problems.extend(r4_problems(entry.resource, at=f"Bundle.entry[{index}].resource"))
    return found


def _header(kind: ResourceKind, context: BundleContext) -> MessageInfo | None:
    if kind is not ResourceKind.MESSAGE:
        return None
    first = context.entries[0] if context.entries and context.entries[0].index == 0 else None
    if first is None or _type(first) != "MessageHeader":
        where = "Bundle.entry[0].resource"
        raise error_for([Problem("invalid", "a message Bundle must start with a MessageHeader", where, "error")])
    return message_info(first)


def _map_orders(
    orders: list[BundleEntry], context: BundleContext, found: dict[int, list[Problem]]
) -> dict[int, list[Command]]:
    commands: dict[int, list[Command]] = {}
    for entry in orders:
        if found.get(entry.index):
            continue
        mapped, problems = map_medication_request(
            entry.resource, scope=context.scope_of(entry), context=context, origin=_origin(context, entry)
        )
        commands[entry.index] = mapped
        found.setdefault(entry.index, []).extend(problems)
    for index, problem in _course_problems(orders):
        found.setdefault(index, []).append(problem)
    return commands


def bundle_commands(bundle: JsonObject) -> BundleResult:
    """Commands for a transaction, batch, message or document Bundle (see the module docstring)."""
    kind = classify(bundle, accept=BUNDLE_KINDS)
    bundle_problems = r4_problems(_shell(bundle), at="Bundle")
    if not bundle_problems and not _raw_entries(bundle):
        bundle_problems.append(Problem("required", "the Bundle has no entries", "Bundle.entry", "error"))
    if bundle_problems:
        raise error_for(bundle_problems)
    plain = BundleContext.of(bundle)
    info = _header(kind, plain)
    context = BundleContext.of(bundle, origin=info.source_endpoint if info else None)
    found = _entry_problems(kind, bundle, context)
    orders = _orders(kind, context, bundle_problems)
    commands = _map_orders(orders, context, found)
    everything = bundle_problems + [p for index in sorted(found) for p in found[index]]
    if everything and (kind is not ResourceKind.BATCH or bundle_problems):
        raise error_for(everything, control_id=(info.header_id or "") if info else "")
    entries = tuple(
        EntryResult(
            index=index,
            full_url=text(raw, "fullUrl"),
            resource_type=text(obj(raw, "resource"), "resourceType"),
            commands=tuple(commands.get(index, ())),
            problems=tuple(found.get(index, ())),
        )
        for index, raw in enumerate(_raw_entries(bundle))
    )
    return BundleResult(kind=kind, bundle_id=text(bundle, "id"), message=info, entries=entries)


def with_untaken(outcome: dict[str, Any], bundle: JsonObject) -> dict[str, Any]:
    """A refusal's OperationOutcome with a "not taken" issue at each MedicationRequest entry it does not name.

    An all-or-nothing Bundle refused for one entry keeps none of the others either: each says so at its own
    entry, so a sender never has to guess what became of an order its answer does not mention.
    """
    issues = outcome.get("issue")
    if not isinstance(issues, list):
        return outcome
    named = {int(m.group(1)) for issue in issues for where in issue.get("expression", ()) if (m := _ENTRY.match(where))}
    untaken = [
        Problem("informational", UNTAKEN, f"Bundle.entry[{index}].resource", "information")
        for index, raw in enumerate(_raw_entries(bundle))
        if index not in named and text(obj(raw, "resource"), "resourceType") == "MedicationRequest"
    ]
    if not untaken:
        return outcome
    return {**outcome, "issue": [*issues, *operation_outcome(untaken)["issue"]]}
