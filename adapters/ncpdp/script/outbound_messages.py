"""SCRIPT messages the hub sends a prescriber, built from its events (standards.md §3.1).

* ``prescription.cancelled`` caused by a CancelRx  -> CancelRxResponse Approved, relating to that CancelRx
* ``renewal.requested`` on a SCRIPT prescription   -> RxRenewalRequest to the prescriber who sent the NewRx
* ``order.refused`` of a NewRx answered Status 010  -> Error 900 (transaction rejected) relating to that
  NewRx, saying why: the pharmacy did not keep the order it had accepted

Pure functions: the responder looks up the stored requests and prescription and hands them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from adapters.ncpdp.script.answers import cancel_rx_response, error_response
from adapters.ncpdp.script.door_records import address_key, address_of
from adapters.ncpdp.script.message import ScriptHeader, read_message
from adapters.ncpdp.script.renewal_request import PharmacyIdentity, RenewalRequestInput, rx_renewal_request
from hub.domain.events import OrderRefused, PrescriptionCancelled, RenewalRequested
from hub.domain.order_parts import PatientInfo, QuantityInfo, Source
from hub.domain.prescription import Prescription
from hub.domain.states import RxState

CANCEL_RESPONSE = "CancelRxResponse"
RENEWAL_REQUEST = "RxRenewalRequest"
ERROR = "Error"
#: Error/Description is kept as short as Status/Description (an1..70)
_DESCRIPTION_MAX = 70


@dataclass(frozen=True)
class OutboundScript:
    """One SCRIPT message for a prescriber connector to deliver."""

    kind: str
    message_id: str
    #: the prescriber's address with qualifier ("D:123"), as the door keys senders
    to: str
    body: bytes


def cancel_approved(
    cancel_request: bytes, event: PrescriptionCancelled, *, message_id: str, now: datetime
) -> OutboundScript:
    """CancelRxResponse Approved for the stored CancelRx that cancelled the prescription."""
    request = read_message(cancel_request)
    body = cancel_rx_response(request, True, None, message_id=message_id, now=now, rx_number=event.rx_number)
    to = address_key(request.header.from_ or "", request.header.from_qualifier)
    return OutboundScript(CANCEL_RESPONSE, message_id, to, body)


def refusal_error(new_rx: ScriptHeader, event: OrderRefused, *, message_id: str, now: datetime) -> OutboundScript:
    """Error 900 to the prescriber whose NewRx (answered 010) intake then refused, relating to that NewRx."""
    short = f"refused: {event.code.replace('-', ' ')} {event.placer_order_number}"
    description = (event.reason if len(event.reason) <= _DESCRIPTION_MAX else short)[:_DESCRIPTION_MAX]
    body = error_response(new_rx, "900", None, description, message_id=message_id, now=now)
    return OutboundScript(ERROR, message_id, address_key(new_rx.from_ or "", new_rx.from_qualifier), body)


def renewal_request(
    event: RenewalRequested,
    rx: Prescription,
    new_rx: ScriptHeader | None,
    *,
    patient: PatientInfo | None,
    pharmacy: PharmacyIdentity,
    message_id: str,
    now: datetime,
) -> OutboundScript | None:
    """RxRenewalRequest to the prescriber; None when the order did not come by SCRIPT (no address to send to)."""
    prescriber = _prescriber_address(rx, new_rx)
    quantity = event.quantity or rx.quantity or _fill_quantity(rx)
    if prescriber is None or quantity is None:
        return None
    address, qualifier = prescriber
    if new_rx is not None and new_rx.to:
        # answer from the address the prescriber reached us at (the NewRx's To)
        pharmacy = pharmacy.model_copy(update={"ncpdp_id": new_rx.to})
    request = RenewalRequestInput(
        rx_number=event.rx_number,
        placer_order_number=event.placer_order_number,
        relates_to_message_id=new_rx.message_id if new_rx is not None else None,
        prescriber_address=address,
        prescriber_address_qualifier=qualifier or "D",
        prescriber=rx.prescriber,
        patient=patient or PatientInfo(family_name=rx.patient_name),
        drug=event.drug,
        quantity=quantity,
        days_supply=rx.days_supply,
        sig=rx.sig,
        written_date=rx.written_date,
        last_fill_date=_last_fill_date(rx),
        pharmacy=pharmacy,
    )
    body = rx_renewal_request(request, message_id=message_id, now=now)
    return OutboundScript(RENEWAL_REQUEST, message_id, address_key(address, qualifier), body)


def _prescriber_address(rx: Prescription, new_rx: ScriptHeader | None) -> tuple[str, str | None] | None:
    if new_rx is not None and new_rx.from_:
        return new_rx.from_, new_rx.from_qualifier
    return address_of(rx.placer_system) if rx.source == Source.SCRIPT else None


def _fill_quantity(rx: Prescription) -> QuantityInfo | None:
    quantity = rx.current_fill.quantity
    return QuantityInfo(value=quantity) if quantity is not None else None


def _last_fill_date(rx: Prescription) -> date | None:
    dispensed = [f.dispensed_at for f in rx.fills if f.state == RxState.DISPENSED and f.dispensed_at]
    return max(dispensed).date() if dispensed else None
