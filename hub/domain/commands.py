"""Commands: imperative requests for the hub to do something; each has exactly one handler.

Commands are payloads only; ``hub.messaging.envelope`` wraps them with ids, source and time.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from hub.domain.claim import PayerDurAlert
from hub.domain.eligibility import CheckEligibility
from hub.domain.messages import Command as Command
from hub.domain.order_context import Dosage, PatientLocation
from hub.domain.order_parts import (
    CoverageInfo,
    DrugInfo,
    PatientInfo,
    PrescriberInfo,
    QuantityInfo,
    ReplyTo,
    Setting,
)
from hub.domain.partial_commands import ClosePartialFill, CompletePartialFill
from hub.domain.rebill_commands import RebillReturnedFill
from hub.domain.workflow_commands import (
    CancelByPharmacy,
    CheckClaimTimeout,
    CorrectPaidClaim,
    DecideShortStock,
    DispensePrescription,
    FillPrescription,
    ReceiveInventory,
    RecordVerification,
    RequestRefill,
    ResolveClaimRejection,
    ReturnToStock,
    SelectProduct,
    SendClaim,
)


class ReceivePrescription(Command):
    """A prescriber's new order, from any door (HL7 ORC-1=NW, FHIR, SCRIPT NewRx, verbal)."""

    name: ClassVar[str] = "ReceivePrescription"

    placer_order_number: str
    #: who assigned the placer number (HL7 MSH-3/4 or ORC-2.2, FHIR identifier system, SCRIPT From)
    placer_system: str | None = None
    patient: PatientInfo
    prescriber: PrescriberInfo
    drug: DrugInfo
    quantity: QuantityInfo | None = None
    days_supply: int | None = Field(default=None, ge=0)
    refills: int = Field(default=0, ge=0)
    sig: str | None = None
    #: amount, unit and frequency of one administration (HL7 RXE-3/5 and TQ1-3 / RXE-1)
    dosage: Dosage | None = None
    substitution_allowed: bool = True
    written_date: date | None = None
    setting: Setting = Setting.OUTPATIENT
    #: the inpatient's ward, room and bed (HL7 PV1-3)
    location: PatientLocation | None = None
    #: the primary coverage (the first payer billed)
    coverage: CoverageInfo | None = None
    #: the secondary, tertiary... coverages after ``coverage``, in the order they are billed (COB)
    other_coverages: tuple[CoverageInfo, ...] = ()
    #: reference to the stored raw message this order came from (``hl7:<id>``, ``fhir:<id>``...)
    raw_message_ref: str | None = None
    #: pharmacist who took a verbal order (source ``verbal`` only)
    taken_by: str | None = None
    #: the sender asked for an application acknowledgement once the order is processed (HL7 MSH-16)
    reply: ReplyTo | None = None
    note: str | None = None


class CancelPrescription(Command):
    """The prescriber cancels (HL7 CA) or discontinues (HL7 DC) an order; SCRIPT CancelRx; FHIR cancelled."""

    name: ClassVar[str] = "CancelPrescription"

    placer_order_number: str
    placer_system: str | None = None
    #: CA (not yet started) or DC (in progress), as the sender said it
    control: str = "CA"
    reason: str | None = None
    raw_message_ref: str | None = None


class RecordRenewalResponse(Command):
    """The prescriber answered a renewal (refill) request (SCRIPT RxRenewalResponse, HL7 AF/DF)."""

    name: ClassVar[str] = "RecordRenewalResponse"

    #: the pharmacy's Rx number the request was about (SCRIPT RxReferenceNumber), when echoed
    rx_number: str | None = None
    placer_order_number: str | None = None
    placer_system: str | None = None
    #: approved | approved_with_changes | denied | denied_new_rx_to_follow | replace
    decision: str
    refills_approved: int | None = Field(default=None, ge=0)
    #: MessageID of the RxRenewalRequest this answers (SCRIPT Header/RelatesToMessageID)
    relates_to_message_id: str | None = None
    reason: str | None = None
    raw_message_ref: str | None = None


class RecordClaimResponse(Command):
    """The payer answered a claim transaction (or did not, in time): applied by the claim worker."""

    name: ClassVar[str] = "RecordClaimResponse"

    exchange_id: str
    prescription_id: str
    fill_number: int
    attempt: int
    transaction: str
    #: NCPDP 112-AN (P, D, R, C, Q, A, S) or "timeout"
    status: str
    reject_codes: tuple[str, ...] = ()
    payer_message: str | None = None
    authorization_number: str | None = None
    total_paid: Decimal | None = None
    patient_pay: Decimal | None = None
    ingredient_cost_paid: Decimal | None = None
    dispensing_fee_paid: Decimal | None = None
    #: the payer's DUR/PPS findings (D.0 AM24) on a paid answer, for the pharmacist
    payer_dur: tuple[PayerDurAlert, ...] = ()


#: every command type by its wire name: what an envelope's ``type`` decodes to
COMMAND_TYPES: dict[str, type[Command]] = {
    c.name: c
    for c in (
        ReceivePrescription,
        CancelPrescription,
        RecordRenewalResponse,
        RecordClaimResponse,
        SelectProduct,
        SendClaim,
        CheckClaimTimeout,
        ResolveClaimRejection,
        CorrectPaidClaim,
        RecordVerification,
        FillPrescription,
        DispensePrescription,
        ReturnToStock,
        CancelByPharmacy,
        ReceiveInventory,
        RequestRefill,
        DecideShortStock,
        CheckEligibility,
        CompletePartialFill,
        RebillReturnedFill,
        ClosePartialFill,
    )
}
