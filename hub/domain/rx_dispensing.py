"""The dispensing part of a prescription: data verification, filling, product verification, hand-over, and
return to stock when it is not picked up.

Steps take the actor and ``now`` explicitly (the domain reads no clock). A step that the transition
table does not allow raises ``IllegalTransition``; pharmacist-only steps raise ``NotAuthorized``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hub.domain.actors import Actor, require_pharmacist
from hub.domain.alerts import Override
from hub.domain.compound_product import compounded_allocation, is_compound
from hub.domain.events import Event
from hub.domain.fill import Fill
from hub.domain.inventory import Allocation
from hub.domain.label import LabelFacts, PharmacyInfo, build_label
from hub.domain.order_context import pharmacist_of
from hub.domain.rx_lifecycle import Lifecycle
from hub.domain.rx_record import PrescriptionRecord, UnresolvedAlerts
from hub.domain.rx_short_stock import ShortStockPart
from hub.domain.states import Action, RxState
from hub.domain.workflow_events import (
    FillCompleted,
    FillRejected,
    FillVerified,
    PrescriptionDispensed,
    PrescriptionReady,
    PrescriptionRejected,
    PrescriptionReturned,
    PrescriptionVerified,
)
from hub.errors import DomainError, NotFound


class OutOfStock(DomainError):
    """Nothing of the product could be picked: the fill stays in the fill queue."""


class WrongProduct(DomainError):
    """The stock picked is not the NDC selected for the prescription (the scan must match)."""


class Dispensing:
    """The dispensing part of a prescription: verification, filling, hand-over, and what closes or renews it."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    def override_alert(self, actor: Actor, now: datetime, alert_id: str, reason: str) -> list[Event]:
        """A pharmacist documents why the fill may proceed despite an alert."""
        require_pharmacist(actor, "override a DUR alert")
        for index, alert in enumerate(self.rx.alerts):
            if alert.alert_id == alert_id:
                override = Override(by=actor.user_id, licence=actor.licence, reason=reason, at=now)
                self.rx.alerts[index] = alert.model_copy(update={"override": override})
                return []
        raise NotFound(f"Rx {self.rx.rx_number} has no alert {alert_id}")

    def approve_data_verification(self, actor: Actor, now: datetime) -> list[Event]:
        """The pharmacist accepts the prescription and its DUR review; to the fill queue."""
        require_pharmacist(actor, "approve data verification")
        fill = self.rx.current_fill
        relevant = self.rx.alerts_for(fill)
        blocking = [a.alert_id for a in relevant if a.blocking]
        if blocking and fill.state is RxState.DATA_VERIFICATION:
            raise UnresolvedAlerts(blocking)
        self.rx._move(fill, Action.APPROVE_DATA, actor, now)
        fill.data_verified_by = actor.user_id
        fill.data_verifier = pharmacist_of(actor.user_id, actor.name, actor.licence)
        overridden = tuple(a.alert_id for a in relevant if a.override is not None)
        return [
            PrescriptionVerified(
                **self.rx._event_fields(fill),
                actor_id=actor.user_id,
                ndc=self.rx._product_or_fail().ndc11,
                overridden_alerts=overridden,
            )
        ]

    def reject_data_verification(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """The pharmacist refuses the prescription; no fill of it will be made."""
        require_pharmacist(actor, "reject at data verification")
        fill = self.rx.current_fill
        self.rx._move(fill, Action.REJECT_DATA, actor, now, reason)
        fill.rejection_reason = reason
        self.rx.closed_reason = f"rejected by pharmacist: {reason}"
        events: list[Event] = [
            PrescriptionRejected(**self.rx._event_fields(fill), reason=reason, actor_id=actor.user_id)
        ]
        return events + Lifecycle(self.rx)._unwind(fill, now, reason)

    def complete_fill(self, actor: Actor, now: datetime, allocation: Allocation, pharmacy: PharmacyInfo) -> list[Event]:
        """Record the picked lots and print the label; a short pick someone chose leaves the rest owed."""
        fill = self.rx.current_fill
        self.rx._require_state(fill, RxState.FILLING, "complete the fill of")
        product = self.rx._product_or_fail()
        if is_compound(product) and self.rx.drug.compound and not allocation.picks:
            allocation = compounded_allocation(allocation.requested, self.rx.drug.compound.dosage_form, now.date())
        if allocation.ndc != product.ndc11:
            raise WrongProduct(f"picked NDC {allocation.ndc}, Rx {self.rx.rx_number} is for {product.ndc11}")
        if fill.quantity is not None and allocation.requested != fill.quantity:
            raise DomainError(f"allocation is for {allocation.requested}, the fill needs {fill.quantity}")
        if not allocation.picks:
            raise OutOfStock(f"no in-date stock of NDC {product.ndc11} for Rx {self.rx.rx_number}")
        ShortStockPart(self.rx).check_pick(allocation)
        self.rx._move(fill, Action.COMPLETE_FILL, actor, now)
        fill.short_stock = None
        fill.picks, fill.owed = list(allocation.picks), fill.owed_after(allocation.allocated)
        fill.quantity_dispensed, fill.filled_at = allocation.allocated, now
        fill.label = build_label(self._label_facts(fill), product, allocation.picks, now.date(), pharmacy)
        return [
            FillCompleted(
                **self.rx._event_fields(fill),
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
        fill = self.rx.current_fill
        self.rx._move(fill, Action.APPROVE_PRODUCT, actor, now)
        fill.product_verified_by = actor.user_id
        fill.product_verifier = pharmacist_of(actor.user_id, actor.name, actor.licence)
        ndc = self.rx._product_or_fail().ndc11
        return [
            FillVerified(**self.rx._event_fields(fill), actor_id=actor.user_id, ndc=ndc),
            PrescriptionReady(
                **self.rx._event_fields(fill),
                ndc=ndc,
                quantity=fill.quantity_dispensed or Decimal("0"),
                owed=fill.owed,
                patient_pay=fill.patient_pay,
            ),
        ]

    def reject_product_verification(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """The pharmacist found the wrong product, count or label: back to the fill queue, stock released."""
        require_pharmacist(actor, "reject at product verification")
        fill = self.rx.current_fill
        self.rx._move(fill, Action.REJECT_PRODUCT, actor, now, reason)
        events: list[Event] = [FillRejected(**self.rx._event_fields(fill), actor_id=actor.user_id, reason=reason)]
        events += Lifecycle(self.rx)._release_stock(fill)
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
        fill = self.rx.current_fill
        self.rx._move(fill, Action.DISPENSE, actor, now)
        fill.dispensed_at = now
        product = self.rx._product_or_fail()
        return [
            PrescriptionDispensed(
                **self.rx._event_fields(fill),
                actor_id=actor.user_id,
                ndc=product.ndc11,
                quantity=fill.quantity_dispensed or Decimal("0"),
                unit=product.unit,
                picks=tuple(fill.picks),
                owed=fill.owed,
                pharmacist_id=fill.product_verified_by,
                refills_remaining=self.rx.refills_remaining,
                route=self.rx.drug.route,
            )
        ]

    def return_to_stock(self, actor: Actor, now: datetime, reason: str = "not picked up") -> list[Event]:
        """Not picked up in time: stock back on the shelf and, if the claim was paid, a B2 reversal."""
        fill = self.rx.current_fill
        self.rx._move(fill, Action.RETURN_TO_STOCK, actor, now, reason)
        reversal = fill.claim_paid
        events: list[Event] = [
            PrescriptionReturned(
                **self.rx._event_fields(fill),
                ndc=self.rx._product_or_fail().ndc11,
                picks=tuple(fill.picks),
                reversal_required=reversal,
            )
        ]
        return events + Lifecycle(self.rx)._unwind(fill, now, reason)

    def _label_facts(self, fill: Fill) -> LabelFacts:
        first = self.rx.fills[0].filled_at
        return LabelFacts(
            patient_name=self.rx.patient_name,
            prescriber_name=" ".join(p for p in (self.rx.prescriber.given_name, self.rx.prescriber.family_name) if p),
            rx_number=self.rx.rx_number,
            fill_number=fill.fill_number,
            directions=self.rx.sig or "",
            refills_remaining=self.rx.refills_remaining,
            initial_fill_date=first.date() if first and fill.fill_number > 0 else None,
        )
