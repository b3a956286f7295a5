"""NewRx -> ReceivePrescription (standards.md §3.2).

Placer order number rule: Header/PrescriberOrderNumber when sent; otherwise the NewRx's own MessageID.
transport.xsd makes MessageID unique per sender, and a prescriber system that sends no order number
can only refer back to this NewRx through RelatesToMessageID = that MessageID, which is exactly what
CancelRx falls back to, so both land on the same order.
"""

from __future__ import annotations

from adapters.ncpdp.script.administration import read_dosage, read_route
from adapters.ncpdp.script.codes import SUBSTITUTION_ALLOWED
from adapters.ncpdp.script.compound import read_compound
from adapters.ncpdp.script.cursor import Cursor, ProblemLog
from adapters.ncpdp.script.medication import read_drug, read_quantity
from adapters.ncpdp.script.message import ScriptMessage, placer_system
from adapters.ncpdp.script.parties import read_coverages, read_patient, read_prescriber
from adapters.ncpdp.script.values import count_of, date_of
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Source

#: datatypes: DaysSupply n1..3, NumberOfRefills n1..2
MAX_DAYS_SUPPLY = 999
MAX_REFILLS = 99


def new_rx_to_command(msg: ScriptMessage) -> ReceivePrescription:
    """Map a NewRx; every content problem is collected and raised as one MessageContentError (900)."""
    log = ProblemLog()
    rx = Cursor(msg.body, f"Message/Body/{msg.body.name}", log)
    patient = read_patient(rx.at("Patient").required(), rx.at("AllergyOrAdverseEvent"))
    prescriber = read_prescriber(rx.at("Prescriber").required())
    med = rx.at("MedicationPrescribed").required()
    drug = read_drug(med)
    route = read_route(med)
    dosage = read_dosage(med)
    quantity = read_quantity(med.at("Quantity").required())
    compound = read_compound(med, quantity.unit if quantity else None)
    refills = _refills(med)
    substitution_allowed = _substitution_allowed(med.at("Substitutions"))
    sig = med.at("Sig", "SigText").text() or med.at("Directions").text()
    if sig is None and med.present:
        log.add(f"{med.path}/Sig/SigText", "required element SigText is missing")
    days_supply = count_of(med.at("DaysSupply"), maximum=MAX_DAYS_SUPPLY)
    written = date_of(med.at("WrittenDate"))
    log.raise_if_any(f"{msg.kind} {msg.header.message_id} rejected", control_id=msg.header.message_id)
    if compound is not None:
        drug = drug.model_copy(update={"compound": compound})
    coverages = read_coverages(rx.all("BenefitsCoordination"))
    return ReceivePrescription(
        placer_order_number=msg.header.prescriber_order_number or msg.header.message_id,
        placer_system=placer_system(msg.header),
        patient=patient,
        prescriber=prescriber,
        drug=drug.model_copy(update={"route": route}) if route else drug,
        quantity=quantity,
        days_supply=days_supply,
        refills=refills or 0,
        sig=sig,
        dosage=dosage,
        substitution_allowed=substitution_allowed,
        written_date=written,
        coverage=coverages[0] if coverages else None,
        other_coverages=coverages[1:],
        raw_message_ref=f"{Source.SCRIPT.value}:{msg.header.message_id}",
        note=med.at("Note").text(),
    )


def _refills(med: Cursor) -> int | None:
    """NumberOfRefills (2017071) or Refills/Value (10.6); absent means none."""
    legacy = med.at("Refills")
    if legacy.present and not med.at("NumberOfRefills").present:
        if legacy.at("Qualifier").text() == "PRN":
            legacy.invalid("PRN (as needed) refills are not accepted; send a number of refills")
            return None
        return count_of(legacy.at("Value"), maximum=MAX_REFILLS)
    return count_of(med.at("NumberOfRefills"), maximum=MAX_REFILLS)


def _substitution_allowed(code: Cursor) -> bool:
    """Substitutions 0 (allowed / no product selection indicated) or 1 (prescriber forbids it)."""
    text = code.text()
    if text is None:
        return True
    if text not in SUBSTITUTION_ALLOWED:
        code.invalid(f"{text!r} is not a Substitutions code (0 allowed, 1 not allowed)")
        return True
    return SUBSTITUTION_ALLOWED[text]
