"""RxRenewalRequest: the pharmacy asks the prescriber for more refills (standards.md §3.1).

Sent when a patient asks for a refill of a prescription with none left; a prescriber connector
delivers it and the prescriber answers with an RxRenewalResponse (read by ``to_command``).
Element order follows script.xsd RxRenewalRequest; the medication block is not schema-validated.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from adapters.ncpdp.script.codes import DEA_SCHEDULE_CODES, NDC_QUALIFIER, quantity_unit_code
from adapters.ncpdp.script.compound import write_compound
from adapters.ncpdp.script.xml_writer import Routing, add, add_optional, new_message, serialize, write_header
from hub.domain.order_parts import DrugInfo, Frozen, PatientInfo, PrescriberInfo, QuantityInfo

#: Quantity/CodeListQualifier 38: original quantity
_ORIGINAL_QUANTITY = "38"
#: DrugDBCode qualifier sent with an RxNorm code (clinical drug)
_RXNORM_QUALIFIER = "SCD"


class PharmacyIdentity(Frozen):
    """The requesting pharmacy (RxRenewalRequest/Pharmacy is mandatory, with an address)."""

    ncpdp_id: str
    npi: str | None = None
    name: str
    address_line: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    phone: str | None = None


class RenewalRequestInput(Frozen):
    """What the hub knows about the prescription whose renewal it asks for."""

    #: the pharmacy's Rx number, sent as Header/RxReferenceNumber and echoed in the response
    rx_number: str
    placer_order_number: str | None = None
    #: MessageID of the original NewRx, only when it came electronically (transport.xsd)
    relates_to_message_id: str | None = None
    #: the prescriber's SCRIPT address (Header/To), e.g. an SPI, with its qualifier
    prescriber_address: str
    prescriber_address_qualifier: str = "D"
    prescriber: PrescriberInfo
    patient: PatientInfo
    drug: DrugInfo
    quantity: QuantityInfo
    days_supply: int | None = Field(default=None, ge=0)
    sig: str | None = None
    written_date: date | None = None
    last_fill_date: date | None = None
    pharmacy: PharmacyIdentity


def rx_renewal_request(request: RenewalRequestInput, *, message_id: str, now: datetime) -> bytes:
    """The RxRenewalRequest XML (2017071, namespaced) for ``request``."""
    root = new_message(None)
    routing = Routing(request.prescriber_address, request.prescriber_address_qualifier, request.pharmacy.ncpdp_id, "P")
    write_header(
        root,
        routing,
        message_id=message_id,
        now=now,
        relates_to=request.relates_to_message_id,
        version="2017071",
        rx_reference_number=request.rx_number,
        prescriber_order_number=request.placer_order_number,
    )
    renewal = add(add(root, "Body"), "RxRenewalRequest")
    _patient(add(renewal, "Patient"), request.patient)
    _pharmacy(add(renewal, "Pharmacy"), request.pharmacy)
    _prescriber(add(renewal, "Prescriber"), request.prescriber)
    _medication(add(renewal, "MedicationDispensed"), request)
    return serialize(root)


def _patient(parent: Any, patient: PatientInfo) -> None:
    person = add(parent, "HumanPatient")
    _name(person, patient.family_name, patient.given_name)
    add_optional(person, "Gender", patient.sex)
    if patient.birth_date is not None:
        add(add(person, "DateOfBirth"), "Date", patient.birth_date.isoformat())


def _pharmacy(parent: Any, pharmacy: PharmacyIdentity) -> None:
    ids = add(parent, "Identification")
    add(ids, "NCPDPID", pharmacy.ncpdp_id)
    add_optional(ids, "NPI", pharmacy.npi)
    add(parent, "BusinessName", pharmacy.name)
    address = add(parent, "Address")
    add_optional(address, "AddressLine1", pharmacy.address_line)
    add_optional(address, "City", pharmacy.city)
    add_optional(address, "StateProvince", pharmacy.state)
    add_optional(address, "PostalCode", pharmacy.postal_code)
    if pharmacy.phone is not None:
        add(add(add(parent, "CommunicationNumbers"), "PrimaryTelephone"), "Number", pharmacy.phone)


def _prescriber(parent: Any, prescriber: PrescriberInfo) -> None:
    person = add(parent, "NonVeterinarian")
    ids = add(person, "Identification")
    add_optional(ids, "NPI", prescriber.npi)
    add_optional(ids, "DEANumber", prescriber.dea)
    _name(person, prescriber.family_name, prescriber.given_name)


def _medication(parent: Any, request: RenewalRequestInput) -> None:
    drug = request.drug
    add_optional(parent, "DrugDescription", drug.text)
    coded = add(parent, "DrugCoded")
    if drug.ndc is not None:
        product = add(coded, "ProductCode")
        add(product, "Code", drug.ndc)
        add(product, "Qualifier", NDC_QUALIFIER)
    if drug.rxnorm is not None:
        database = add(coded, "DrugDBCode")
        add(database, "Code", drug.rxnorm)
        add(database, "Qualifier", _RXNORM_QUALIFIER)
    if drug.schedule in DEA_SCHEDULE_CODES:
        add(add(coded, "DEASchedule"), "Code", DEA_SCHEDULE_CODES[drug.schedule])
    quantity = add(parent, "Quantity")
    add(quantity, "Value", format(request.quantity.value, "f"))
    add(quantity, "CodeListQualifier", _ORIGINAL_QUANTITY)
    add(add(quantity, "QuantityUnitOfMeasure"), "Code", quantity_unit_code(request.quantity.unit))
    add_optional(parent, "DaysSupply", str(request.days_supply) if request.days_supply is not None else None)
    _date(parent, "WrittenDate", request.written_date)
    _date(parent, "LastFillDate", request.last_fill_date)
    add(parent, "NumberOfRefills", "0")
    if request.sig is not None:
        add(add(parent, "Sig"), "SigText", request.sig)
    if drug.compound is not None:
        write_compound(parent, drug.compound)


def _name(parent: Any, family: str | None, given: str | None) -> None:
    name = add(parent, "Name")
    add_optional(name, "LastName", family)
    add_optional(name, "FirstName", given)


def _date(parent: Any, name: str, value: date | None) -> None:
    if value is not None:
        add(add(parent, name), "Date", value.isoformat())
