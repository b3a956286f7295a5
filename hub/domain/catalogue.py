"""The products the pharmacy can dispense, loaded from an editable data file (hub/data/drug-catalogue.json)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from hub.domain.identifiers import format_ndc11, ndc_or_none, normalize_ndc
from hub.domain.order_parts import Frozen
from hub.errors import DomainError


class CatalogueError(DomainError):
    """The catalogue data is inconsistent (duplicate NDC, unreadable NDC)."""


class Product(Frozen):
    """One dispensable package: an NDC-11 with what DUR, labels and reordering need to know about it."""

    ndc11: str
    #: the labeler's dashed form as printed on the package (4-4-2, 5-3-2 or 5-4-1)
    ndc: str
    #: RxNorm clinical drug (SCD) the package belongs to; many NDCs share one
    rxcui: str | None = None
    #: other RXCUIs that name this product (branded SBD, packs)
    rxcui_aliases: tuple[str, ...] = ()
    name: str
    strength: str
    form: str
    manufacturer: str = ""
    #: DEA schedule "2".."5" (CII..CV), None when not controlled
    schedule: str | None = None
    ingredients: tuple[str, ...] = ()
    #: used for duplicate-therapy screening
    therapeutic_class: str
    #: used for drug-allergy screening (e.g. penicillins for amoxicillin)
    allergy_classes: tuple[str, ...] = ()
    package_size: Decimal
    #: dispensing unit (NCPDP 600-28): EA, ML or GM
    unit: str = "EA"
    reorder_point: Decimal
    #: usual and customary price per unit, what a claim asks for
    unit_price: Decimal = Decimal("0")
    #: average wholesale price per unit, for payer sheets that price claims on AWP (423-DN 01)
    awp_unit_price: Decimal | None = None
    #: the pharmacy's acquisition cost per unit, for plans that price on acquisition cost (423-DN 05)
    acquisition_unit_cost: Decimal | None = None
    auxiliary_warnings: tuple[str, ...] = ()

    @field_validator("ndc11")
    @classmethod
    def _ndc11_digits(cls, value: str) -> str:
        return normalize_ndc(value)

    @field_validator("schedule")
    @classmethod
    def _known_schedule(cls, value: str | None) -> str | None:
        if value is not None and value not in {"2", "3", "4", "5"}:
            raise ValueError("DEA schedule must be null or one of 2, 3, 4, 5")
        return value

    @property
    def controlled(self) -> bool:
        """True for any DEA-scheduled product (CII-CV)."""
        return self.schedule is not None

    @property
    def display_name(self) -> str:
        """Name, strength and form as a label prints them."""
        return f"{self.name} {self.strength} {self.form}"

    @property
    def ndc_display(self) -> str:
        """The NDC-11 in 5-4-2 dashed form."""
        return format_ndc11(self.ndc11)


class CatalogueFile(Frozen):
    """The shape of hub/data/drug-catalogue.json."""

    products: tuple[Product, ...]
    notes: tuple[str, ...] = Field(default=(), alias="_notes")


class Catalogue:
    """Lookups by NDC-11, by RxNorm code and by text over a fixed set of products."""

    def __init__(self, products: Iterable[Product]) -> None:
        self._by_ndc: dict[str, Product] = {}
        self._by_rxcui: dict[str, list[Product]] = {}
        for product in products:
            if product.ndc11 in self._by_ndc:
                raise CatalogueError(f"NDC {product.ndc11} appears twice in the catalogue")
            self._by_ndc[product.ndc11] = product
            for code in (product.rxcui, *product.rxcui_aliases):
                if code:
                    self._by_rxcui.setdefault(code, []).append(product)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalogue:
        """Build from the parsed catalogue file; a malformed file raises ``pydantic.ValidationError``."""
        return cls(CatalogueFile.model_validate(data).products)

    @classmethod
    def from_json_text(cls, text: str) -> Catalogue:
        """Build from the catalogue file's text."""
        return cls.from_dict(json.loads(text))

    @property
    def products(self) -> list[Product]:
        """Every product, in file order."""
        return list(self._by_ndc.values())

    def by_ndc(self, ndc: str) -> Product | None:
        """The product with this NDC, in any form ``normalize_ndc`` reads; None when unknown or unreadable."""
        ndc11 = ndc_or_none(ndc)
        return self._by_ndc.get(ndc11) if ndc11 else None

    def by_rxcui(self, rxcui: str) -> list[Product]:
        """Every package of this RxNorm drug (NDC to RXCUI is many to one)."""
        return list(self._by_rxcui.get(rxcui.strip(), []))

    def search(self, text: str, limit: int = 10) -> list[Product]:
        """Products whose name, strength, form, ingredients, NDC or RXCUI contain every word of ``text``."""
        words = [w for w in text.lower().replace("/", " ").split() if w]
        if not words:
            return []
        hits = [p for p in self._by_ndc.values() if all(w in _haystack(p) for w in words)]
        return hits[:limit]


def _haystack(product: Product) -> str:
    parts = (
        product.name,
        product.strength,
        product.form,
        product.ndc,
        product.ndc11,
        product.rxcui or "",
        *product.rxcui_aliases,
        *product.ingredients,
    )
    return " ".join(parts).lower()
