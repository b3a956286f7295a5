"""The people and payers a SCRIPT transaction names: patient, prescriber, benefits coordination.

2017071 wraps the person in a choice element (Patient/HumanPatient, Prescriber/NonVeterinarian);
10.6 put Name, Identification... directly under Patient and Prescriber. Both are read.
"""

from __future__ import annotations

from adapters.ncpdp.script.codes import sex
from adapters.ncpdp.script.cursor import Cursor
from adapters.ncpdp.script.values import date_of
from adapters.ncpdp.script.xml_tree import XmlNode
from hub.domain.order_parts import Allergy, CoverageInfo, Identifier, PatientInfo, PrescriberInfo

_PRESCRIBER_IDS = ("NPI", "DEANumber")
#: SNOMED CT severities SCRIPT's SeverityCoded uses
_SEVERITY_CODES = {"255604002": "mild", "6736007": "moderate", "24484000": "severe"}
_SEVERITY_WORDS = frozenset(_SEVERITY_CODES.values())


def _person(party: Cursor, choices: str) -> Cursor:
    inner = party.at(choices)
    return inner if inner.present else party


def read_patient(patient: Cursor, allergies: Cursor) -> PatientInfo:
    """Patient (HumanPatient/AnimalPatient in 2017071) with the NewRx's AllergyOrAdverseEvent."""
    person = _person(patient, "HumanPatient|AnimalPatient")
    return PatientInfo(
        identifiers=_identifiers(person.at("Identification")),
        family_name=person.at("Name", "LastName").required_text(),
        given_name=person.at("Name", "FirstName").text(),
        birth_date=date_of(person.at("DateOfBirth")),
        sex=sex(person.at("Gender").text()),
        allergies=read_allergies(allergies),
        address=_address(person.at("Address").node),
        phone=_phone(person.at("CommunicationNumbers").node),
    )


def read_prescriber(prescriber: Cursor) -> PrescriberInfo:
    """Prescriber (NonVeterinarian/Veterinarian in 2017071): name, NPI, DEA and other identifiers."""
    person = _person(prescriber, "NonVeterinarian|Veterinarian")
    ids = person.at("Identification")
    return PrescriberInfo(
        family_name=person.at("Name", "LastName").text(),
        given_name=person.at("Name", "FirstName").text(),
        npi=ids.at("NPI").text(),
        dea=ids.at("DEANumber").text(),
        identifiers=tuple(i for i in _identifiers(ids) if i.type_code not in _PRESCRIBER_IDS),
    )


def read_allergies(allergy: Cursor) -> tuple[Allergy, ...]:
    """AllergyOrAdverseEvent/Allergies entries; NoKnownAllergies gives none."""
    found: list[Allergy] = []
    for entry in allergy.all("Allergies"):
        node = entry.node
        assert node is not None
        product = node.child("DrugProductCoded") or XmlNode(name="DrugProductCoded")
        event = node.text_at("AdverseEvent", "Text") or node.text_at("AdverseEvent", "Code")
        text = product.text_at("Text") or event
        reaction = node.text_at("ReactionCoded", "Text") or node.text_at("ReactionCoded", "Code")
        found.append(
            Allergy(
                text=text or "allergy without description",
                code=product.text_at("Code"),
                system=product.text_at("Qualifier"),
                severity=_severity(node),
                reactions=(reaction,) if reaction else (),
            )
        )
    return tuple(found)


def _severity(allergy: XmlNode) -> str | None:
    """SeverityCoded in words: its Text (lower case when it is one of the three), else the SNOMED CT code's."""
    said = allergy.text_at("SeverityCoded", "Text")
    code = allergy.text_at("SeverityCoded", "Code")
    if said:
        return said.lower() if said.lower() in _SEVERITY_WORDS else said
    return _SEVERITY_CODES.get(code or "", code)


def read_coverages(benefits: list[Cursor]) -> tuple[CoverageInfo, ...]:
    """Every BenefitsCoordination (0..4) that names something the hub uses, in billing order.

    SCRIPT gives the repetitions no priority element the hub reads (standards §3: BenefitsCoordination[0..4]);
    they are billed in the order the prescriber's system lists them, primary first (unverified convention).
    """
    return tuple(coverage for cursor in benefits if (coverage := read_coverage(cursor)) is not None)


def read_coverage(benefits: Cursor) -> CoverageInfo | None:
    """One BenefitsCoordination as CoverageInfo; None when it names nothing the hub uses."""
    node = benefits.node
    if node is None:
        return None

    def first(*names: str) -> str | None:
        hit = node.descendant(*names)
        return hit.text if hit is not None else None

    coverage = CoverageInfo(
        bin=first("IINNumber", "BINLocationNumber"),
        pcn=first("ProcessorIdentificationNumber"),
        group_id=first("GroupID"),
        cardholder_id=first("CardholderID"),
        person_code=first("PersonCode"),
        relationship=first("PatientRelationshipCode"),
        plan_name=first("PayerName", "GroupName"),
    )
    return coverage if coverage != CoverageInfo() else None


def _identifiers(identification: Cursor) -> tuple[Identifier, ...]:
    node = identification.node
    if node is None:
        return ()
    return tuple(Identifier(value=c.text, type_code=c.name) for c in node.children if c.text is not None)


def _address(address: XmlNode | None) -> str | None:
    if address is None:
        return None
    region = " ".join(
        part for part in (address.text_at("StateProvince|State"), address.text_at("PostalCode|ZipCode")) if part
    )
    lines = (address.text_at("AddressLine1"), address.text_at("AddressLine2"), address.text_at("City"))
    parts = (*lines, region)
    return ", ".join(p for p in parts if p) or None


def _phone(numbers: XmlNode | None) -> str | None:
    if numbers is None:
        return None
    primary = numbers.text_at("PrimaryTelephone", "Number")
    if primary is not None:
        return primary
    # 10.6: Communication entries with a Qualifier (TE telephone, FX fax, EM email)
    entries = numbers.children_named("Communication")
    phones = [e for e in entries if e.text_at("Qualifier") in (None, "TE")]
    return phones[0].text_at("Number") if phones else None
