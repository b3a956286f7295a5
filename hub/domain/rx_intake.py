"""Steps from receipt to data verification: receive, intake checks, DUR, product selection, routing."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from hub.domain.actors import Actor, require_pharmacist
from hub.domain.catalogue import Product
from hub.domain.claim import Claim, ClaimStatus
from hub.domain.commands import ReceivePrescription
from hub.domain.dur import ProfileEntry, screen
from hub.domain.events import Event, PrescriptionReceived
from hub.domain.fill import Fill
from hub.domain.intake import (
    IntakeContext,
    controlled_dea_finding,
    ndc_finding,
    needs_product_reason,
    prescriber_findings,
)
from hub.domain.order_context import demographics_of
from hub.domain.order_parts import Setting, Source
from hub.domain.parties import Patient, Prescriber
from hub.domain.patient_identity import identifiers_for_sender
from hub.domain.rx_claims import ClaimSteps
from hub.domain.states import Action, RxState
from hub.domain.validity import expiry_date, refills_allowed
from hub.errors import NotAuthorized


class IntakeSteps(ClaimSteps):
    """Receipt, intake checks and routing: product queue, claim, cash or straight to the pharmacist."""

    @classmethod
    def receive(
        cls,
        *,
        prescription_id: str,
        rx_number: str,
        command: ReceivePrescription,
        source: Source,
        patient: Patient,
        prescriber: Prescriber,
        actor: Actor,
        now: datetime,
        owner: str | None = None,
    ) -> tuple[Self, list[Event]]:
        """Record a new order as fill 0 in RECEIVED; a verbal order must be taken by a licensed pharmacist, the
        one it names as having taken it."""
        if source is Source.VERBAL:
            require_pharmacist(actor, "record a verbal order")
            if command.taken_by not in (None, actor.user_id):
                raise NotAuthorized(f"a verbal order taken by {command.taken_by} cannot be recorded by {actor.user_id}")
        written = command.written_date or now.date()
        rx = cls(
            prescription_id=prescription_id,
            rx_number=rx_number,
            placer_order_number=command.placer_order_number,
            placer_system=command.placer_system,
            owner=owner,
            source=source,
            setting=command.setting,
            patient_id=patient.patient_id,
            patient_name=patient.display_name,
            patient_identifiers=identifiers_for_sender(patient.info.identifiers, command.patient.identifiers),
            allergies=list(patient.allergies),
            patient_demographics=demographics_of(command.patient),
            location=command.location,
            prescriber_id=prescriber.prescriber_id,
            prescriber=command.prescriber,
            drug=command.drug,
            quantity=command.quantity,
            days_supply=command.days_supply,
            sig=command.sig,
            dosage=command.dosage,
            substitution_allowed=command.substitution_allowed,
            written_date=written,
            expires_on=expiry_date(written, command.drug.schedule),
            refills_authorized=command.refills,
            refills_remaining=refills_allowed(command.refills, command.drug.schedule),
            coverage=command.coverage,
            other_coverages=list(command.other_coverages),
            received_at=now,
            received_by=actor.user_id,
            verbal_taken_by=actor.user_id if source is Source.VERBAL else None,
            verbal_licence=actor.licence if source is Source.VERBAL else None,
            raw_message_ref=command.raw_message_ref,
            note=command.note,
            fills=[
                Fill(
                    fill_number=0,
                    created_at=now,
                    quantity=command.quantity.value if command.quantity else None,
                    days_supply=command.days_supply,
                )
            ],
        )
        return rx, [rx._received_event()]

    def intake(self, actor: Actor, now: datetime, context: IntakeContext) -> list[Event]:
        """Check identifiers, find the product by NDC, screen DUR, then bill, hold for a product or verify."""
        fill = self.current_fill
        self._require_state(fill, RxState.RECEIVED, "intake")
        if fill.fill_number == 0:
            findings = prescriber_findings(self.prescriber)
            findings += [f for f in (ndc_finding(self.drug),) if f]
            self._attach(findings, None)
        product = self.product or (context.catalogue.by_ndc(self.drug.ndc) if self.drug.ndc else None)
        if product is None:
            self._attach([f for f in (controlled_dea_finding(self.prescriber, self.drug.schedule),) if f], None)
            fill.needs_product_reason = needs_product_reason(self.drug)
            self._move(fill, Action.HOLD_FOR_PRODUCT, actor, now, fill.needs_product_reason)
            return []
        return self._proceed_with(product, actor, now, context)

    def select_product(self, actor: Actor, now: datetime, product: Product, context: IntakeContext) -> list[Event]:
        """The technician picked the package to dispense for an order that named none we could use."""
        fill = self.current_fill
        self._require_state(fill, RxState.NEEDS_PRODUCT, "select a product for")
        fill.needs_product_reason = None
        return self._proceed_with(product, actor, now, context)

    def _proceed_with(self, product: Product, actor: Actor, now: datetime, context: IntakeContext) -> list[Event]:
        fill = self.current_fill
        self._use_product(product)
        if fill.fill_number == 0:
            self._attach([f for f in (controlled_dea_finding(self.prescriber, product.schedule),) if f], None)
        profile = [*context.profile, *self._own_history(product)]
        findings = screen(product, self.rx_number, self.allergies, profile, context.interactions, now.date())
        self._attach(findings, fill.fill_number)
        if self.setting is Setting.INPATIENT:
            self._move(fill, Action.SKIP_CLAIM, actor, now)
            return []
        coverage = context.coverage or self.coverage
        if coverage is None or not coverage.bin:
            self._move(fill, Action.BILL_CASH, actor, now, "no coverage on file")
            fill.claim = Claim(status=ClaimStatus.CASH, amount_requested=self._price(), submitted_at=now)
            return []
        if context.other_coverages is not None:  # the patient's plans on file replace the order's
            self.other_coverages = list(context.other_coverages)
        self._move(fill, Action.SUBMIT_CLAIM, actor, now)
        fill.claim = self._new_claim(coverage, now, 1)
        return [self._claim_submitted(fill)]

    def _use_product(self, product: Product) -> None:
        if self.product == product:
            return
        self.product = product
        self.fills[-1].ndc = product.ndc11
        self.expires_on = expiry_date(self.written_date, product.schedule)
        allowed = refills_allowed(self.refills_authorized, product.schedule)
        self.refills_remaining = min(self.refills_remaining, allowed)

    def _own_history(self, product: Product) -> list[ProfileEntry]:
        last = self._last_dispensed()
        if last is None or last.filled_at is None:
            return []
        return [ProfileEntry.of(product, self.rx_number, last.filled_at.date(), last.days_supply)]

    def _received_event(self) -> PrescriptionReceived:
        return PrescriptionReceived(
            prescription_id=self.prescription_id,
            rx_number=self.rx_number,
            placer_order_number=self.placer_order_number,
            placer_system=self.placer_system,
            source=self.source.value,
            drug=self.drug,
            quantity=self.quantity,
            days_supply=self.days_supply,
            refills=self.refills_authorized,
            setting=self.setting,
            state=self.state.value,
            patient_identifiers=tuple(self.patient_identifiers),
        )
