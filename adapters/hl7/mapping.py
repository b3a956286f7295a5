"""HL7 v2 pharmacy orders (RDE^O11/O01, OMP^O09, ORM^O01) to hub commands: one command per ORDER group.

ORC-1 (table 0119) decides the command: NW -> ReceivePrescription; CA / DC -> CancelPrescription.  An empty
ORC-1 in a group that carries RXE or RXO is read as NW, as some order-entry systems send new orders that way;
any other code is not ours (103).  Every problem in the message is collected before one MessageContentError
is raised, so the sender can fix them all in one round (ACK AE with one ERR per problem).  Orders that are not
pharmacy orders (AR) or are IV admixtures (AE) are refused first (order_scope); groups that share ORC-2 are
one prescription each under an item identity (order_items).

Not mapped: days supply (v2 has no field for it; TQ1/ORC-7 durations are administration periods, not supply).
Insurance: only IN1 segments naming a BIN, in coordination-of-benefits order (insurance_fields); otherwise the
coverage comes from the pharmacy's profile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from adapters.hl7.administration_fields import read_dosage, read_location
from adapters.hl7.compound_fields import read_compound
from adapters.hl7.drug_fields import (
    order_detail,
    read_drug,
    read_note,
    read_quantity,
    read_refills,
    read_sig,
    read_substitution_allowed,
)
from adapters.hl7.field_values import read_date
from adapters.hl7.insurance_fields import read_coverages
from adapters.hl7.message_model import Hl7Segment, ParsedHl7
from adapters.hl7.order_groups import CANCEL_CODES, NEW_ORDER, OrderGroup, split_orders
from adapters.hl7.order_items import placer_numbers
from adapters.hl7.order_scope import admixture_problems, refuse_other_orders
from adapters.hl7.party_fields import read_patient, read_prescriber
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import PatientInfo, Setting
from hub.errors import MessageContentError, Problem


def to_commands(msg: ParsedHl7) -> list[Command]:
    """One command per ORDER group, or MessageContentError listing every problem found."""
    problems: list[Problem] = []
    patient_cache: list[PatientInfo] = []

    def patient() -> PatientInfo:
        """PID is read once, and only when a new order needs it (a cancel does not)."""
        if not patient_cache:
            patient_cache.append(read_patient(msg, problems))
        return patient_cache[0]

    groups = split_orders(msg, problems)
    refuse_other_orders(groups, msg.header.control_id)
    problems += admixture_problems(groups)
    numbers = placer_numbers(groups, problems)
    commands = [
        cmd
        for group, number in zip(groups, numbers, strict=True)
        if (cmd := _command(msg, group, number, patient, problems))
    ]
    if problems:
        text = "; ".join(f"{p.location}: {p.text}" for p in problems)
        raise MessageContentError(text, problems, control_id=msg.header.control_id)
    return commands


def _command(
    msg: ParsedHl7, group: OrderGroup, number: str, patient: Callable[[], PatientInfo], problems: list[Problem]
) -> Command | None:
    orc = group.orc
    control = group.control
    if not number:
        problems.append(Problem("101", "ORC-2 placer order number is empty", orc.location(2)))
    if control in CANCEL_CODES:
        return _cancel(msg, group, number, control) if number else None
    detail = order_detail(group)
    if control not in (NEW_ORDER, ""):
        text = f"ORC-1 order control {control!r} is not one the hub accepts (NW, CA, DC)"
        problems.append(Problem("103", text, orc.location(1)))
    if detail is None:
        problems.append(Problem("100", "the ORDER group has neither RXE nor RXO", orc.location()))
    if detail is None or control not in (NEW_ORDER, ""):
        return None
    return _new_order(msg, group, number, detail, patient(), problems)


def _cancel(msg: ParsedHl7, group: OrderGroup, number: str, control: str) -> CancelPrescription:
    """A cancel names the order by ORC-2 (an item by its identity, order_items); ORC-16 says why."""
    orc = group.orc
    return CancelPrescription(
        placer_order_number=number,
        placer_system=_placer_system(msg, group),
        control=control,
        reason=orc.get(16, 2) or orc.get(16, 1) or None,
    )


def _new_order(
    msg: ParsedHl7,
    group: OrderGroup,
    number: str,
    detail: Hl7Segment,
    patient: PatientInfo,
    problems: list[Problem],
) -> ReceivePrescription | None:
    drug = read_drug(group, detail, problems)
    compound = read_compound(group, detail, problems)
    quantity = read_quantity(group, problems)
    refills = read_refills(group, problems)
    written = _written_date(group, problems)
    dosage = read_dosage(group, problems)
    if problems:  # the message will be refused as a whole; no point building this command
        return None
    coverages = read_coverages(msg)
    return ReceivePrescription(
        placer_order_number=number,
        placer_system=_placer_system(msg, group),
        patient=patient,
        prescriber=read_prescriber(group.orc, detail),
        drug=drug.model_copy(update={"compound": compound}) if compound else drug,
        quantity=quantity,
        refills=refills,
        sig=read_sig(group),
        dosage=dosage,
        substitution_allowed=read_substitution_allowed(group),
        written_date=written,
        setting=_setting(msg, group),
        location=read_location(msg),
        note=read_note(group),
        coverage=coverages[0] if coverages else None,
        other_coverages=coverages[1:],
    )


def _placer_system(msg: ParsedHl7, group: OrderGroup) -> str | None:
    """ORC-2.2 namespace; else the sender, MSH-3^MSH-4 (first components), so ids stay unique per sender."""
    namespace = group.orc.get(2, 2)
    if namespace:
        return namespace
    msh = msg.segments[0]
    sender = "^".join((msh.get(3), msh.get(4)))
    return sender if sender != "^" else None


def _written_date(group: OrderGroup, problems: list[Problem]) -> date | None:
    """RXE-32 original order date/time, else ORC-9 transaction date/time; the date part only."""
    rxe = group.first("RXE")
    if rxe is not None and rxe.get(32):
        return read_date(rxe.get(32), rxe.location(32), problems)
    return read_date(group.orc.get(9), group.orc.location(9), problems)


def _setting(msg: ParsedHl7, group: OrderGroup) -> Setting:
    """Inpatient when PV1-2 patient class or ORC-29 order type (table 0482) says I."""
    inpatient = msg.get("PV1", 2).upper() == "I" or group.orc.get(29).upper() == "I"
    return Setting.INPATIENT if inpatient else Setting.OUTPATIENT
