"""Prescription label content (standards §5.3: FD&C Act §503(b)(2), 21 CFR 1306.14/1306.24, states)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from hub.domain.catalogue import Product
from hub.domain.lots import Pick
from hub.domain.order_parts import Frozen
from hub.domain.validity import add_one_year

#: 21 CFR 290.5 caution for CII-CIV (standards §5.3, unverified)
FEDERAL_TRANSFER_CAUTION = (
    "Caution: Federal law prohibits the transfer of this drug to any person other than the patient "
    "for whom it was prescribed"
)
_TRANSFER_CAUTION_SCHEDULES = frozenset({"2", "3", "4"})


class PharmacyInfo(Frozen):
    """The dispensing pharmacy as the label names it."""

    name: str
    address: str
    phone: str


class Label(Frozen):
    """Everything printed on the vial label, fixed when the fill is done."""

    patient_name: str
    drug_name: str
    strength: str
    form: str
    ndc: str
    manufacturer: str
    quantity: Decimal
    unit: str
    directions: str
    prescriber_name: str
    rx_number: str
    fill_number: int
    fill_date: date
    refills_remaining: int
    pharmacy_name: str
    pharmacy_address: str
    pharmacy_phone: str
    discard_date: date
    lots: tuple[str, ...]
    auxiliary_warnings: tuple[str, ...] = ()
    #: controlled substances carry the date of the initial filling (21 CFR 1306.14, 1306.24)
    initial_fill_date: date | None = None

    @property
    def refills_text(self) -> str:
        """What the label says about refills."""
        return "No refills" if self.refills_remaining == 0 else f"{self.refills_remaining} refill(s) remaining"


class LabelFacts(Frozen):
    """The prescription facts a label needs, gathered by the aggregate."""

    patient_name: str
    prescriber_name: str
    rx_number: str
    fill_number: int
    directions: str
    refills_remaining: int
    initial_fill_date: date | None = None


def discard_date(fill_date: date, picks: Sequence[Pick]) -> date:
    """The earlier of the first lot expiry and one year after filling (beyond-use date)."""
    return min([add_one_year(fill_date), *(p.expiry for p in picks)])


def auxiliary_warnings(product: Product) -> tuple[str, ...]:
    """The product's warnings from the catalogue plus the federal transfer caution for CII-CIV."""
    warnings = list(product.auxiliary_warnings)
    if product.schedule in _TRANSFER_CAUTION_SCHEDULES:
        warnings.append(FEDERAL_TRANSFER_CAUTION)
    return tuple(warnings)


def build_label(
    facts: LabelFacts, product: Product, picks: Sequence[Pick], fill_date: date, pharmacy: PharmacyInfo
) -> Label:
    """The label for a fill of ``product`` from ``picks`` on ``fill_date``."""
    return Label(
        patient_name=facts.patient_name,
        drug_name=product.name,
        strength=product.strength,
        form=product.form,
        ndc=product.ndc_display,
        manufacturer=product.manufacturer,
        quantity=sum((p.quantity for p in picks), Decimal("0")),
        unit=product.unit,
        directions=facts.directions,
        prescriber_name=facts.prescriber_name,
        rx_number=facts.rx_number,
        fill_number=facts.fill_number,
        fill_date=fill_date,
        refills_remaining=facts.refills_remaining,
        pharmacy_name=pharmacy.name,
        pharmacy_address=pharmacy.address,
        pharmacy_phone=pharmacy.phone,
        discard_date=discard_date(fill_date, picks),
        lots=tuple(p.lot for p in picks),
        auxiliary_warnings=auxiliary_warnings(product),
        initial_fill_date=(facts.initial_fill_date or fill_date) if product.controlled else None,
    )
