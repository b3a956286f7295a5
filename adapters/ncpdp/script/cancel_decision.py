"""Whether a CancelRx can be answered at once, from the prescription as it stands (standards.md §3.1).

A CancelRx is answered with a CancelRxResponse. When the hub already knows the outcome it answers now
and publishes nothing:

* the current fill was dispensed: Denied; the patient has the medication, so the prescriber must act
  (the intake worker would otherwise close the prescription to further refills without telling anyone);
* the prescription is already closed (cancelled, or rejected by the pharmacist): Approved, nothing will
  be dispensed.

Otherwise (unknown yet, or still open) the cancel is published, answered Status 010, and the Approved
CancelRxResponse follows the ``prescription.cancelled`` event (``outbound_responder``).
"""

from __future__ import annotations

from datetime import datetime

from adapters.ncpdp.script.answers import cancel_rx_response
from adapters.ncpdp.script.message import ScriptMessage
from hub.domain.prescription import Prescription
from hub.domain.states import RxState

DISPENSED_REASON = "The prescription was already dispensed to the patient and cannot be cancelled."


def answer_now(msg: ScriptMessage, rx: Prescription | None, *, message_id: str, now: datetime) -> bytes | None:
    """The CancelRxResponse to send at once, or None when the cancel must go to the intake worker."""
    if rx is None:
        return None
    if rx.current_fill.state == RxState.DISPENSED:
        return cancel_rx_response(msg, False, DISPENSED_REASON, message_id=message_id, now=now, rx_number=rx.rx_number)
    if rx.closed_reason is not None:
        return cancel_rx_response(
            msg,
            True,
            None,
            message_id=message_id,
            now=now,
            rx_number=rx.rx_number,
            note=f"already closed: {rx.closed_reason}"[:210],
        )
    return None
