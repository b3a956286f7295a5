"""The compound as the one product dispensed, and its ingredients' prices from the catalogue.

No shelf lot of a compound is picked and no ingredient's stock is decremented: the pharmacy's compounding
record, not the hub's shelf, says which lots went in. Ingredients may be missing from the catalogue; those it
knows lend their classes to DUR screening and their prices to the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hub.domain.catalogue import Product
from hub.domain.compound import CATALOGUE_UNITS, COMPOUND_PRODUCT_ID, Compound, IngredientIdKind

_CENT = Decimal("0.01")


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
        therapeutic_class="compound",
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
