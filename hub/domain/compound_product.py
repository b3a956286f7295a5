"""The compound as the one product dispensed, and its ingredients' prices from the catalogue.

No shelf lot of a compound is picked and no ingredient's stock is decremented: the pharmacy's compounding
record, not the hub's shelf, says which lots went in. Ingredients may be missing from the catalogue; those it
knows lend their classes to DUR screening and their prices to the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from hub.domain.catalogue import Product
from hub.domain.compound import (
    CATALOGUE_UNITS,
    COMPOUND_PRODUCT_ID,
    Compound,
    CompoundDosageForm,
    IngredientIdKind,
)
from hub.domain.inventory import Allocation
from hub.domain.lots import Pick

_CENT = Decimal("0.01")
#: the lot a compound's fill records: it is made for this fill, from lots the compounding record names
COMPOUNDED_LOT = "COMPOUNDED"
_F = CompoundDosageForm
#: beyond-use days by form, after USP <795>'s defaults (solid 180, non-aqueous 90, aqueous unpreserved 14;
#: unverified against the chapter's text): the pharmacist may date it shorter, never the hub longer
_SOLID, _NON_AQUEOUS = {_F.CAPSULE, _F.TABLET, _F.POWDER, _F.LOZENGE}, {_F.OINTMENT, _F.SUPPOSITORY}


def compound_product(
    compound: Compound, lookup: Callable[[str], Product | None], quantity: Decimal | None = None
) -> Product:
    """The compound as the one product dispensed: classes and schedule from the ingredients the catalogue knows,
    a usual-and-customary price per unit from theirs (unknown ingredients add nothing)."""
    known = [p for i in compound.ingredients if i.id_kind is IngredientIdKind.NDC and (p := lookup(i.product_id))]
    names = [i.name for i in compound.ingredients if i.name]
    schedules = sorted(p.schedule for p in known if p.schedule)
    usual = ingredient_prices(compound, lookup, lambda p: p.unit_price or None)
    total = sum((c for c in usual if c is not None), Decimal("0"))
    return Product(
        ndc11=COMPOUND_PRODUCT_ID,
        ndc="00000-0000-00",
        name=compound.description or f"Compound {compound.dosage_form.value}",
        strength="",
        form=compound.dosage_form.value,
        schedule=schedules[0] if schedules else None,
        ingredients=tuple(dict.fromkeys([*names, *(x for p in known for x in p.ingredients)])),
        # the known ingredients' classes together: one shared "compound" class would flag any two compounds as
        # duplicate therapy; with none known, the composition itself, so only the same compound matches
        therapeutic_class=" + ".join(sorted({p.therapeutic_class for p in known})) or compound.describe(),
        allergy_classes=tuple(dict.fromkeys(c for p in known for c in p.allergy_classes)),
        package_size=Decimal("0"),
        unit=CATALOGUE_UNITS[compound.dispensing_unit],
        reorder_point=Decimal("0"),
        unit_price=(total / quantity) if quantity else Decimal("0"),
    )


def ingredient_prices(
    compound: Compound, lookup: Callable[[str], Product | None], unit_cost: Callable[[Product], Decimal | None]
) -> tuple[Decimal | None, ...]:
    """Each ingredient's cost (unit cost times its quantity, to the cent); None when the catalogue lacks it."""
    prices: list[Decimal | None] = []
    for ingredient in compound.ingredients:
        product = lookup(ingredient.product_id) if ingredient.id_kind is IngredientIdKind.NDC else None
        cost = unit_cost(product) if product else None
        prices.append(None if cost is None else (cost * ingredient.quantity).quantize(_CENT))
    return tuple(prices)


def is_compound(product: Product) -> bool:
    """The product is a compound made to order, not a package on the shelf."""
    return product.ndc11 == COMPOUND_PRODUCT_ID


def beyond_use_days(form: CompoundDosageForm) -> int:
    """How long a compound of this form keeps after it is made."""
    return 180 if form in _SOLID else 90 if form in _NON_AQUEOUS else 14


def compounded_allocation(quantity: Decimal, form: CompoundDosageForm, made_on: date) -> Allocation:
    """A compound's fill: the whole quantity made now, dated by its beyond-use days, nothing taken off a shelf."""
    pick = Pick(lot=COMPOUNDED_LOT, expiry=made_on + timedelta(days=beyond_use_days(form)), quantity=quantity)
    return Allocation(ndc=COMPOUND_PRODUCT_ID, requested=quantity, picks=(pick,), owed=Decimal("0"))
