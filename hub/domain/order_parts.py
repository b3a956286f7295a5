"""Value objects an inbound order is made of, shared by every adapter (HL7, FHIR, SCRIPT, verbal).

They carry what the sender said, as it said it: identifiers are validated later at intake, where a failed
check becomes an alert for the pharmacist rather than a rejected message.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from hub.domain.compound import Compound


class Frozen(BaseModel):
    """Base for immutable boundary models."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(StrEnum):
    """Where a message entered the hub."""

    HL7 = "hl7"
    FHIR = "fhir"
    SCRIPT = "script"
    VERBAL = "verbal"
    #: staff actions through the HTTP API
    API = "api"
    #: commands the hub's own workers send each other
    HUB = "hub"


class Setting(StrEnum):
    """Retail (outpatient, billed per fill) or hospital (inpatient, no per-fill claim)."""

    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"


class Identifier(Frozen):
    """An identifier with whoever assigned it (HL7 CX, FHIR Identifier)."""

    value: str
    system: str | None = None
    type_code: str | None = None


class Coding(Frozen):
    """A code in a code system, kept as the sender gave it."""

    code: str
    system: str | None = None
    display: str | None = None


class Allergy(Frozen):
    """An allergy the sender reported (HL7 AL1, FHIR AllergyIntolerance, SCRIPT AllergyOrAdverseEvent)."""

    text: str
    code: str | None = None
    system: str | None = None
    #: how bad the reaction is, in words ("mild", "moderate", "severe", or the sender's own): doors translate codes
    severity: str | None = None
    #: what happens to the patient, in words ("hives", "anaphylaxis")
    reactions: tuple[str, ...] = ()

    def same_substance(self, other: Allergy) -> bool:
        """Whether both name one substance: same code in the same system, else the same text."""
        if self.code and other.code:
            return (self.code, self.system) == (other.code, other.system)
        return self.text.casefold() == other.text.casefold()

    def updated_by(self, later: Allergy) -> Allergy:
        """This allergy as a later report of the same substance tells it: reactions added, its severity if given."""
        reactions = self.reactions + tuple(r for r in later.reactions if r not in self.reactions)
        return self.model_copy(update={"reactions": reactions, "severity": later.severity or self.severity})


class PatientInfo(Frozen):
    """The patient as the order names them."""

    identifiers: tuple[Identifier, ...] = ()
    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    #: administrative sex as sent, normalised to M, F, U or O
    sex: str | None = None
    allergies: tuple[Allergy, ...] = ()
    address: str | None = None
    phone: str | None = None


class PrescriberInfo(Frozen):
    """The ordering prescriber."""

    family_name: str | None = None
    given_name: str | None = None
    npi: str | None = None
    dea: str | None = None
    identifiers: tuple[Identifier, ...] = ()


class DrugInfo(Frozen):
    """The ordered product: NDC and/or RxNorm, plus whatever else the sender coded it with."""

    ndc: str | None = None
    rxnorm: str | None = None
    text: str | None = None
    other_codes: tuple[Coding, ...] = ()
    #: DEA schedule when the sender says it is controlled: "2".."5" (CII..CV)
    schedule: str | None = None
    route: str | None = None
    strength: str | None = None
    form: str | None = None
    #: ingredients, final form and unit when the pharmacy is to mix the product (no NDC of its own)
    compound: Compound | None = None


class CoverageInfo(Frozen):
    """Insurance as far as the order carries it; BIN/PCN usually come from the pharmacy's profile."""

    bin: str | None = None
    pcn: str | None = None
    group_id: str | None = None
    cardholder_id: str | None = None
    person_code: str | None = None
    relationship: str | None = None
    plan_name: str | None = None


class QuantityInfo(Frozen):
    """A dispense quantity and its unit."""

    value: Decimal
    unit: str | None = None


class ReplyTo(Frozen):
    """What an application acknowledgement must quote: the sender's message (HL7 enhanced mode, MSH-16)."""

    control_id: str
    message_type: str
    trigger_event: str
    version: str
    #: MSH-16: AL always, SU on success, ER on error
    application_ack_type: str
