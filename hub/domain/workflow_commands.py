"""Commands for the pharmacy's steps after intake: staff decisions through the API and the hub's own
follow-ups. The actor is the envelope's (the authenticated user's id); workers look its role up.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from hub.domain.claim import CashPrice, DurPps, valid_clarification_codes
from hub.domain.identifiers import Ndc11
from hub.domain.lots import LotNumber, StockQuantity
from hub.domain.messages import Command
from hub.domain.order_parts import CoverageInfo
from hub.domain.partial_fill import PatientDesignation, RequestedBy, ShortStockChoice

#: how a rejected claim is resolved: sent again, charged to the patient, or the prescription cancelled
ClaimAction = Literal["resubmit", "cash", "cancel"]


class SelectProduct(Command):
    """Technician picks the catalogue product for an order that named none we can dispense."""

    name: ClassVar[str] = "SelectProduct"
    prescription_id: str
    ndc: str


class SendClaim(Command):
    """Claim worker: encode and send the fill's claim (B1) or its reversal (B2) to the payer."""

    name: ClassVar[str] = "SendClaim"
    prescription_id: str
    fill_number: int
    attempt: int
    transaction: str = "B1"
    #: how many times a transient payer reject (92, 99, ...) has been retried for this attempt
    resend: int = 0


class CheckClaimTimeout(Command):
    """Comes back from the delay queue after the payer timeout: was the claim answered?"""

    name: ClassVar[str] = "CheckClaimTimeout"
    exchange_id: str
    prescription_id: str
    fill_number: int
    attempt: int


class ResolveClaimRejection(Command):
    """Technician (or pharmacist for DUR/PPS codes) resolves a rejected claim."""

    name: ClassVar[str] = "ResolveClaimRejection"
    prescription_id: str
    action: ClaimAction
    prior_auth_number: str | None = None
    dur_pps: DurPps | None = None
    #: dollars and cents the patient pays (none: the usual and customary price)
    cash_amount: CashPrice | None = None
    reason: str | None = None
    #: corrects a missing or wrong days supply (reject 19) before resubmitting
    days_supply: int | None = Field(default=None, gt=0)
    #: NCPDP 420-DK submission clarification codes sent with the resubmission (reject 79: 03 vacation, 04 lost)
    clarification_codes: Annotated[tuple[str, ...], AfterValidator(valid_clarification_codes)] = ()
    #: corrected BIN/PCN/group/cardholder/person code for the resubmission (rejects 07, 41, 65)
    coverage: CoverageInfo | None = None


class CorrectPaidClaim(Command):
    """A technician corrects a paid claim's insurance or clarification before filling: billed again as a B3."""

    name: ClassVar[str] = "CorrectPaidClaim"
    prescription_id: str
    #: corrected group, cardholder or person code (the BIN and PCN stay: a rebill goes to the payer that paid)
    coverage: CoverageInfo | None = None
    clarification_codes: Annotated[tuple[str, ...], AfterValidator(valid_clarification_codes)] = ()
    reason: str | None = None


class RecordVerification(Command):
    """A pharmacist's decision at data verification (DUR) or product verification."""

    name: ClassVar[str] = "RecordVerification"
    prescription_id: str
    #: data | product
    stage: str
    approve: bool
    reason: str | None = None
    #: (alert id, why) pairs the pharmacist overrides before approving
    overrides: tuple[tuple[str, str], ...] = ()


class FillPrescription(Command):
    """Fill worker: pick stock first-expiry-first-out, label, and hand over to product verification."""

    name: ClassVar[str] = "FillPrescription"
    prescription_id: str
    fill_number: int


class DispensePrescription(Command):
    """Picked up by the patient (retail) or delivered to the unit (inpatient)."""

    name: ClassVar[str] = "DispensePrescription"
    prescription_id: str


class ReturnToStock(Command):
    """Not picked up: back to the shelf and the claim reversed."""

    name: ClassVar[str] = "ReturnToStock"
    prescription_id: str
    reason: str = "not picked up"
    #: set by the return-to-stock sweeper: a fill no longer in will-call is left alone (sweeps repeat)
    fill_number: int | None = None


class DecideShortStock(Command):
    """A pharmacist or technician chooses, for a fill the shelf cannot cover, a partial fill now or waiting."""

    name: ClassVar[str] = "DecideShortStock"
    prescription_id: str
    fill_number: int
    choice: ShortStockChoice
    reason: str = Field(min_length=1, max_length=200)
    requested_by: RequestedBy = RequestedBy.PHARMACY
    #: 21 CFR 1306.13(b), a pharmacist's only: "terminally ill" or "LTCF patient"
    designation: PatientDesignation | None = None


class CancelByPharmacy(Command):
    """Staff cancel a prescription (the prescriber's cancel arrives as CancelPrescription)."""

    name: ClassVar[str] = "CancelByPharmacy"
    prescription_id: str
    reason: str


class ReceiveInventory(Command):
    """Stock arrived: a lot of one NDC."""

    name: ClassVar[str] = "ReceiveInventory"
    ndc: Ndc11
    lot: LotNumber
    expiry: date
    quantity: StockQuantity


class RequestRefill(Command):
    """The patient asks for a refill of a prescription."""

    name: ClassVar[str] = "RequestRefill"
    prescription_id: str
