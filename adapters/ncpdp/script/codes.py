"""Code tables of NCPDP SCRIPT the adapter needs (standards.md §3; NCI thesaurus codes for SCRIPT)."""

from __future__ import annotations

import re

SCRIPT_NAMESPACE = "http://www.ncpdp.org/schema/SCRIPT"

#: versions whose NewRx/CancelRx/RxRenewalResponse read the same for the fields the hub uses;
#: 2023011 keeps the 2017071 element names for those fields, so it is accepted as-is
SUPPORTED_VERSIONS = frozenset({"2017071", "2023011", "10.6"})
#: a message with no version attributes at all is read as the current version
ASSUMED_VERSION = "2017071"

#: root attributes of a schema-valid 2017071 message (transport.xsd MessageType)
ROOT_ATTRIBUTES_2017071: tuple[tuple[str, str], ...] = (
    ("DatatypesVersion", "20170715"),
    ("TransportVersion", "20170715"),
    ("TransactionDomain", "SCRIPT"),
    ("TransactionVersion", "20170715"),
    ("StructuresVersion", "20170715"),
    ("ECLVersion", "20170715"),
)
#: root attributes that say which version a message is; only these are echoed in answers
VERSION_ATTRIBUTES = frozenset({name for name, _ in ROOT_ATTRIBUTES_2017071} | {"version", "release"})

#: 10.6 transaction names that 2017071 renamed
LEGACY_KINDS = {"RefillRequest": "RxRenewalRequest", "RefillResponse": "RxRenewalResponse"}
#: transport answers to the hub's own outbound messages; they are never answered in turn
ACKNOWLEDGEMENT_KINDS = frozenset({"Status", "Error", "Verify"})

#: DrugCoded/DEASchedule (NCI): CI, CII, CIII, CIV, CV
DEA_SCHEDULES = {"C48672": "1", "C48675": "2", "C48676": "3", "C48677": "4", "C48679": "5"}
DEA_SCHEDULE_CODES = {schedule: code for code, schedule in DEA_SCHEDULES.items()}
_NCI_CODE = re.compile(r"C\d{4,6}")
#: NCI "Unspecified", used both for schedule and for quantity unit
UNSPECIFIED = "C38046"

#: QuantityUnitOfMeasure (NCI) codes common in retail; others are kept as the NCI code itself
QUANTITY_UNITS = {"C48542": "tablet", "C48480": "capsule", "C28254": "mL", "C48155": "g"}
QUANTITY_UNIT_CODES = {unit: code for code, unit in QUANTITY_UNITS.items()}

#: ProductCode qualifier for an NDC
NDC_QUALIFIER = "ND"
#: DrugDBCode qualifiers that carry an RxNorm RXCUI (term types SCD, SBD, GPCK, BPCK)
RXNORM_QUALIFIERS = frozenset({"SCD", "SBD", "GPK", "BPK"})

#: Substitutions (ecl SubstitutionCode): 0 allowed / no product selection indicated, 1 not allowed
SUBSTITUTION_ALLOWED = {"0": True, "1": False}

#: RxRenewalResponse/Response choice -> RecordRenewalResponse.decision
RENEWAL_DECISIONS = {
    "Approved": "approved",
    "ApprovedWithChanges": "approved_with_changes",
    "Denied": "denied",
    "DeniedNewPrescriptionToFollow": "denied_new_rx_to_follow",
    "Replace": "replace",
}

#: Status/Code and Error/Code values (transport.xsd StatusCode, TransactionErrorCode)
STATUS_CODES = frozenset({"000", "001", "002", "003", "005", "010"})
ERROR_CODES = frozenset({"600", "601", "602", "700", "900"})


def detect_version(attributes: tuple[tuple[str, str], ...]) -> str:
    """The SCRIPT version a root element declares: "2017071", "2023011", "10.6", or as sent."""
    values = dict(attributes)
    wire = values.get("TransactionVersion")
    if wire:
        # the wire form is the version plus a day digit: "20170715" is 2017071
        return wire[:7] if len(wire) == 8 and wire.isdigit() else wire
    version, release = values.get("version"), values.get("release")
    if version == "010" and release == "006":
        return "10.6"
    return version or ASSUMED_VERSION


def quantity_unit(code: str | None) -> str | None:
    """A readable unit for an NCI QuantityUnitOfMeasure code; unknown codes are kept as sent."""
    if code is None or code == UNSPECIFIED:
        return None
    return QUANTITY_UNITS.get(code, code)


def quantity_unit_code(unit: str | None) -> str:
    """The NCI code to send for a unit (reverse of ``quantity_unit``)."""
    if unit in QUANTITY_UNIT_CODES:
        return QUANTITY_UNIT_CODES[unit]
    # a unit kept as its NCI code goes back as that code; free text has no code to send
    return unit if unit is not None and _NCI_CODE.fullmatch(unit) else UNSPECIFIED


def sex(gender: str | None) -> str | None:
    """Gender as the hub keeps it: M, F, U (SCRIPT has no other value; anything else becomes U)."""
    if gender is None:
        return None
    return gender.upper() if gender.upper() in {"M", "F", "U"} else "U"
