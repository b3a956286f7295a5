"""A compounded prescription: ingredients the pharmacy mixes into one dispensed product.

A compound has no package NDC of its own: it is billed with its ingredients listed and dispensed as one
product made to order (``compound_product``). These are the order's terms, free of any wire format.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.domain.identifiers import InvalidNdc, normalize_ndc

#: the most ingredients one compound may list (the D.0 compound segment's limit)
MAX_INGREDIENTS = 25
#: product id the hub gives a compound: it has no NDC, and claims carry its ingredients instead
COMPOUND_PRODUCT_ID = "00000000000"


class IngredientIdKind(StrEnum):
    """What kind of product id names an ingredient."""

    NDC = "ndc"
    UPC = "upc"
    HRI = "hri"


class CompoundDosageForm(StrEnum):
    """The final dosage form of a compound."""

    CAPSULE = "capsule"
    OINTMENT = "ointment"
    CREAM = "cream"
    SUPPOSITORY = "suppository"
    POWDER = "powder"
    EMULSION = "emulsion"
    LIQUID = "liquid"
    TABLET = "tablet"
    SOLUTION = "solution"
    SUSPENSION = "suspension"
    LOTION = "lotion"
    SHAMPOO = "shampoo"
    ELIXIR = "elixir"
    SYRUP = "syrup"
    LOZENGE = "lozenge"
    ENEMA = "enema"


class DispensingUnit(StrEnum):
    """The unit a compound is dispensed (and its quantity counted) in."""

    EACH = "each"
    GRAMS = "grams"
    MILLILITERS = "milliliters"


#: the catalogue's unit (NCPDP 600-28 style) for each dispensing unit
CATALOGUE_UNITS = {DispensingUnit.EACH: "EA", DispensingUnit.GRAMS: "GM", DispensingUnit.MILLILITERS: "ML"}


class _Frozen(BaseModel):
    # order_parts.Frozen's settings; order_parts imports this module, so it cannot be imported here
    model_config = ConfigDict(frozen=True, extra="forbid")


class CompoundIngredient(_Frozen):
    """One ingredient: its product id, the quantity of it that goes into the whole compound, and its unit."""

    product_id: str = Field(min_length=1, max_length=19)
    id_kind: IngredientIdKind = IngredientIdKind.NDC
    quantity: Decimal = Field(gt=0, max_digits=10, decimal_places=3)
    unit: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _ndc_as_ndc11(self) -> CompoundIngredient:
        if self.id_kind is IngredientIdKind.NDC:
            try:
                ndc11 = normalize_ndc(self.product_id)
            except InvalidNdc as exc:
                raise ValueError(f"ingredient {self.name or self.product_id}: {exc}") from exc
            object.__setattr__(self, "product_id", ndc11)
        return self

    def describe(self) -> str:
        """``lidocaine 2% (00000-0000-00) 30 g`` as a person reads it."""
        amount = f"{self.quantity.normalize():f}{f' {self.unit}' if self.unit else ''}"
        return f"{self.name or 'ingredient'} ({self.id_kind.value.upper()} {self.product_id}) {amount}"


class Compound(_Frozen):
    """What the prescriber asked the pharmacy to mix: two or more ingredients, a final form and its unit."""

    ingredients: tuple[CompoundIngredient, ...] = Field(min_length=2, max_length=MAX_INGREDIENTS)
    dosage_form: CompoundDosageForm
    dispensing_unit: DispensingUnit
    description: str | None = None

    def describe(self) -> str:
        """The ingredients on one line, for the technician, the pharmacist and the label's records."""
        return f"compound {self.dosage_form.value}: " + " + ".join(i.describe() for i in self.ingredients)
