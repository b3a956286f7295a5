"""The lifecycle part of a prescription: what closes it (cancel, and the undoing of an unsold fill) and what
adds to it (a renewal, a refill), and the refusal of a second order under its placer number."""

from __future__ import annotations

from datetime import datetime

from hub.domain.actors import Actor
from hub.domain.commands import ReceivePrescription
from hub.domain.coordination import claim_to_reverse
from hub.domain.events import Event, OrderRefused, PrescriptionCancelled
from hub.domain.fill import Fill
from hub.domain.order_parts import Source
from hub.domain.partial_fill import DispensingStatus
from hub.domain.rx_claims import ClaimLedger
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.states import Action, RxState
from hub.domain.validity import RefillRefused
from hub.domain.workflow_events import InventoryReleased
from hub.errors import IllegalTransition

#: ``OrderRefused.code`` of a new order under a placer number its sender already has an order under
DUPLICATE_ORDER = "duplicate-order"


class Lifecycle:
    """The lifecycle part of a prescription: cancel, renewal, refill, and what an unsold fill gives back."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def cancel(
        self, actor: Actor, now: datetime, reason: str | None = None, requested: str | None = None
    ) -> list[Event]:
        """Cancel the open fill and close the prescription; after a finished fill, stop further refills.

        ``requested`` is the placer's order control (CA or DC) when the prescriber asked for it.
        """
        if self.rx.closed_reason is not None:
            raise IllegalTransition(f"closed ({self.rx.closed_reason})", "cancel")
        fill = self.rx.current_fill
        self.rx.closed_reason = f"cancelled: {reason}" if reason else "cancelled"
        if not fill.active:
            return [self._cancelled_event(reason, fill.state, requested)]
        previous = self.rx._move(fill, Action.CANCEL, actor, now, reason)
        return [self._cancelled_event(reason, previous, requested), *self._unwind(fill, now, reason or "cancelled")]

    def apply_renewal(self, decision: str, refills_approved: int | None, now: datetime) -> bool:
        """The prescriber's answer to a renewal request; an approval authorizes more fills of this Rx.

        Returns whether the prescription can be refilled again. A denial changes nothing: the patient needs
        a new prescription. Schedule II is never renewed this way (a new prescription is required).
        """
        if decision not in ("approved", "approved_with_changes") or self.rx.schedule == "2":
            return False
        added = refills_approved if refills_approved is not None else self.rx.refills_authorized or 1
        self.rx.refills_authorized += added
        self.rx.refills_remaining += added
        return True

    def refuse_duplicate_order(
        self, command: ReceivePrescription, *, refusal_id: str, source: Source, owner: str | None
    ) -> list[Event]:
        """A second new order under this prescription's placer number: refused, this prescription untouched.

        The refusal is about the order that was not kept (never ``prescription.rejected``, which would tell
        the placer that the order it holds here was refused).
        """
        held = (
            f"{command.placer_system}|{command.placer_order_number}"
            if command.placer_system
            else command.placer_order_number
        )
        return [
            OrderRefused(
                prescription_id=self.rx.prescription_id,
                refusal_id=refusal_id,
                code=DUPLICATE_ORDER,
                reason=f"refused: duplicate order: placer number {held} is already held by Rx {self.rx.rx_number}",
                placer_order_number=command.placer_order_number,
                placer_system=command.placer_system,
                source=source.value,
                owner=owner,
                reply=command.reply,
                raw_message_ref=command.raw_message_ref,
                patient_identifiers=command.patient.identifiers,
                drug=command.drug,
                setting=command.setting,
            )
        ]

    def request_refill(self, actor: Actor, now: datetime) -> Fill:
        """Start fill number + 1 in RECEIVED, using one refill; ``RefillRefused`` says why not otherwise."""
        reason = self._refill_refusal(now)
        if reason is not None:
            raise RefillRefused(self.rx.rx_number, reason)
        self.rx.refills_remaining -= 1
        fill = Fill(
            fill_number=self.rx.current_fill.fill_number + 1,
            created_at=now,
            quantity=self.rx._dispense_quantity(),
            days_supply=self.rx.days_supply,
            ndc=self.rx.current_fill.ndc,
        )
        self.rx.fills.append(fill)
        return fill

    def _refill_refusal(self, now: datetime) -> str | None:
        if self.rx.closed_reason is not None:
            return f"prescription {self.rx.closed_reason}"
        if self.rx.current_fill.active:
            return "previous fill still in progress"
        if self.rx.current_fill.completion_due:  # the rest is a completion (343-HD C), never a new fill
            return (
                f"{self.rx.current_fill.owed} of fill {self.rx.current_fill.fill_number} still owed: complete it first"
            )
        if now.date() > self.rx.expires_on:
            return f"prescription expired on {self.rx.expires_on.isoformat()}"
        if self.rx.schedule == "2":
            return "Schedule II prescriptions cannot be refilled; a new prescription is needed"
        if self.rx.refills_remaining <= 0:
            return "no refills remaining"
        return None

    def _unwind(self, fill: Fill, now: datetime, reason: str) -> list[Event]:
        """Undo what an unsold fill holds: reserved stock, a paid claim, the refill it used."""
        events = self._release_stock(fill)
        # outcome of a pending B1 is unknown: a B2 is how the pharmacy makes sure it is not paid; of two payers'
        # claims the last is reversed first (``hub.domain.coordination``)
        claim = claim_to_reverse(fill)
        if claim is not None:
            events.append(ClaimLedger(self.rx)._reversal_required(fill, claim, reason))
        # a completion (343-HD C) used no refill of its own: its partial fill did
        if (
            fill.fill_number > 0
            and self.rx.closed_reason is None
            and fill.dispensing_status is not DispensingStatus.COMPLETION
        ):
            self.rx.refills_remaining += 1
        return events

    def _release_stock(self, fill: Fill) -> list[Event]:
        if not fill.picks:
            return []
        return [
            InventoryReleased(
                prescription_id=self.rx.prescription_id,
                rx_number=self.rx.rx_number,
                fill_number=fill.fill_number,
                ndc=fill.ndc or "",
                picks=tuple(fill.picks),
            )
        ]

    def _cancelled_event(self, reason: str | None, previous: RxState, requested: str | None) -> PrescriptionCancelled:
        return PrescriptionCancelled(
            prescription_id=self.rx.prescription_id,
            rx_number=self.rx.rx_number,
            placer_order_number=self.rx.placer_order_number,
            placer_system=self.rx.placer_system,
            setting=self.rx.setting,
            patient_identifiers=tuple(self.rx.patient_identifiers),
            drug=self.rx.drug,
            reason=reason,
            previous_state=previous.value,
            requested=requested,
        )
