"""The prescribed product and quantity: DrugDescription, DrugCoded (NDC, RxNorm, DEA schedule), Quantity.

Codes come as ``<ProductCode><Code/><Qualifier/></ProductCode>`` (2017071), as ``<ProductCode
Qualifier="ND">`` (some senders) or with a sibling ``ProductCodeQualifier`` (10.6); all three are read.
"""

from __future__ import annotations

from adapters.ncpdp.script.codes import (
    DEA_SCHEDULES,
    NDC_QUALIFIER,
    RXNORM_QUALIFIERS,
    UNSPECIFIED,
    quantity_unit,
)
from adapters.ncpdp.script.cursor import Cursor
from adapters.ncpdp.script.values import decimal_of
from adapters.ncpdp.script.xml_tree import XmlNode
from hub.domain.order_parts import Coding, DrugInfo, QuantityInfo


def read_drug(medication: Cursor) -> DrugInfo:
    """MedicationPrescribed's product: description, NDC, RxNorm, other codes, schedule, strength."""
    coded = medication.at("DrugCoded")
    node = coded.node or XmlNode(name="DrugCoded")
    products = _codes(node, "ProductCode", node.text_at("ProductCodeQualifier"))
    databases = _codes(node, "DrugDBCode", node.text_at("DrugDBCodeQualifier"))
    ndc = next((c for c in products if c.system == NDC_QUALIFIER), None)
    rxnorm = next((c for c in databases if c.system in RXNORM_QUALIFIERS), None)
    others = tuple(c for c in products + databases if c is not ndc and c is not rxnorm)
    return DrugInfo(
        ndc=ndc.code if ndc else None,
        rxnorm=rxnorm.code if rxnorm else None,
        text=medication.at("DrugDescription").required_text(),
        other_codes=others,
        schedule=_schedule(coded.at("DEASchedule")),
        strength=node.text_at("Strength", "StrengthValue"),
        form=node.text_at("Strength", "StrengthForm", "Code"),
    )


def read_quantity(quantity: Cursor) -> QuantityInfo | None:
    """Quantity/Value with its unit (QuantityUnitOfMeasure/Code in 2017071, PotencyUnitCode in 10.6)."""
    value = decimal_of(quantity.at("Value"))
    if value is None:
        return None
    code = quantity.at("QuantityUnitOfMeasure", "Code").text() or quantity.at("PotencyUnitCode").text()
    return QuantityInfo(value=value, unit=quantity_unit(code))


def _codes(coded: XmlNode, name: str, legacy_qualifier: str | None) -> tuple[Coding, ...]:
    found = []
    for node in coded.children_named(name):
        code = node.text_at("Code") or node.text
        qualifier = node.text_at("Qualifier") or node.attribute("Qualifier") or legacy_qualifier
        if code is not None:
            found.append(Coding(code=code, system=qualifier))
    return tuple(found)


def _schedule(schedule: Cursor) -> str | None:
    node = schedule.node
    if node is None:
        return None
    code = node.text_at("Code") or node.text
    if code is None or code == UNSPECIFIED:
        return None
    if code not in DEA_SCHEDULES:
        # the schedule decides refill and transfer law (21 CFR 1306), so a guess is worse than a reject
        schedule.invalid(f"{code!r} is not an NCI DEA schedule code (C48672, C48675..C48677, C48679)")
        return None
    return DEA_SCHEDULES[code]
