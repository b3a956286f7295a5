"""A SCRIPT NewRx with CompoundInformation becomes a compound order with every ingredient; one the hub cannot
bill whole (an ingredient without an NDC or quantity, an unknown form or unit) is an Error 900 at its element."""

from __future__ import annotations

from decimal import Decimal

from adapters.ncpdp.script import read_message
from adapters.ncpdp.script.compound import read_compound
from adapters.ncpdp.script.cursor import Cursor, ProblemLog
from adapters.ncpdp.script.renewal_request import rx_renewal_request
from hub.domain.compound import CompoundDosageForm, DispensingUnit
from hub.domain.order_parts import DrugInfo, QuantityInfo
from tests.unit.ncpdp_script.compound_samples import (
    DEXAMETHASONE,
    MOUTHWASH,
    NIZATIDINE,
    UNKNOWN,
    compound_new_rx,
    ingredient,
)
from tests.unit.ncpdp_script.test_answers import NOW, renewal_input
from tests.unit.ncpdp_script.test_newrx import MED, new_rx, problems

INFO = f"{MED}/CompoundInformation"


def test_a_compound_newrx_carries_every_ingredient() -> None:
    rx = new_rx(compound_new_rx())
    compound = rx.drug.compound
    assert compound is not None
    assert (compound.dosage_form, compound.dispensing_unit) == (
        CompoundDosageForm.SUSPENSION,
        DispensingUnit.MILLILITERS,
    )
    assert compound.description == "Magic mouthwash" and rx.drug.ndc is None
    assert [(i.product_id, i.quantity, i.unit) for i in compound.ingredients] == [
        (DEXAMETHASONE, Decimal("6"), "tablet"),
        (NIZATIDINE, Decimal("120"), "mL"),
        (UNKNOWN, Decimal("120"), "mL"),
    ]
    assert compound.ingredients[2].name == "Lidocaine viscous 2%"
    assert rx.quantity is not None and rx.quantity.value == Decimal("240")


def test_an_ingredient_without_an_ndc_is_refused_not_dropped() -> None:
    found = problems(compound_new_rx(*MOUTHWASH[:2], ingredient(None, "Cherry syrup", "20")))
    assert list(found) == [f"{INFO}/CompoundIngredientsLotNotUsed/CompoundIngredient/ItemNumber"]
    assert "Cherry syrup needs an NDC" in next(iter(found.values()))


def test_other_compounds_the_hub_cannot_bill_are_refused_where_they_go_wrong() -> None:
    assert list(problems(compound_new_rx(form="C99999"))) == [f"{INFO}/FinalCompoundPharmaceuticalDosageForm"]
    assert list(problems(compound_new_rx(unit="C38046"))) == [f"{MED}/Quantity/QuantityUnitOfMeasure"]
    assert list(problems(compound_new_rx(MOUTHWASH[0]))) == [INFO]
    zero = ingredient(NIZATIDINE, "Nizatidine", "0")
    assert list(problems(compound_new_rx(MOUTHWASH[0], zero))) == [f"{INFO}/CompoundIngredientsLotNotUsed/Quantity"]


def test_a_renewal_request_for_a_compound_carries_its_ingredients_back() -> None:
    compound = new_rx(compound_new_rx()).drug.compound
    assert compound is not None
    drug = DrugInfo(text="Magic mouthwash", compound=compound)
    request = renewal_input(drug=drug, quantity=QuantityInfo(value=Decimal("240"), unit="mL"))
    msg = read_message(rx_renewal_request(request, message_id="HUB-RR-C1", now=NOW))
    dispensed = Cursor(msg.body, "RxRenewalRequest", log := ProblemLog()).at("MedicationDispensed")
    assert dispensed.at("CompoundInformation", "FinalCompoundPharmaceuticalDosageForm").text() == "C42994"
    assert read_compound(dispensed, "mL") == compound and log.problems == []
