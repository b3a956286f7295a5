"""Request and response bodies of the staff API (pydantic at the HTTP boundary)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from hub.domain.claim import CashPrice, DurPps, valid_clarification_codes
from hub.domain.identifiers import Ndc11
from hub.domain.lots import LotNumber, StockQuantity
from hub.domain.order_parts import CoverageInfo, DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo, Setting
from hub.domain.partial_fill import PatientDesignation, RequestedBy, ShortStockChoice
from hub.domain.workflow_commands import ClaimAction


class Body(BaseModel):
    """Strict request bodies: unknown fields are a client bug worth a 422."""

    model_config = ConfigDict(extra="forbid")


class VerificationDecision(Body):
    """A pharmacist's approve or reject, with any DUR alerts overridden first."""

    approve: bool
    reason: str | None = None
    overrides: list[tuple[str, str]] = Field(default_factory=list, description="(alert id, why) pairs")


class CoverageCorrection(Body):
    """Insurance a technician corrects on a rejected claim (D.0 field lengths); empty fields stay as billed."""

    bin: str | None = Field(default=None, pattern=r"^\d{6}$", description="101-A1 BIN")
    pcn: str | None = Field(default=None, min_length=1, max_length=10, description="104-A4 PCN")
    group_id: str | None = Field(default=None, min_length=1, max_length=15, description="301-C1 group ID")
    cardholder_id: str | None = Field(default=None, min_length=1, max_length=20, description="302-C2 cardholder ID")
    person_code: str | None = Field(default=None, min_length=1, max_length=3, description="303-C3 person code")

    def coverage(self) -> CoverageInfo | None:
        """As the domain's coverage, or None when nothing was corrected."""
        fields = self.model_dump(exclude_none=True)
        return CoverageInfo(**fields) if fields else None


class ClaimResolution(Body):
    """How a technician resolves a rejected claim."""

    action: ClaimAction
    prior_auth_number: str | None = None
    dur_pps: DurPps | None = None
    cash_amount: CashPrice | None = None
    reason: str | None = None
    days_supply: int | None = Field(default=None, gt=0)
    #: NCPDP 420-DK submission clarification codes for the resubmission (e.g. 03 vacation supply, 04 lost Rx)
    clarification_codes: Annotated[tuple[str, ...], AfterValidator(valid_clarification_codes)] = ()
    #: corrected insurance for the resubmission (rejects 07 M/I cardholder, 41 submit to primary, 65 not covered)
    coverage: CoverageCorrection | None = None


class ProductChoice(Body):
    """The catalogue product chosen at intake, by its NDC as printed (4-4-2, 5-3-2, 5-4-1) or in 11 digits."""

    ndc: Ndc11


class Reason(Body):
    """A free-text reason (cancel, return to stock)."""

    reason: str = "not given"


class CompletionPortion(Body):
    """For a patient a pharmacist recorded as terminally ill or an LTCF patient (21 CFR 1306.13(b)): dispense this
    much of the rest now, a partial fill again; without it the whole rest is the completion."""

    portion: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=3)


class ClosingReason(Body):
    """Why a partial fill's rest will never be dispensed (the patient declined it, its deadline passed)."""

    reason: str = Field(min_length=1, max_length=200)


class ShortStockDecision(Body):
    """For a fill the shelf cannot cover: fill part now (the rest owed) or wait for stock, and why."""

    choice: ShortStockChoice
    reason: str = Field(min_length=1, max_length=200)
    #: who wanted less: the pharmacy (short of stock), the patient or the prescriber (21 CFR 1306.13 limits)
    requested_by: RequestedBy = RequestedBy.PHARMACY
    #: schedule II, licensed pharmacist only (21 CFR 1306.13(b)): the patient is "terminally ill" or an
    #: "LTCF patient", and the rest may follow within 60 days of the date written
    designation: PatientDesignation | None = None


class StockDelivery(Body):
    """A lot received into inventory."""

    ndc: Ndc11
    lot: LotNumber
    expiry: date
    quantity: StockQuantity


class VerbalCoverage(CoverageInfo):
    """The patient's insurance as read off the card over the telephone: a payer bills no claim without the BIN
    and the cardholder id."""

    bin: str = Field(pattern=r"^[0-9]{6}$")
    cardholder_id: str = Field(min_length=1, max_length=20)


class VerbalOrder(Body):
    """A verbal (telephone) order taken by a licensed pharmacist (recorded as taken by them, source verbal).

    A controlled substance (Schedule 2-5, as declared or as the catalogue knows the drug) needs the prescriber's
    DEA number (``prescriber.dea``); the pharmacist reads the order back and confirms it (``read_back_confirmed``).
    """

    placer_order_number: str | None = None
    patient: PatientInfo
    prescriber: PrescriberInfo
    drug: DrugInfo
    quantity: QuantityInfo
    days_supply: int | None = Field(default=None, gt=0)
    refills: int = Field(default=0, ge=0)
    sig: str
    substitution_allowed: bool = True
    written_date: date | None = None
    setting: Setting = Setting.OUTPATIENT
    #: none: billed to the patient's coverage on file, or cash
    coverage: VerbalCoverage | None = None
    #: the patient's other plans, billed after ``coverage`` in this order (secondary first)
    other_coverages: list[VerbalCoverage] = Field(default_factory=list, max_length=3)
    #: the order was read back to the prescriber, who confirmed it; refused (422) unless true
    read_back_confirmed: bool = False

    @field_validator("quantity")
    @classmethod
    def _something_to_dispense(cls, value: QuantityInfo) -> QuantityInfo:
        if value.value <= 0:
            raise ValueError("the quantity to dispense must be greater than zero")
        return value


class Accepted(BaseModel):
    """The command is durably queued; what became of it: ``GET /api/commands/{command_id}``."""

    status: Literal["accepted"] = "accepted"
    command_id: str
    command: str
    prescription_id: str | None = None


class CommandStatus(BaseModel):
    """What became of a command the API accepted: pending until a worker applied or refused it, or it was
    dead-lettered; ``reason`` says why it was refused or dead-lettered."""

    command_id: str
    command: str
    status: Literal["pending", "applied", "refused", "dead-lettered"]
    reason: str | None = None
    #: the prescription it acted on (a verbal order: the prescription it made, once applied)
    prescription_id: str | None = None
    rx_number: str | None = None
    at: datetime


class QueueItem(BaseModel):
    """One line of a work queue (no birth dates or addresses)."""

    prescription_id: str
    rx_number: str
    state: str
    setting: str
    patient: str
    drug: str | None
    quantity: str | None
    waiting_since: str
    detail: dict[str, Any] = Field(default_factory=dict)
