"""Intake alerts: identifier checks and DUR screening, and the override rule at data verification."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hub.domain.alerts import AlertKind, Severity
from hub.domain.catalogue import Product
from hub.domain.dur import InteractionTable, ProfileEntry, screen
from hub.domain.order_parts import Allergy, DrugInfo, PatientInfo, PrescriberInfo
from hub.domain.parties import Patient
from hub.domain.rx_record import UnresolvedAlerts
from hub.domain.states import RxState
from tests.unit.domain.builders import (
    CATALOGUE,
    INTERACTIONS,
    NOW,
    PATIENT,
    PHARMACIST,
    PRESCRIBER,
    SYSTEM,
    TODAY,
    context,
    received,
)

AMOXICILLIN = "00093005801"
WARFARIN = "00054429725"


def product(ndc: str) -> Product:
    found = CATALOGUE.by_ndc(ndc)
    assert found is not None
    return found


def kinds(findings: list[object]) -> list[str]:
    return [f.kind.value for f in findings]  # type: ignore[attr-defined]


def allergic(*texts: str) -> Patient:
    return PATIENT.merged_with(PatientInfo(allergies=tuple(Allergy(text=t) for t in texts)))


def test_penicillin_allergy_flags_amoxicillin_by_class() -> None:
    findings = screen(product(AMOXICILLIN), "1", [Allergy(text="Penicillin (hives)")], [], INTERACTIONS, TODAY)
    assert kinds(findings) == ["drug_allergy"] and findings[0].severity is Severity.HIGH


def test_allergy_named_by_ingredient_is_found() -> None:
    findings = screen(product(WARFARIN), "1", [Allergy(text="WARFARIN - bleeding")], [], INTERACTIONS, TODAY)
    assert kinds(findings) == ["drug_allergy"]


def test_cross_sensitivity_is_a_moderate_allergy_alert() -> None:
    findings = screen(product("00904653061"), "1", [Allergy(text="PCN")], [], INTERACTIONS, TODAY)
    assert [(f.kind, f.severity) for f in findings] == [(AlertKind.DRUG_ALLERGY, Severity.MODERATE)]


def test_unrelated_allergy_gives_nothing() -> None:
    assert screen(product(WARFARIN), "1", [Allergy(text="latex")], [], INTERACTIONS, TODAY) == []


def test_duplicate_therapy_against_active_fills_only() -> None:
    simvastatin = ProfileEntry.of(product("00093715398"), "OTHER-1")
    stopped = ProfileEntry.of(product("00093715398"), "OTHER-2", active=False)
    findings = screen(product("00071015523"), "1", [], [simvastatin, stopped], INTERACTIONS, TODAY)
    assert kinds(findings) == ["duplicate_therapy"]
    assert "OTHER-1" in findings[0].text and "hmg-coa" in findings[0].text


def test_shared_ingredient_is_duplicate_therapy() -> None:
    tylenol_pm = ProfileEntry.of(product("50580045110"), "OTC-1")
    findings = screen(product("00591040501"), "1", [], [tylenol_pm], INTERACTIONS, TODAY)
    assert "duplicate_therapy" in kinds(findings)
    assert any("acetaminophen" in f.text for f in findings)


def test_interaction_by_ingredient_and_class_in_either_order() -> None:
    ibuprofen = ProfileEntry.of(product("00904585361"), "R-1")
    findings = screen(product(WARFARIN), "1", [], [ibuprofen], INTERACTIONS, TODAY)
    assert kinds(findings) == ["interaction"] and findings[0].severity is Severity.HIGH
    warfarin = ProfileEntry.of(product(WARFARIN), "R-2")
    assert kinds(screen(product("00904585361"), "1", [], [warfarin], INTERACTIONS, TODAY)) == ["interaction"]


def test_opioid_with_benzodiazepine_is_high() -> None:
    alprazolam = ProfileEntry.of(product("00228202910"), "R-3")
    findings = screen(product("00406055201"), "1", [], [alprazolam], INTERACTIONS, TODAY)
    assert [(f.kind, f.severity) for f in findings] == [(AlertKind.INTERACTION, Severity.HIGH)]


def test_early_refill_of_the_same_drug_elsewhere() -> None:
    last_week = ProfileEntry.of(product(WARFARIN), "OLD-RX", TODAY - timedelta(days=7), 30)
    findings = screen(product(WARFARIN), "NEW-RX", [], [last_week], INTERACTIONS, TODAY)
    assert "early_refill" in kinds(findings)
    long_ago = ProfileEntry.of(product(WARFARIN), "OLD-RX", TODAY - timedelta(days=23), 30)
    assert "early_refill" not in kinds(screen(product(WARFARIN), "NEW-RX", [], [long_ago], INTERACTIONS, TODAY))


def test_intake_attaches_dur_alerts_and_approval_needs_override_of_high_ones() -> None:
    rx = received(patient=allergic("penicillins"), drug=DrugInfo(ndc=AMOXICILLIN))
    rx.intake(SYSTEM, NOW, context())
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("5"), patient_pay=Decimal("1"))
    (alert,) = rx.alerts
    assert (alert.kind, alert.fill_number, alert.blocking) == (AlertKind.DRUG_ALLERGY, 0, True)
    with pytest.raises(UnresolvedAlerts) as info:
        rx.approve_data_verification(PHARMACIST, NOW)
    assert info.value.alert_ids == [alert.alert_id]
    assert rx.state is RxState.DATA_VERIFICATION
    rx.override_alert(PHARMACIST, NOW, alert.alert_id, "tolerated amoxicillin in 2024 per patient")
    (verified,) = rx.approve_data_verification(PHARMACIST, NOW)
    assert verified.overridden_alerts == (alert.alert_id,)  # type: ignore[attr-defined]


def test_moderate_alerts_do_not_block_approval() -> None:
    rx = received(prescriber=PrescriberInfo(family_name="Prescott", dea="AP5836727"))
    rx.intake(SYSTEM, NOW, context())
    assert [(a.kind, a.severity) for a in rx.alerts] == [(AlertKind.INVALID_NPI, Severity.MODERATE)]
    rx.claim_paid(SYSTEM, NOW, total_paid=None, patient_pay=None)
    rx.approve_data_verification(PHARMACIST, NOW)
    assert rx.state is RxState.FILLING


@pytest.mark.parametrize(
    ("prescriber", "drug", "expected"),
    [
        (
            PrescriberInfo(family_name="Prescott", npi="1234567890", dea="AP5836727"),
            DrugInfo(ndc=WARFARIN),
            ["invalid_npi"],
        ),
        (
            PrescriberInfo(family_name="Smith", npi="1234567893", dea="AP5836727"),
            DrugInfo(ndc=WARFARIN),
            ["invalid_dea"],
        ),
        (
            PrescriberInfo(family_name="Prescott", npi="1234567893", dea="AP5836728"),
            DrugInfo(ndc=WARFARIN),
            ["invalid_dea"],
        ),
        (
            PrescriberInfo(family_name="Prescott", npi="1234567893"),
            DrugInfo(ndc="00591040501"),
            ["missing_dea_for_controlled"],
        ),
        (
            PrescriberInfo(family_name="Prescott", npi="1234567893"),
            DrugInfo(text="oxycodone 5 mg", schedule="2"),
            ["missing_dea_for_controlled"],
        ),
        (PRESCRIBER.info, DrugInfo(ndc="0143963401"), ["invalid_ndc"]),
        (PRESCRIBER.info, DrugInfo(ndc="01151327"), ["invalid_ndc"]),
        (PRESCRIBER.info, DrugInfo(ndc=WARFARIN), []),
    ],
)
def test_identifier_failures_become_alerts_never_errors(
    prescriber: PrescriberInfo, drug: DrugInfo, expected: list[str]
) -> None:
    rx = received(prescriber=prescriber, drug=drug)
    rx.intake(SYSTEM, NOW, context())
    assert [a.kind.value for a in rx.alerts if a.fill_number is None] == expected
    assert rx.state in (RxState.CLAIM_PENDING, RxState.NEEDS_PRODUCT)


def test_missing_dea_found_when_the_technician_selects_a_controlled_product() -> None:
    rx = received(
        prescriber=PrescriberInfo(family_name="Prescott", npi="1234567893"),
        drug=DrugInfo(text="hydrocodone/apap 5/325"),
    )
    rx.intake(SYSTEM, NOW, context())
    assert rx.alerts == [] and rx.state is RxState.NEEDS_PRODUCT
    rx.select_product(SYSTEM, NOW, product("00591040501"), context())
    assert [a.kind for a in rx.alerts] == [AlertKind.MISSING_DEA_FOR_CONTROLLED]


def test_profile_entry_of_a_dispensed_prescription_is_active_during_its_supply() -> None:
    from tests.unit.domain.builders import reach

    rx = reach(RxState.DISPENSED)
    entry = rx.profile_entry(TODAY + timedelta(days=10))
    assert entry is not None and entry.active and entry.last_fill_date == TODAY and entry.days_supply == 30
    later = rx.profile_entry(TODAY + timedelta(days=45))
    assert later is not None and not later.active
    assert received().profile_entry(date(2026, 1, 1)) is None  # no product chosen yet


@pytest.mark.parametrize(
    "state",
    [
        RxState.DISPENSED,
        RxState.RETURNED_TO_STOCK,
        RxState.REJECTED,
        RxState.READY,
        RxState.DATA_VERIFICATION,
        RxState.RECEIVED,
    ],
)
def test_past_its_on_profile_until_a_prescription_changes_no_screening(state: RxState) -> None:
    """Intake does not read prescriptions past this day (hub.persistence.prescriptions): they must be inactive
    and too old for an early refill, at the strictest threshold the interaction table allows (1)."""
    from tests.unit.domain.builders import reach

    rx = reach(state)
    until = rx.on_profile_until()
    if state in (RxState.READY, RxState.DATA_VERIFICATION, RxState.RECEIVED):
        assert until is None, "a fill in progress is on the profile while it is open"
        return
    assert until is not None
    if state is RxState.DISPENSED:
        assert until == TODAY + timedelta(days=30), "the day the 30-day supply runs out"
    strictest = INTERACTIONS.model_copy(update={"early_refill_threshold": Decimal(1)})
    for day in (until + timedelta(days=1), until + timedelta(days=400)):
        entry = rx.profile_entry(day)
        assert entry is None or not entry.active
        if entry is not None:
            same = product(entry.ndc11)
            assert screen(same, "another", [], [entry], strictest, day) == [], day
    on_the_day = rx.profile_entry(until)
    if state is RxState.DISPENSED:
        assert on_the_day is not None and on_the_day.active, "still on the profile on its last day"


def test_a_refill_threshold_above_one_is_refused() -> None:
    with pytest.raises(ValidationError, match="early_refill_threshold"):
        InteractionTable.model_validate({"early_refill_threshold": "1.2"})
