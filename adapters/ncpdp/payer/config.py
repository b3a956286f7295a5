"""The simulated payer's plan: which BINs it answers, its formulary and prices, limits and failure knobs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import Field

from hub.domain.order_parts import Frozen


class DrugRule(Frozen):
    """How the plan treats one NDC-11."""

    name: str = ""
    covered: bool = True
    #: ingredient cost paid per unit dispensed (442-E7 quantity)
    unit_cost: Decimal = Field(default=Decimal("0"), ge=0)
    dispensing_fee: Decimal = Field(default=Decimal("0"), ge=0)
    copay: Decimal = Field(default=Decimal("0"), ge=0)
    #: reject 75 unless 462-EV prior authorization number is submitted
    prior_auth_required: bool = False
    #: reject 88 with this 439-E4 reason unless AM08 carries 440-E5 and 441-E6
    dur_reason: str | None = None
    dur_text: str = ""
    #: reject 92 every time, to exercise the hub's retries
    transient: bool = False
    #: the process wrapper never answers a claim for this NDC (the adjudicator ignores it)
    no_answer: bool = False
    max_quantity: Decimal | None = None
    max_days_supply: int | None = None


class PayerInteraction(Frozen):
    """A drug pair the plan's DUR flags on a paid claim (AM24): billing ``ndc`` while ``with_ndc`` is on file."""

    ndc: str
    with_ndc: str
    #: 439-E4 reason for service
    reason: str = "DD"
    #: 528-FS clinical significance: 1 major, 2 moderate, 3 minor
    clinical_significance: str = "1"
    text: str = ""


class OutsideFill(Frozen):
    """A fill the payer paid at another pharmacy, which the hub never saw (cardholder None: any member)."""

    ndc: str
    cardholder_id: str | None = None
    date_of_fill: date
    quantity: Decimal = Decimal("30")


class PlanLimits(Frozen):
    """Plan-wide limits (reject 76 when exceeded)."""

    max_quantity: Decimal = Decimal("9999")
    max_days_supply: int = 90


class PayerConfig(Frozen):
    """Everything the simulator decides by; loaded from ``hub/data/payer-sim.json``."""

    bins: tuple[str, ...]
    #: BINs whose host is "down": every claim rejects 92
    transient_bins: tuple[str, ...] = ()
    #: BINs of plans that only ever pay second: a claim must say (308-C8, AM05) what the payer before did
    secondary_bins: tuple[str, ...] = ()
    #: share of the previous fill's days supply that must elapse before a refill pays (reject 79)
    refill_threshold: Decimal = Field(default=Decimal("0.75"), gt=0, le=1)
    plan_limits: PlanLimits = PlanLimits()
    drugs: dict[str, DrugRule] = {}
    #: a compound (406-D6 = 2) is paid its covered ingredients at their unit costs, plus this fee, less this copay
    compound_dispensing_fee: Decimal = Field(default=Decimal("0"), ge=0)
    compound_copay: Decimal = Field(default=Decimal("0"), ge=0)
    #: for the process wrapper: answer after this many milliseconds
    delay_ms: int = Field(default=0, ge=0)
    #: for the process wrapper: silently drop every n-th request (0 = never)
    drop_every: int = Field(default=0, ge=0)
    help_desk_phone: str = ""
    #: drug pairs answered with a paid claim carrying an AM24 DUR finding
    interactions: tuple[PayerInteraction, ...] = ()
    outside_fills: tuple[OutsideFill, ...] = ()
    #: the plan's enrolled cardholder IDs; when given, any other 302-C2 rejects 07 (B1, B3 and E1)
    members: tuple[str, ...] = ()


def load_payer_config(path: Path) -> PayerConfig:
    """Read and validate the simulator's data file (raises pydantic's ValidationError when it is wrong)."""
    return PayerConfig.model_validate_json(path.read_text(encoding="utf-8"))
