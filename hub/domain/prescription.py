"""The prescription aggregate: every workflow step checks its rule, changes state and returns the events.

Steps take the actor and ``now`` explicitly (the domain reads no clock). A step that the transition
table does not allow raises ``IllegalTransition``; pharmacist-only steps raise ``NotAuthorized``.
State round-trips through ``model_dump(mode="json")`` / ``model_validate``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor, require_pharmacist
from hub.domain.alerts import Override
from hub.domain.commands import ReceivePrescription
from hub.domain.coordination import claim_to_reverse
from hub.domain.events import Event, OrderRefused, PrescriptionCancelled
from hub.domain.fill import Fill
from hub.domain.inventory import Allocation
from hub.domain.label import LabelFacts, PharmacyInfo, build_label
from hub.domain.order_context import pharmacist_of
from hub.domain.order_parts import Source
from hub.domain.partial_fill import DispensingStatus
from hub.domain.rx_completion import CompletionSteps
from hub.domain.rx_record import UnresolvedAlerts
from hub.domain.states import Action, RxState
from hub.domain.validity import RefillRefused
from hub.domain.workflow_events import (
    FillCompleted,
    FillRejected,
    FillVerified,
    InventoryReleased,
    PrescriptionDispensed,
    PrescriptionReady,
    PrescriptionRejected,
    PrescriptionReturned,
    PrescriptionVerified,
)
from hub.errors import DomainError, IllegalTransition, NotFound

#: ``OrderRefused.code`` of a new order under a placer number its sender already has an order under
DUPLICATE_ORDER = "duplicate-order"


class OutOfStock(DomainError):
    """Nothing of the product could be picked: the fill stays in the fill queue."""


class WrongProduct(DomainError):
    """The stock picked is not the NDC selected for the prescription (the scan must match)."""


class Prescription(CompletionSteps):
    """A prescription and its fills; see ``hub.domain.states`` for the transition tables."""

    def override_alert(self, actor: Actor, now: datetime, alert_id: str, reason: str) -> list[Event]:
        """A pharmacist documents why the fill may proceed despite an alert."""
        require_pharmacist(actor, "override a DUR alert")
        for index, alert in enumerate(self.alerts):
            if alert.alert_id == alert_id:
                override = Override(by=actor.user_id, licence=actor.licence, reason=reason, at=now)
                self.alerts[index] = alert.model_copy(update={"override": override})
                return []
        raise NotFound(f"Rx {self.rx_number} has no alert {alert_id}")

    def approve_data_verification(self, actor: Actor, now: datetime) -> list[Event]:
        """The pharmacist accepts the prescription and its DUR review; to the fill queue."""
        require_pharmacist(actor, "approve data verification")
        fill = self.current_fill
        relevant = self.alerts_for(fill)
        blocking = [a.alert_id for a in relevant if a.blocking]
        if blocking and fill.state is RxState.DATA_VERIFICATION:
            raise UnresolvedAlerts(blocking)
        self._move(fill, Action.APPROVE_DATA, actor, now)
        fill.data_verified_by = actor.user_id
        fill.data_verifier = pharmacist_of(actor.user_id, actor.name, actor.licence)
        overridden = tuple(a.alert_id for a in relevant if a.override is not None)
        return [
            PrescriptionVerified(
                **self._event_fields(fill),
                actor_id=actor.user_id,
                ndc=self._product_or_fail().ndc11,
                overridden_alerts=overridden,
            )
        ]

    def reject_data_verification(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """The pharmacist refuses the prescription; no fill of it will be made."""
        require_pharmacist(actor, "reject at data verification")
        fill = self.current_fill
        self._move(fill, Action.REJECT_DATA, actor, now, reason)
        fill.rejection_reason = reason
        self.closed_reason = f"rejected by pharmacist: {reason}"
        events: list[Event] = [PrescriptionRejected(**self._event_fields(fill), reason=reason, actor_id=actor.user_id)]
        return events + self._unwind(fill, now, reason)

    def complete_fill(self, actor: Actor, now: datetime, allocation: Allocation, pharmacy: PharmacyInfo) -> list[Event]:
        """Record the picked lots and print the label; a short pick someone chose leaves the rest owed."""
        fill = self.current_fill
        self._require_state(fill, RxState.FILLING, "complete the fill of")
        product = self._product_or_fail()
        if allocation.ndc != product.ndc11:
            raise WrongProduct(f"picked NDC {allocation.ndc}, Rx {self.rx_number} is for {product.ndc11}")
        if fill.quantity is not None and allocation.requested != fill.quantity:
            raise DomainError(f"allocation is for {allocation.requested}, the fill needs {fill.quantity}")
        if not allocation.picks:
            raise OutOfStock(f"no in-date stock of NDC {product.ndc11} for Rx {self.rx_number}")
        self.check_pick(allocation)
        self._move(fill, Action.COMPLETE_FILL, actor, now)
        fill.short_stock = None
        fill.picks, fill.owed = list(allocation.picks), fill.owed_after(allocation.allocated)
        fill.quantity_dispensed, fill.filled_at = allocation.allocated, now
        fill.label = build_label(self._label_facts(fill), product, allocation.picks, now.date(), pharmacy)
        return [
            FillCompleted(
                **self._event_fields(fill),
                actor_id=actor.user_id,
                ndc=product.ndc11,
                quantity=allocation.allocated,
                unit=product.unit,
                owed=fill.owed,
                picks=allocation.picks,
                discard_date=fill.label.discard_date,
            )
        ]

    def approve_product_verification(self, actor: Actor, now: datetime) -> list[Event]:
        """The pharmacist checked product, count and label: released to will-call or for delivery."""
        require_pharmacist(actor, "approve product verification")
        fill = self.current_fill
        self._move(fill, Action.APPROVE_PRODUCT, actor, now)
        fill.product_verified_by = actor.user_id
        fill.product_verifier = pharmacist_of(actor.user_id, actor.name, actor.licence)
        ndc = self._product_or_fail().ndc11
        return [
            FillVerified(**self._event_fields(fill), actor_id=actor.user_id, ndc=ndc),
            PrescriptionReady(
                **self._event_fields(fill),
                ndc=ndc,
                quantity=fill.quantity_dispensed or Decimal("0"),
                owed=fill.owed,
                patient_pay=fill.patient_pay,
            ),
        ]

    def reject_product_verification(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """The pharmacist found the wrong product, count or label: back to the fill queue, stock released."""
        require_pharmacist(actor, "reject at product verification")
        fill = self.current_fill
        self._move(fill, Action.REJECT_PRODUCT, actor, now, reason)
        events: list[Event] = [FillRejected(**self._event_fields(fill), actor_id=actor.user_id, reason=reason)]
        events += self._release_stock(fill)
        fill.picks, fill.owed, fill.label, fill.quantity_dispensed, fill.filled_at = (
            [],
            Decimal("0"),
            None,
            None,
            None,
        )
        return events

    def dispense(self, actor: Actor, now: datetime) -> list[Event]:
        """Picked up by the patient (retail) or delivered to the unit (inpatient)."""
        fill = self.current_fill
        self._move(fill, Action.DISPENSE, actor, now)
        fill.dispensed_at = now
        product = self._product_or_fail()
        return [
            PrescriptionDispensed(
                **self._event_fields(fill),
                actor_id=actor.user_id,
                ndc=product.ndc11,
                quantity=fill.quantity_dispensed or Decimal("0"),
                unit=product.unit,
                picks=tuple(fill.picks),
                owed=fill.owed,
                pharmacist_id=fill.product_verified_by,
                refills_remaining=self.refills_remaining,
                route=self.drug.route,
            )
        ]

    def return_to_stock(self, actor: Actor, now: datetime, reason: str = "not picked up") -> list[Event]:
        """Not picked up in time: stock back on the shelf and, if the claim was paid, a B2 reversal."""
        fill = self.current_fill
        self._move(fill, Action.RETURN_TO_STOCK, actor, now, reason)
        reversal = fill.claim_paid
        events: list[Event] = [
            PrescriptionReturned(
                **self._event_fields(fill),
                ndc=self._product_or_fail().ndc11,
                picks=tuple(fill.picks),
                reversal_required=reversal,
            )
        ]
        return events + self._unwind(fill, now, reason)

    def cancel(
        self, actor: Actor, now: datetime, reason: str | None = None, requested: str | None = None
    ) -> list[Event]:
        """Cancel the open fill and close the prescription; after a finished fill, stop further refills.

        ``requested`` is the placer's order control (CA or DC) when the prescriber asked for it.
        """
        if self.closed_reason is not None:
            raise IllegalTransition(f"closed ({self.closed_reason})", "cancel")
        fill = self.current_fill
        self.closed_reason = f"cancelled: {reason}" if reason else "cancelled"
        if not fill.active:
            return [self._cancelled_event(reason, fill.state, requested)]
        previous = self._move(fill, Action.CANCEL, actor, now, reason)
        return [self._cancelled_event(reason, previous, requested), *self._unwind(fill, now, reason or "cancelled")]

    def apply_renewal(self, decision: str, refills_approved: int | None, now: datetime) -> bool:
        """The prescriber's answer to a renewal request; an approval authorizes more fills of this Rx.

        Returns whether the prescription can be refilled again. A denial changes nothing: the patient needs
        a new prescription. Schedule II is never renewed this way (a new prescription is required).
        """
        if decision not in ("approved", "approved_with_changes") or self.schedule == "2":
            return False
        added = refills_approved if refills_approved is not None else self.refills_authorized or 1
        self.refills_authorized += added
        self.refills_remaining += added
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
                prescription_id=self.prescription_id,
                refusal_id=refusal_id,
                code=DUPLICATE_ORDER,
                reason=f"refused: duplicate order: placer number {held} is already held by Rx {self.rx_number}",
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
            raise RefillRefused(self.rx_number, reason)
        self.refills_remaining -= 1
        fill = Fill(
            fill_number=self.current_fill.fill_number + 1,
            created_at=now,
            quantity=self._dispense_quantity(),
            days_supply=self.days_supply,
            ndc=self.current_fill.ndc,
        )
        self.fills.append(fill)
        return fill

    def _refill_refusal(self, now: datetime) -> str | None:
        if self.closed_reason is not None:
            return f"prescription {self.closed_reason}"
        if self.current_fill.active:
            return "previous fill still in progress"
        if self.current_fill.completion_due:  # the rest is a completion (343-HD C), never a new fill
            return f"{self.current_fill.owed} of fill {self.current_fill.fill_number} still owed: complete it first"
        if now.date() > self.expires_on:
            return f"prescription expired on {self.expires_on.isoformat()}"
        if self.schedule == "2":
            return "Schedule II prescriptions cannot be refilled; a new prescription is needed"
        if self.refills_remaining <= 0:
            return "no refills remaining"
        return None

    def _unwind(self, fill: Fill, now: datetime, reason: str) -> list[Event]:
        """Undo what an unsold fill holds: reserved stock, a paid claim, the refill it used."""
        events = self._release_stock(fill)
        # outcome of a pending B1 is unknown: a B2 is how the pharmacy makes sure it is not paid; of two payers'
        # claims the last is reversed first (``hub.domain.coordination``)
        claim = claim_to_reverse(fill)
        if claim is not None:
            events.append(self._reversal_required(fill, claim, reason))
        # a completion (343-HD C) used no refill of its own: its partial fill did
        if (
            fill.fill_number > 0
            and self.closed_reason is None
            and fill.dispensing_status is not DispensingStatus.COMPLETION
        ):
            self.refills_remaining += 1
        return events

    def _release_stock(self, fill: Fill) -> list[Event]:
        if not fill.picks:
            return []
        return [
            InventoryReleased(
                prescription_id=self.prescription_id,
                rx_number=self.rx_number,
                fill_number=fill.fill_number,
                ndc=fill.ndc or "",
                picks=tuple(fill.picks),
            )
        ]

    def _label_facts(self, fill: Fill) -> LabelFacts:
        first = self.fills[0].filled_at
        return LabelFacts(
            patient_name=self.patient_name,
            prescriber_name=" ".join(p for p in (self.prescriber.given_name, self.prescriber.family_name) if p),
            rx_number=self.rx_number,
            fill_number=fill.fill_number,
            directions=self.sig or "",
            refills_remaining=self.refills_remaining,
            initial_fill_date=first.date() if first and fill.fill_number > 0 else None,
        )

    def _cancelled_event(self, reason: str | None, previous: RxState, requested: str | None) -> PrescriptionCancelled:
        return PrescriptionCancelled(
            prescription_id=self.prescription_id,
            rx_number=self.rx_number,
            placer_order_number=self.placer_order_number,
            placer_system=self.placer_system,
            setting=self.setting,
            patient_identifiers=tuple(self.patient_identifiers),
            drug=self.drug,
            reason=reason,
            previous_state=previous.value,
            requested=requested,
        )
