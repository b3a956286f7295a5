"""CancelRx -> CancelPrescription and RxRenewalResponse -> RecordRenewalResponse.

Both refer to a prescription the hub already holds. Answering Status 010 takes responsibility for the
message (transport.xsd), so one that names no prescription at all is refused with Error 900 rather
than accepted and silently never applied: the prescriber must learn the cancel did not land.
"""

from __future__ import annotations

from adapters.ncpdp.script.codes import RENEWAL_DECISIONS
from adapters.ncpdp.script.cursor import Cursor, ProblemLog
from adapters.ncpdp.script.message import ScriptMessage, placer_system
from adapters.ncpdp.script.values import count_of
from adapters.ncpdp.script.xml_tree import XmlNode
from hub.domain.commands import CancelPrescription, RecordRenewalResponse
from hub.domain.order_parts import Source

_MAX_REFILLS = 99


def cancel_rx_to_command(msg: ScriptMessage) -> CancelPrescription:
    """Map a CancelRx; the order is Header/PrescriberOrderNumber, else RelatesToMessageID (the NewRx's id)."""
    header = msg.header
    placer = header.prescriber_order_number or header.relates_to_message_id
    if placer is None:
        log = ProblemLog()
        log.add(
            "Message/Header/PrescriberOrderNumber",
            "CancelRx names neither PrescriberOrderNumber nor RelatesToMessageID: no prescription to cancel",
        )
        log.raise_if_any(f"CancelRx {header.message_id} rejected", control_id=header.message_id)
    assert placer is not None
    return CancelPrescription(
        placer_order_number=placer,
        placer_system=placer_system(header),
        control="CA",
        reason=msg.body.text_at("MedicationPrescribed", "Note") or msg.body.text_at("Note"),
        raw_message_ref=f"{Source.SCRIPT.value}:{header.message_id}",
    )


def renewal_response_to_command(msg: ScriptMessage) -> RecordRenewalResponse:
    """Map an RxRenewalResponse (10.6 RefillResponse): decision, refills approved, reason, Rx number."""
    header = msg.header
    log = ProblemLog()
    response = Cursor(msg.body, f"Message/Body/{msg.body.name}", log).at("Response").required()
    choice = response.node.children[0] if response.node is not None and response.node.children else None
    decision = RENEWAL_DECISIONS.get(choice.name) if choice is not None else None
    if response.present and decision is None:
        response.invalid(f"Response must be one of {', '.join(RENEWAL_DECISIONS)}")
    if not (header.rx_reference_number or header.prescriber_order_number or header.relates_to_message_id):
        log.add(
            "Message/Header/RelatesToMessageID",
            "names no RxReferenceNumber, PrescriberOrderNumber or RelatesToMessageID: no renewal request to resolve",
        )
    refills = _refills_approved(Cursor(msg.body, f"Message/Body/{msg.body.name}", log))
    log.raise_if_any(f"{msg.kind} {header.message_id} rejected", control_id=header.message_id)
    assert decision is not None and choice is not None
    return RecordRenewalResponse(
        rx_number=header.rx_reference_number,
        placer_order_number=header.prescriber_order_number,
        placer_system=placer_system(header),
        decision=decision,
        refills_approved=None if decision.startswith("denied") else refills,
        reason=choice.text_at("DenialReason") or choice.text_at("Note") or _reason_codes(choice),
        raw_message_ref=f"{Source.SCRIPT.value}:{header.message_id}",
    )


def _refills_approved(renewal: Cursor) -> int | None:
    """Refills in the returned medication: MedicationResponse (2017071) or MedicationPrescribed."""
    for name in ("MedicationResponse", "MedicationPrescribed"):
        med = renewal.at(name)
        if med.at("NumberOfRefills").present:
            return count_of(med.at("NumberOfRefills"), maximum=_MAX_REFILLS)
        if med.at("Refills", "Value").present:
            return count_of(med.at("Refills", "Value"), maximum=_MAX_REFILLS)
    return None


def _reason_codes(choice: XmlNode) -> str | None:
    codes = [c.text for c in choice.children_named("ReasonCode", "DenialReasonCode") if c.text]
    return ", ".join(codes) or None
