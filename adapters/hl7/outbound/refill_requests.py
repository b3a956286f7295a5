"""Refill authorization request to the ordering EHR: the pharmacy asks for more refills of an HL7 order.

HL7's answer to SCRIPT's RxRenewalRequest (standards.md §1.3: ORC-1 RF "refill order request", filler to
placer; the placer answers AF approved / DF denied). Per version:

* v2.5 and later: RDE^O25, which has RDE^O11's shape; MSH-9.3 names RDE_O11, the structure hl7apy and most
  engines know (v2.7+ define an RDE_O25 of the same segments)
* v2.4: RDE^O11 with ORC-1 RF
* v2.3, v2.3.1: RDE^O01 with ORC-1 RF

Segments: PID (identifiers, name, birth date, sex), PV1 for inpatients, ORC (RF, placer and our Rx number,
ordering provider in ORC-12), RXE (drug, sig, amount as ordered, refills asked for, our Rx number, 0 left),
TQ1 from v2.5, RXR. Required fields the record has no value for are the HL7 null ``""`` (v2.5.1 Ch. 2.5.3).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from adapters.hl7.outbound.er7_writer import components, day, leaf, number, repeated, segment, timestamp
from adapters.hl7.outbound.message_inputs import MessageHeader
from adapters.hl7.outbound.order_segments import assemble, at_least
from hub.domain.events import RenewalRequested
from hub.domain.order_context import PatientDemographics, PatientLocation
from hub.domain.order_parts import DrugInfo, Frozen, Identifier, PrescriberInfo, QuantityInfo, Setting, Source
from hub.domain.prescription import Prescription

#: the HL7 null: present, and the sender has no value for it
NULL = '""'
#: ORC-1 (table 0119): refill order request, filler to placer
REFILL_REQUEST = "RF"


class RefillRequest(Frozen):
    """What the pharmacy asks the ordering EHR to renew."""

    rx_number: str
    placer_order_number: str
    placer_system: str | None = None
    setting: Setting = Setting.OUTPATIENT
    patient: PatientDemographics
    location: PatientLocation | None = None
    prescriber: PrescriberInfo | None = None
    drug: DrugInfo
    quantity: QuantityInfo | None = None
    #: one administration as ordered (RXE-3/5) and its repeat pattern (table 0335: QD, BID, Q6H...)
    give_amount: Decimal | None = None
    give_unit: str | None = None
    frequency: str | None = None
    sig: str | None = None
    #: refills asked for (RXE-12): as many as the order first authorised, at least one
    refills_requested: int = 1
    requested_at: datetime


def refill_request_structure(version: str) -> tuple[str, str, str]:
    """(message code, trigger, structure) of a refill authorization request in this version."""
    if at_least(version, (2, 5)):
        return "RDE", "O25", "RDE_O11"
    if at_least(version, (2, 4)):
        return "RDE", "O11", "RDE_O11"
    return "RDE", "O01", "RDE_O01"


def refill_request_of(event: RenewalRequested, rx: Prescription | None, at: datetime) -> RefillRequest | None:
    """The request for a renewal of an HL7 order, from its stored record; None for another door's order (or
    one no longer stored): each origin asks in its own standard."""
    if rx is None or (event.source or rx.source.value) != Source.HL7.value:
        return None
    context = rx.order_context()
    dosage = context.dosage
    return RefillRequest(
        rx_number=event.rx_number,
        placer_order_number=event.placer_order_number,
        placer_system=event.placer_system,
        setting=event.setting or rx.setting,
        patient=context.patient,
        location=context.location,
        prescriber=context.prescriber,
        drug=event.drug,
        quantity=event.quantity or context.quantity,
        give_amount=dosage.amount if dosage else None,
        give_unit=dosage.unit if dosage else None,
        frequency=dosage.frequency if dosage else None,
        sig=context.sig,
        refills_requested=max(rx.refills_authorized, 1),
        requested_at=at,
    )


def build_refill_request_for(
    header: MessageHeader, event: RenewalRequested, rx: Prescription | None, at: datetime
) -> bytes | None:
    """The refill request an HL7 destination gets for ``renewal.requested``, or None when it is not its to get."""
    request = refill_request_of(event, rx, at)
    return build_refill_request(header, request) if request is not None else None


def build_refill_request(header: MessageHeader, request: RefillRequest) -> bytes:
    """The ER7 refill authorization request."""
    code, trigger, structure = refill_request_structure(header.version)
    modern = at_least(header.version, (2, 5))
    body: list[str | None] = [
        _pid(request.patient),
        _pv1(request.location) if request.setting is Setting.INPATIENT else None,
        _orc(header, request),
        _tq1(request) if modern else None,  # the order's timing (ORDER/TIMING)
        _rxe(header.version, request),
        _tq1(request) if modern else None,  # the encoded timing (ORDER/TIMING_ENCODED, required)
        segment("RXR", {1: components(request.drug.route) or NULL}),
    ]
    return assemble(header, code, trigger, structure, body)


def _pv1(where: PatientLocation | None) -> str:
    location = components(where.point_of_care, where.room, where.bed, where.facility) if where else ""
    return segment("PV1", {1: "1", 2: "I", 3: location})


def _pid(patient: PatientDemographics) -> str:
    ids = [_cx(i) for i in patient.identifiers]
    return segment(
        "PID",
        {
            1: "1",
            3: repeated(*ids) or NULL,
            5: components(patient.family_name, patient.given_name) or NULL,
            7: _day(patient.birth_date),
            8: leaf(patient.sex),
        },
    )


def _cx(identifier: Identifier) -> str:
    return components(identifier.value, None, None, identifier.system, identifier.type_code)


def _orc(header: MessageHeader, request: RefillRequest) -> str:
    fields = {
        1: REFILL_REQUEST,
        2: components(request.placer_order_number, request.placer_system),
        3: components(request.rx_number, header.sending_application),
        9: timestamp(request.requested_at),
        12: _xcn(request.prescriber),
    }
    if not at_least(header.version, (2, 5)):  # ORC-7 quantity/timing until TQ1 replaced it
        fields[7] = _tq(request)
    else:  # ORC-29 order type, table 0482
        fields[29] = "I" if request.setting is Setting.INPATIENT else "O"
    return segment("ORC", fields)


def _xcn(prescriber: PrescriberInfo | None) -> str:
    """The ordering provider: NPI (assigning authority NPI) and name."""
    if prescriber is None:
        return ""
    authority = "NPI" if prescriber.npi else None
    return components(
        prescriber.npi, prescriber.family_name, prescriber.given_name, None, None, None, None, None, authority
    )


def _tq1(request: RefillRequest) -> str:
    """TQ1 repeat pattern and start (TQ1-1, an optional set id, left out: hl7apy's v2.7 tables cannot read it)."""
    return segment("TQ1", {3: leaf(request.frequency), 7: timestamp(request.requested_at)})


def _tq(request: RefillRequest) -> str:
    """TQ (RXE-1, ORC-7 before v2.5): 1 per administration ^ interval ^^ start."""
    return components("1", request.frequency, None, timestamp(request.requested_at))


def _rxe(version: str, request: RefillRequest) -> str:
    drug, quantity = request.drug, request.quantity
    return segment(
        "RXE",
        {
            # RXE-1 TQ (required before v2.5, withdrawn from v2.7): 1 per administration ^ interval ^^ start
            1: "" if at_least(version, (2, 7)) else _tq(request),
            2: _drug(drug),
            3: _number(request.give_amount) if request.give_amount is not None else "",  # NM has no null
            5: components(request.give_unit) or NULL,
            7: components(None, request.sig) if request.sig else "",
            10: _number(quantity.value) if quantity else "",
            11: components(quantity.unit) if quantity and quantity.unit else "",
            12: str(request.refills_requested),
            15: leaf(request.rx_number),
            16: "0",
        },
    )


def _drug(drug: DrugInfo) -> str:
    if drug.ndc:
        return components(drug.ndc, drug.text, "NDC")
    if drug.rxnorm:
        return components(drug.rxnorm, drug.text, "RXNORM")
    return components(None, drug.text) or NULL


def _number(value: Decimal) -> str:
    return number(value)


def _day(value: date | None) -> str:
    return day(value) if value is not None else ""
