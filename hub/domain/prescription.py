"""The prescription aggregate: one class, its steps carried out by the parts it is composed of.

``Prescription`` is the stored record (``rx_record.PrescriptionRecord``: fields, the fill state machine, what
every step shares) and the steps the workflow calls on it. Each step is done by the part that owns its rule:
``Intake`` (``rx_intake``), ``ClaimLedger`` (``rx_claims``), ``ShortStockPart`` (``rx_short_stock``),
``Completion`` (``rx_completion``), ``PartialClose`` (``rx_partial_close``), ``Dispensing`` (``rx_dispensing``)
and ``Lifecycle`` (``rx_lifecycle``). A part is made for one step and holds nothing but the prescription, so the
record stays the one state. Steps take the actor and ``now`` explicitly (the domain reads no clock), return the
events, and raise ``IllegalTransition`` where the transition table does not allow them. State round-trips through
``model_dump(mode="json")`` / ``model_validate``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self

from hub.domain.actors import Actor
from hub.domain.catalogue import Product
from hub.domain.claim import DurPps, PayerDurAlert
from hub.domain.commands import ReceivePrescription
from hub.domain.events import Event
from hub.domain.fill import Fill
from hub.domain.intake import IntakeContext
from hub.domain.inventory import Allocation
from hub.domain.label import PharmacyInfo
from hub.domain.order_parts import CoverageInfo, Source
from hub.domain.partial_fill import PatientDesignation, RequestedBy, ShortStockChoice
from hub.domain.parties import Patient, Prescriber
from hub.domain.rx_claims import ClaimLedger
from hub.domain.rx_completion import Completion
from hub.domain.rx_dispensing import Dispensing
from hub.domain.rx_dispensing import OutOfStock as OutOfStock
from hub.domain.rx_dispensing import WrongProduct as WrongProduct
from hub.domain.rx_intake import Intake
from hub.domain.rx_lifecycle import DUPLICATE_ORDER as DUPLICATE_ORDER
from hub.domain.rx_lifecycle import Lifecycle
from hub.domain.rx_partial_close import PartialClose
from hub.domain.rx_rebill import ReturnedFillRebill
from hub.domain.rx_record import PrescriptionRecord
from hub.domain.rx_short_stock import ShortStockPart


class Prescription(PrescriptionRecord):
    """A prescription and its fills; see ``hub.domain.states`` for the transition tables."""

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
        """Record a new order as fill 0 in RECEIVED."""
        return Intake.receive(
            cls,
            prescription_id=prescription_id,
            rx_number=rx_number,
            command=command,
            source=source,
            patient=patient,
            prescriber=prescriber,
            actor=actor,
            now=now,
            owner=owner,
        )

    def intake(self, actor: Actor, now: datetime, context: IntakeContext) -> list[Event]:
        """Check identifiers, find the product by NDC, screen DUR, then bill, hold for a product or verify."""
        return Intake(self).intake(actor, now, context)

    def select_product(self, actor: Actor, now: datetime, product: Product, context: IntakeContext) -> list[Event]:
        """The technician picked the package to dispense for an order that named none we could use."""
        return Intake(self).select_product(actor, now, product, context)

    def claim_paid(
        self,
        actor: Actor,
        now: datetime,
        *,
        total_paid: Decimal | None,
        patient_pay: Decimal | None,
        authorization_number: str | None = None,
        fill_number: int | None = None,
        payer_dur: tuple[PayerDurAlert, ...] = (),
        payer_message: str | None = None,
    ) -> list[Event]:
        """The payer paid (D.0 status P or D)."""
        closing = PartialClose(self)
        if closing.answers_closing_claim(fill_number):
            return closing.closing_claim_paid(now, fill_number, total_paid, patient_pay, authorization_number)
        return ClaimLedger(self).claim_paid(
            actor,
            now,
            total_paid=total_paid,
            patient_pay=patient_pay,
            authorization_number=authorization_number,
            fill_number=fill_number,
            payer_dur=payer_dur,
            payer_message=payer_message,
        )

    def claim_rejected(
        self,
        actor: Actor,
        now: datetime,
        *,
        reject_codes: list[str],
        payer_message: str | None = None,
        fill_number: int | None = None,
    ) -> list[Event]:
        """The payer rejected (D.0 status R)."""
        closing = PartialClose(self)
        if closing.answers_closing_claim(fill_number):
            return closing.closing_claim_rejected(now, fill_number, reject_codes, payer_message)
        return ClaimLedger(self).claim_rejected(
            actor, now, reject_codes=reject_codes, payer_message=payer_message, fill_number=fill_number
        )

    def claim_status_unknown(
        self, actor: Actor, now: datetime, *, code: str, payer_message: str, fill_number: int | None = None
    ) -> list[Event]:
        """No answer in time: the claim waits in the exception queue while the hub reverses it first."""
        closing = PartialClose(self)
        if closing.answers_closing_claim(fill_number):
            return closing.closing_claim_rejected(now, fill_number, [code], payer_message)
        return ClaimLedger(self).claim_status_unknown(
            actor, now, code=code, payer_message=payer_message, fill_number=fill_number
        )

    def unknown_claim_reversed(
        self, actor: Actor, now: datetime, *, fill_number: int, authorization_number: str | None = None
    ) -> list[Event]:
        """The payer approved the reversal the hub sent for a claim it did not answer."""
        return ClaimLedger(self).unknown_claim_reversed(
            actor, now, fill_number=fill_number, authorization_number=authorization_number
        )

    def resubmit_claim(
        self,
        actor: Actor,
        now: datetime,
        *,
        prior_auth_number: str | None = None,
        dur_pps: DurPps | None = None,
        coverage: CoverageInfo | None = None,
        clarification_codes: tuple[str, ...] = (),
    ) -> list[Event]:
        """Send the claim again after a reject."""
        return ClaimLedger(self).resubmit_claim(
            actor,
            now,
            prior_auth_number=prior_auth_number,
            dur_pps=dur_pps,
            coverage=coverage,
            clarification_codes=clarification_codes,
        )

    def bill_cash(self, actor: Actor, now: datetime, amount: Decimal | None = None) -> list[Event]:
        """Resolve a rejected claim by charging the patient."""
        return ClaimLedger(self).bill_cash(actor, now, amount)

    def claim_reversed(
        self,
        actor: Actor,
        now: datetime,
        *,
        fill_number: int,
        authorization_number: str | None = None,
        attempt: int | None = None,
    ) -> list[Event]:
        """The payer approved the B2 reversal that cancel, rejection, return to stock or closing a partial fill
        asked for; a closed partial fill's dispensed quantity is then billed whole."""
        reversed_ = ClaimLedger(self).claim_reversed(
            actor, now, fill_number=fill_number, authorization_number=authorization_number, attempt=attempt
        )
        return [*reversed_, *PartialClose(self).bill_dispensed(fill_number, now)]

    def rebill_claim(
        self,
        actor: Actor,
        now: datetime,
        *,
        coverage: CoverageInfo | None = None,
        clarification_codes: tuple[str, ...] = (),
    ) -> list[Event]:
        """A technician corrected a paid claim's data before filling."""
        return ClaimLedger(self).rebill_claim(actor, now, coverage=coverage, clarification_codes=clarification_codes)

    def claim_reversed_late(
        self, actor: Actor, now: datetime, *, fill_number: int, authorization_number: str | None = None
    ) -> list[Event]:
        """A reversal the payer approved late undid the fill's paid claim."""
        return ClaimLedger(self).claim_reversed_late(
            actor, now, fill_number=fill_number, authorization_number=authorization_number
        )

    def rebill_refusal(self, now: datetime, window_days: float) -> str | None:
        """Why the current fill may not be rebilled after its return-to-stock window, or None."""
        return ReturnedFillRebill(self).refusal(now, window_days)

    def rebill_returned(self, actor: Actor, now: datetime, window_days: float) -> list[Event]:
        """A fill returned to stock past its window, its reversal answered: billed again with a fresh B1."""
        return ReturnedFillRebill(self).rebill(actor, now, window_days)

    def note_short_stock(self, now: datetime, allocation: Allocation) -> list[Event]:
        """The shelf cannot cover the fill."""
        return ShortStockPart(self).note_short_stock(now, allocation)

    def decide_short_stock(
        self,
        actor: Actor,
        now: datetime,
        choice: ShortStockChoice,
        reason: str,
        requested_by: RequestedBy = RequestedBy.PHARMACY,
        designation: PatientDesignation | None = None,
    ) -> list[Event]:
        """A pharmacist or technician chooses a partial fill now or waiting for stock, and says why."""
        return ShortStockPart(self).decide_short_stock(actor, now, choice, reason, requested_by, designation)

    def awaits_choice(self, allocation: Allocation) -> bool:
        """True when this pick is short and needs a person's choice first."""
        return ShortStockPart(self).awaits_choice(allocation)

    def check_pick(self, allocation: Allocation) -> None:
        """Refuse a short pick nobody chose, and (schedule II) one above the quantity prescribed."""
        return ShortStockPart(self).check_pick(allocation)

    def completion_refusal(self, now: datetime, portion: Decimal | None = None) -> str | None:
        """Why the rest of the current fill (or a portion of it) cannot be dispensed now, or None when it can."""
        return Completion(self).completion_refusal(now, portion)

    def partial_facts(self, fill: Fill) -> dict[str, str | None] | None:
        """A partial fill's or completion's status, whole intended, rest owed and deadline, for work queues."""
        return Completion(self).partial_facts(fill)

    def start_completion(self, actor: Actor, now: datetime, portion: Decimal | None = None) -> list[Event]:
        """A pharmacist or technician starts dispensing the rest of the partial fill the patient picked up (or,
        for a 1306.13(b) patient, a portion of it)."""
        return Completion(self).start_completion(actor, now, portion)

    def close_refusal(self) -> str | None:
        """Why the current fill cannot be closed as a partial fill, or None when it can."""
        return PartialClose(self).close_refusal()

    def close_partial(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """A pharmacist or technician closes a picked-up partial fill whose rest will never be dispensed."""
        return PartialClose(self).close_partial(actor, now, reason)

    def override_alert(self, actor: Actor, now: datetime, alert_id: str, reason: str) -> list[Event]:
        """A pharmacist documents why the fill may proceed despite an alert."""
        return Dispensing(self).override_alert(actor, now, alert_id, reason)

    def approve_data_verification(self, actor: Actor, now: datetime) -> list[Event]:
        """The pharmacist accepts the prescription and its DUR review."""
        return Dispensing(self).approve_data_verification(actor, now)

    def reject_data_verification(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """The pharmacist refuses the prescription."""
        return Dispensing(self).reject_data_verification(actor, now, reason)

    def complete_fill(self, actor: Actor, now: datetime, allocation: Allocation, pharmacy: PharmacyInfo) -> list[Event]:
        """Record the picked lots and print the label."""
        return Dispensing(self).complete_fill(actor, now, allocation, pharmacy)

    def approve_product_verification(self, actor: Actor, now: datetime) -> list[Event]:
        """The pharmacist checked product, count and label."""
        return Dispensing(self).approve_product_verification(actor, now)

    def reject_product_verification(self, actor: Actor, now: datetime, reason: str) -> list[Event]:
        """The pharmacist found the wrong product, count or label."""
        return Dispensing(self).reject_product_verification(actor, now, reason)

    def dispense(self, actor: Actor, now: datetime) -> list[Event]:
        """Picked up by the patient (retail) or delivered to the unit (inpatient)."""
        return Dispensing(self).dispense(actor, now)

    def return_to_stock(self, actor: Actor, now: datetime, reason: str = "not picked up") -> list[Event]:
        """Not picked up in time."""
        return Dispensing(self).return_to_stock(actor, now, reason)

    def cancel(
        self, actor: Actor, now: datetime, reason: str | None = None, requested: str | None = None
    ) -> list[Event]:
        """Cancel the open fill and close the prescription."""
        return Lifecycle(self).cancel(actor, now, reason, requested)

    def apply_renewal(self, decision: str, refills_approved: int | None, now: datetime) -> bool:
        """The prescriber's answer to a renewal request."""
        return Lifecycle(self).apply_renewal(decision, refills_approved, now)

    def refuse_duplicate_order(
        self, command: ReceivePrescription, *, refusal_id: str, source: Source, owner: str | None
    ) -> list[Event]:
        """A second new order under this prescription's placer number."""
        return Lifecycle(self).refuse_duplicate_order(command, refusal_id=refusal_id, source=source, owner=owner)

    def request_refill(self, actor: Actor, now: datetime) -> Fill:
        """Start fill number + 1 in RECEIVED, using one refill."""
        return Lifecycle(self).request_refill(actor, now)
