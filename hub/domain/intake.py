"""Intake checks on what the prescriber sent: NPI, DEA and NDC, each failure a finding, never an exception."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.domain.alerts import AlertKind, Finding, Severity
from hub.domain.catalogue import Catalogue
from hub.domain.dur import InteractionTable, ProfileEntry
from hub.domain.identifiers import InvalidNdc, dea_is_valid, normalize_ndc, npi_is_valid
from hub.domain.order_parts import CoverageInfo, DrugInfo, PrescriberInfo


@dataclass(frozen=True)
class IntakeContext:
    """What intake reads besides the prescription: catalogue, DUR rules, the patient's other medications."""

    catalogue: Catalogue
    interactions: InteractionTable
    #: the patient's other prescriptions (``Prescription.profile_entry``), for DUR
    profile: Sequence[ProfileEntry] = field(default_factory=tuple)
    #: the pharmacy's coverage on file for the patient; overrides what the order carried
    coverage: CoverageInfo | None = None
    #: the patient's coverages on file after ``coverage``, in billing order; None: the order's own
    other_coverages: tuple[CoverageInfo, ...] | None = None


def prescriber_findings(prescriber: PrescriberInfo) -> list[Finding]:
    """NPI check digit and DEA checksum (with the last-name initial) of the prescriber as sent."""
    findings: list[Finding] = []
    if not prescriber.npi:
        findings.append(
            Finding(
                kind=AlertKind.INVALID_NPI,
                severity=Severity.MODERATE,
                text="the order carries no prescriber NPI",
            )
        )
    elif not npi_is_valid(prescriber.npi):
        findings.append(
            Finding(
                kind=AlertKind.INVALID_NPI,
                severity=Severity.HIGH,
                text=f"prescriber NPI {prescriber.npi!r} fails the check digit",
            )
        )
    if prescriber.dea and not dea_is_valid(prescriber.dea, prescriber.family_name):
        findings.append(
            Finding(
                kind=AlertKind.INVALID_DEA,
                severity=Severity.HIGH,
                text=f"prescriber DEA number {prescriber.dea!r} fails the checksum or "
                "does not match the prescriber's last name",
            )
        )
    return findings


def controlled_dea_finding(prescriber: PrescriberInfo, schedule: str | None) -> Finding | None:
    """A controlled substance needs the prescriber's DEA number (21 CFR 1306.05)."""
    if schedule is None or prescriber.dea:
        return None
    return Finding(
        kind=AlertKind.MISSING_DEA_FOR_CONTROLLED,
        severity=Severity.HIGH,
        text=f"Schedule {schedule} drug ordered without a prescriber DEA number",
    )


def ndc_finding(drug: DrugInfo) -> Finding | None:
    """An NDC that is present but cannot be read as NDC-11 without guessing."""
    if not drug.ndc:
        return None
    try:
        normalize_ndc(drug.ndc)
    except InvalidNdc as exc:
        return Finding(kind=AlertKind.INVALID_NDC, severity=Severity.MODERATE, text=str(exc))
    return None


def needs_product_reason(drug: DrugInfo) -> str:
    """Why an order waits for a technician to pick a product, in the queue's words."""
    if drug.ndc:
        return f"NDC {drug.ndc} is unreadable or not in the catalogue"
    if drug.rxnorm:
        return f"RxNorm {drug.rxnorm} only: choose a package (NDC)"
    if drug.other_codes:
        systems = ", ".join(sorted({c.system or "unknown system" for c in drug.other_codes}))
        return f"coded in {systems} only: choose a product"
    return "free-text drug: choose a product"
