"""Steps from receipt to data verification: receive, intake checks, DUR, product selection, routing."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from hub.domain.actors import Actor, require_pharmacist
from hub.domain.catalogue import Product
from hub.domain.claim import Claim, ClaimStatus
from hub.domain.commands import ReceivePrescription
from hub.domain.compound_product import compound_product
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
from hub.domain.rx_claims import ClaimLedger
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.states import Action, RxState
from hub.domain.validity import expiry_date, refills_allowed
from hub.errors import NotAuthorized

R = TypeVar("R", bound=PrescriptionRecord)


class Intake:
    """The intake part of a prescription: checks, product, DUR, then a claim, cash or the pharmacist."""

    def __init__(self, rx: PrescriptionRecord) -> None:
        self.rx = rx

    @staticmethod
    def receive(
        kind: type[R],
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
    ) -> tuple[R, list[Event]]:
        """Record a new order as fill 0 in RECEIVED; a verbal order must be taken by a licensed pharmacist, the
        one it names as having taken it."""
        if source is Source.VERBAL:
            require_pharmacist(actor, "record a verbal order")
            if command.taken_by not in (None, actor.user_id):
                raise NotAuthorized(f"a verbal order taken by {command.taken_by} cannot be recorded by {actor.user_id}")
        written = command.written_date or now.date()
        rx = kind(
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
        return rx, [Intake(rx)._received_event()]

    def intake(self, actor: Actor, now: datetime, context: IntakeContext) -> list[Event]:
        """Check identifiers, find the product by NDC, screen DUR, then bill, hold for a product or verify."""
        fill = self.rx.current_fill
        self.rx._require_state(fill, RxState.RECEIVED, "intake")
        if fill.fill_number == 0:
            findings = prescriber_findings(self.rx.prescriber)
            findings += [f for f in (ndc_finding(self.rx.drug),) if f]
            self.rx._attach(findings, None)
        product = self.rx.product or self._compound_product(context)
        product = product or (context.catalogue.by_ndc(self.rx.drug.ndc) if self.rx.drug.ndc else None)
        if product is None:
            self.rx._attach(
                [f for f in (controlled_dea_finding(self.rx.prescriber, self.rx.drug.schedule),) if f], None
            )
            fill.needs_product_reason = needs_product_reason(self.rx.drug)
            self.rx._move(fill, Action.HOLD_FOR_PRODUCT, actor, now, fill.needs_product_reason)
            return []
        return self._proceed_with(product, actor, now, context)

    def select_product(self, actor: Actor, now: datetime, product: Product, context: IntakeContext) -> list[Event]:
        """The technician picked the package to dispense for an order that named none we could use."""
        fill = self.rx.current_fill
        self.rx._require_state(fill, RxState.NEEDS_PRODUCT, "select a product for")
        fill.needs_product_reason = None
        return self._proceed_with(product, actor, now, context)

    def _proceed_with(self, product: Product, actor: Actor, now: datetime, context: IntakeContext) -> list[Event]:
        fill = self.rx.current_fill
        self._use_product(product)
        if fill.fill_number == 0:
            self.rx._attach([f for f in (controlled_dea_finding(self.rx.prescriber, product.schedule),) if f], None)
        profile = [*context.profile, *self._own_history(product)]
        findings = screen(product, self.rx.rx_number, self.rx.allergies, profile, context.interactions, now.date())
        self.rx._attach(findings, fill.fill_number)
        if self.rx.setting is Setting.INPATIENT:
            self.rx._move(fill, Action.SKIP_CLAIM, actor, now)
            return []
        coverage = context.coverage or self.rx.coverage
        if coverage is None or not coverage.bin:
            self.rx._move(fill, Action.BILL_CASH, actor, now, "no coverage on file")
            fill.claim = Claim(
                status=ClaimStatus.CASH, amount_requested=ClaimLedger(self.rx)._price(), submitted_at=now
            )
            return []
        if context.other_coverages is not None:  # the patient's plans on file replace the order's
            self.rx.other_coverages = list(context.other_coverages)
        self.rx._move(fill, Action.SUBMIT_CLAIM, actor, now)
        fill.claim = ClaimLedger(self.rx)._new_claim(coverage, now, 1)
        return [ClaimLedger(self.rx)._claim_submitted(fill)]

    def _compound_product(self, context: IntakeContext) -> Product | None:
        compound = self.rx.drug.compound
        if compound is None:
            return None
        return compound_product(compound, context.catalogue.by_ndc, self.rx._dispense_quantity())

    def _use_product(self, product: Product) -> None:
        if self.rx.product == product:
            return
        self.rx.product = product
        self.rx.fills[-1].ndc = product.ndc11
        self.rx.expires_on = expiry_date(self.rx.written_date, product.schedule)
        allowed = refills_allowed(self.rx.refills_authorized, product.schedule)
        self.rx.refills_remaining = min(self.rx.refills_remaining, allowed)

    def _own_history(self, product: Product) -> list[ProfileEntry]:
        last = self.rx._last_dispensed()
        if last is None or last.filled_at is None:
            return []
        return [ProfileEntry.of(product, self.rx.rx_number, last.filled_at.date(), last.days_supply)]

    def _received_event(self) -> PrescriptionReceived:
        return PrescriptionReceived(
            prescription_id=self.rx.prescription_id,
            rx_number=self.rx.rx_number,
            placer_order_number=self.rx.placer_order_number,
            placer_system=self.rx.placer_system,
            source=self.rx.source.value,
            drug=self.rx.drug,
            quantity=self.rx.quantity,
            days_supply=self.rx.days_supply,
            refills=self.rx.refills_authorized,
            setting=self.rx.setting,
            state=self.rx.state.value,
            patient_identifiers=tuple(self.rx.patient_identifiers),
        )
