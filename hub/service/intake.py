"""Intake: record a new order (or its cancellation) and announce it.

This is the foundation's intake step; the pharmacy workflow builds its checks on the same handlers.
"""

from __future__ import annotations

import logging
import uuid

from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.events import PrescriptionCancelled, PrescriptionReceived
from hub.errors import TransientError
from hub.messaging.envelope import Envelope
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.unit_of_work import UnitOfWork
from hub.service.bus import CommandHandler

log = logging.getLogger(__name__)

FINAL_STATES = {"CANCELLED", "DISPENSED", "RETURNED_TO_STOCK", "REJECTED"}


def receive_prescription(command: Command, envelope: Envelope, uow: UnitOfWork) -> None:
    """Record the order once per correlation id and publish ``prescription.received``."""
    assert isinstance(command, ReceivePrescription)
    repo = PrescriptionRepository(uow.conn)
    if repo.by_correlation(str(envelope.correlation_id)) is not None:
        log.info("order already recorded", extra={"correlation_id": str(envelope.correlation_id)})
        return
    row = PrescriptionRow(
        id=str(uuid.uuid4()), correlation_id=str(envelope.correlation_id), rx_number=repo.next_rx_number(),
        placer_order_number=command.placer_order_number, placer_system=command.placer_system,
        source=envelope.source.value, state="RECEIVED", setting=command.setting.value,
        document={"order": command.model_dump(mode="json")}, version=1,
    )
    repo.add(row)
    uow.add_event(
        PrescriptionReceived(
            prescription_id=row.id, rx_number=row.rx_number, placer_order_number=row.placer_order_number,
            placer_system=row.placer_system, source=row.source, drug=command.drug, quantity=command.quantity,
            days_supply=command.days_supply, refills=command.refills, setting=command.setting,
            state=row.state,
        ),
        correlation_id=envelope.correlation_id,
    )


def cancel_prescription(command: Command, envelope: Envelope, uow: UnitOfWork) -> None:
    """Cancel the order; if its new-order message has not been applied yet, retry later."""
    assert isinstance(command, CancelPrescription)
    repo = PrescriptionRepository(uow.conn)
    row = repo.by_correlation(str(envelope.correlation_id))
    if row is None:
        raise TransientError(f"cancel for order {command.placer_order_number} arrived before the order")
    if row.state in FINAL_STATES:
        log.info("cancel ignored: order already %s", row.state, extra={"correlation_id": row.correlation_id})
        return
    previous = row.state
    row.state = "CANCELLED"
    repo.save(row)
    uow.add_event(
        PrescriptionCancelled(
            prescription_id=row.id, rx_number=row.rx_number, placer_order_number=row.placer_order_number,
            reason=command.reason, previous_state=previous,
        ),
        correlation_id=envelope.correlation_id,
    )


HANDLERS: dict[str, CommandHandler] = {
    ReceivePrescription.name: receive_prescription,
    CancelPrescription.name: cancel_prescription,
}
