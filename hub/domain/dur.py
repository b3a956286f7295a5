"""Automated prospective DUR: drug-allergy, duplicate therapy, drug-drug interaction and early refill.

The rules are data (hub/data/interactions.json) so a pharmacy can extend them; screening only produces
findings for the pharmacist, it never refuses an order on its own (standards §5.1 DATA_VERIFICATION).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import Field

from hub.domain.alerts import AlertKind, Finding, Severity
from hub.domain.catalogue import Product
from hub.domain.order_parts import Allergy, Frozen


class Interaction(Frozen):
    """Two ingredients or classes that should not be combined without a pharmacist's review."""

    a: str
    b: str
    severity: Severity
    text: str


class CrossSensitivity(Frozen):
    """An allergy class that warns on a related drug class (e.g. penicillin allergy and cephalosporins)."""

    allergy_class: str
    drug_class: str
    severity: Severity = Severity.MODERATE
    text: str


class InteractionTable(Frozen):
    """The shape of hub/data/interactions.json."""

    notes: tuple[str, ...] = Field(default=(), alias="_notes")
    #: allergy class -> words that, found in an allergy's text, put the patient in that class
    allergy_classes: dict[str, tuple[str, ...]] = {}
    cross_sensitivities: tuple[CrossSensitivity, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    #: fraction of the previous days supply that must have elapsed before a refill is on time; at most 1 (a
    #: refill is never early once the supply has run out, which is what lets the profile skip run-out supplies)
    early_refill_threshold: Decimal = Field(default=Decimal("0.75"), gt=0, le=1)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InteractionTable:
        """Build from the parsed interactions file."""
        return cls.model_validate(data)

    @classmethod
    def from_json_text(cls, text: str) -> InteractionTable:
        """Build from the interactions file's text."""
        return cls.from_dict(json.loads(text))

    def classes_of_allergy(self, allergy: Allergy) -> set[str]:
        """The allergy classes an allergy's text names (matched by keyword, case-insensitive)."""
        text = allergy.text.casefold()
        return {name for name, words in self.allergy_classes.items() if any(w in text for w in words)}


class ProfileEntry(Frozen):
    """One medication on the patient's profile, as screening needs it (no names, no I/O)."""

    rx_number: str
    ndc11: str
    ingredients: tuple[str, ...]
    therapeutic_class: str
    allergy_classes: tuple[str, ...] = ()
    last_fill_date: date | None = None
    days_supply: int | None = None
    #: in progress, or dispensed and its supply not yet used up
    active: bool = True

    @classmethod
    def of(
        cls,
        product: Product,
        rx_number: str,
        last_fill_date: date | None = None,
        days_supply: int | None = None,
        active: bool = True,
    ) -> ProfileEntry:
        """The profile entry for a prescription of ``product``."""
        return cls(
            rx_number=rx_number,
            ndc11=product.ndc11,
            ingredients=product.ingredients,
            therapeutic_class=product.therapeutic_class,
            allergy_classes=product.allergy_classes,
            last_fill_date=last_fill_date,
            days_supply=days_supply,
            active=active,
        )

    @property
    def terms(self) -> set[str]:
        """Ingredients and classes, the vocabulary interaction rules are written in."""
        return {*self.ingredients, self.therapeutic_class, *self.allergy_classes}


def screen(
    product: Product,
    rx_number: str,
    allergies: Iterable[Allergy],
    profile: Sequence[ProfileEntry],
    table: InteractionTable,
    today: date,
) -> list[Finding]:
    """Every DUR finding for dispensing ``product`` under ``rx_number`` today."""
    new = ProfileEntry.of(product, rx_number)
    others = [e for e in profile if e.active and e.rx_number != rx_number]
    return [
        *allergy_findings(product, allergies, table),
        *duplicate_findings(new, others),
        *interaction_findings(new, others, table),
        *early_refill_findings(new, profile, table, today),
    ]


def allergy_findings(product: Product, allergies: Iterable[Allergy], table: InteractionTable) -> list[Finding]:
    """Drug-allergy: the product is in a class, or contains an ingredient, the patient is allergic to."""
    findings: list[Finding] = []
    for allergy in allergies:
        classes = table.classes_of_allergy(allergy)
        named = {i for i in product.ingredients if i.casefold() in allergy.text.casefold()}
        hit = (classes & set(product.allergy_classes)) | named
        if hit:
            findings.append(
                _finding(
                    AlertKind.DRUG_ALLERGY,
                    Severity.HIGH,
                    f"{product.display_name}: patient allergy '{allergy.text}' ({', '.join(sorted(hit))})",
                )
            )
        for cross in table.cross_sensitivities:
            if cross.allergy_class in classes and cross.drug_class in product.allergy_classes and not hit:
                findings.append(_finding(AlertKind.DRUG_ALLERGY, cross.severity, cross.text))
    return findings


def duplicate_findings(new: ProfileEntry, others: Iterable[ProfileEntry]) -> list[Finding]:
    """Duplicate therapy: another active prescription of the same therapeutic class or ingredient."""
    findings: list[Finding] = []
    for other in others:
        shared = sorted(set(new.ingredients) & set(other.ingredients))
        if other.therapeutic_class == new.therapeutic_class:
            reason = f"same therapeutic class ({new.therapeutic_class})"
        elif shared:
            reason = f"same ingredient ({', '.join(shared)})"
        else:
            continue
        findings.append(
            _finding(
                AlertKind.DUPLICATE_THERAPY,
                Severity.MODERATE,
                f"duplicate therapy with Rx {other.rx_number}: {reason}",
            )
        )
    return findings


def interaction_findings(new: ProfileEntry, others: Iterable[ProfileEntry], table: InteractionTable) -> list[Finding]:
    """Drug-drug interactions from the table, matched on ingredients and classes in either order."""
    findings: list[Finding] = []
    for other in others:
        for rule in table.interactions:
            forward = rule.a in new.terms and rule.b in other.terms
            backward = rule.b in new.terms and rule.a in other.terms
            if forward or backward:
                findings.append(
                    _finding(
                        AlertKind.INTERACTION,
                        rule.severity,
                        f"interaction with Rx {other.rx_number}: {rule.text}",
                    )
                )
    return findings


def early_refill_findings(
    new: ProfileEntry, profile: Iterable[ProfileEntry], table: InteractionTable, today: date
) -> list[Finding]:
    """Early refill: the same drug was filled and less than the threshold of its days supply has passed."""
    findings: list[Finding] = []
    for entry in profile:
        same_drug = entry.rx_number == new.rx_number or set(entry.ingredients) == set(new.ingredients)
        if not same_drug or entry.last_fill_date is None or not entry.days_supply:
            continue
        due = entry.last_fill_date + timedelta(days=math.ceil(entry.days_supply * table.early_refill_threshold))
        if today < due:
            findings.append(
                _finding(
                    AlertKind.EARLY_REFILL,
                    Severity.MODERATE,
                    f"early refill: Rx {entry.rx_number} filled {entry.last_fill_date} for "
                    f"{entry.days_supply} days, refill due {due}",
                )
            )
    return findings


def _finding(kind: AlertKind, severity: Severity, text: str) -> Finding:
    return Finding(kind=kind, severity=severity, text=text)
