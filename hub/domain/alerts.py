"""Alerts intake attaches for the pharmacist: failed identifier checks and DUR findings, with overrides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from hub.domain.order_parts import Frozen


class AlertKind(StrEnum):
    """What intake found."""

    INVALID_NPI = "invalid_npi"
    INVALID_DEA = "invalid_dea"
    MISSING_DEA_FOR_CONTROLLED = "missing_dea_for_controlled"
    INVALID_NDC = "invalid_ndc"
    DRUG_ALLERGY = "drug_allergy"
    DUPLICATE_THERAPY = "duplicate_therapy"
    EARLY_REFILL = "early_refill"
    INTERACTION = "interaction"
    #: a DUR/PPS finding the payer returned with its answer (D.0 AM24)
    PAYER_DUR = "payer_dur"
    #: a payer's free-text message on a paid answer (504-F4, 526-FQ)
    PAYER_MESSAGE = "payer_message"


class Severity(StrEnum):
    """How much the finding matters; HIGH blocks data verification until a pharmacist overrides it."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Override(Frozen):
    """A pharmacist's documented decision to proceed despite an alert."""

    by: str
    licence: str | None = None
    reason: str
    at: datetime


class Alert(Frozen):
    """One finding on a prescription (``fill_number`` None) or on one fill."""

    alert_id: str
    kind: AlertKind
    severity: Severity
    text: str
    fill_number: int | None = None
    override: Override | None = None

    @property
    def blocking(self) -> bool:
        """True while a high-severity alert has no override."""
        return self.severity is Severity.HIGH and self.override is None


class Finding(Frozen):
    """An alert before it is attached (no id yet): what screening functions return."""

    kind: AlertKind
    severity: Severity
    text: str
