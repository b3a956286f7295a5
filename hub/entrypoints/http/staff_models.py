"""Request and response bodies of the staff API (pydantic at the HTTP boundary)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.domain.claim import CashPrice, DurPps
from hub.domain.identifiers import Ndc11
from hub.domain.lots import LotNumber, StockQuantity
from hub.domain.order_parts import CoverageInfo, DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo, Setting


class Body(BaseModel):
    """Strict request bodies: unknown fields are a client bug worth a 422."""

    model_config = ConfigDict(extra="forbid")


class VerificationDecision(Body):
    """A pharmacist's approve or reject, with any DUR alerts overridden first."""

    approve: bool
    reason: str | None = None
    overrides: list[tuple[str, str]] = Field(default_factory=list, description="(alert id, why) pairs")


class ClaimResolution(Body):
    """How a technician resolves a rejected claim."""

    action: Literal["resubmit", "cash", "cancel"]
    prior_auth_number: str | None = None
    dur_pps: DurPps | None = None
    cash_amount: CashPrice | None = None
    reason: str | None = None
    days_supply: int | None = Field(default=None, gt=0)


class ProductChoice(Body):
    """The catalogue product chosen at intake."""

    ndc: str


class Reason(Body):
    """A free-text reason (cancel, return to stock)."""

    reason: str = "not given"


class StockDelivery(Body):
    """A lot received into inventory."""

    ndc: Ndc11
    lot: LotNumber
    expiry: date
    quantity: StockQuantity


class VerbalOrder(Body):
    """A verbal (telephone) order taken by a pharmacist."""

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
    coverage: CoverageInfo | None = None

    @field_validator("quantity")
    @classmethod
    def _something_to_dispense(cls, value: QuantityInfo) -> QuantityInfo:
        if value.value <= 0:
            raise ValueError("the quantity to dispense must be greater than zero")
        return value


class Accepted(BaseModel):
    """The command is durably queued; its effect shows on the prescription and as events."""

    status: Literal["accepted"] = "accepted"
    command_id: str
    command: str
    prescription_id: str | None = None


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
