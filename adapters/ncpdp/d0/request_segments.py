"""Typed views of the request segments the hub reads and writes (standards.md §4.2).

Fields not declared here stay in the raw ``Segment``; these views are for reading values, not for
round-tripping a sender's bytes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from adapters.ncpdp.d0.model import Segment
from adapters.ncpdp.d0.segment_view import SegmentView, WireField, WireFormat, split_repeats
from hub.domain.order_parts import Frozen

_INT, _MONEY, _QTY, _DATE = WireFormat.INTEGER, WireFormat.MONEY, WireFormat.QUANTITY, WireFormat.DATE


class PatientSegment(SegmentView):
    """AM01 Patient."""

    segment_id: ClassVar[str] = "01"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "patient_id_qualifier": WireField("CX"),
        "patient_id": WireField("CY"),
        "date_of_birth": WireField("C4", _DATE),
        "gender": WireField("C5"),
        "first_name": WireField("CA"),
        "last_name": WireField("CB"),
        "street": WireField("CM"),
        "city": WireField("CN"),
        "state": WireField("CO"),
        "zip_code": WireField("CP"),
        "phone": WireField("CQ"),
        "place_of_service": WireField("C7"),
        "email": WireField("HN"),
        "residence": WireField("4X"),
    }

    patient_id_qualifier: str | None = None
    patient_id: str | None = None
    date_of_birth: date | None = None
    #: 305-C5: 0 unknown, 1 male, 2 female
    gender: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    phone: str | None = None
    place_of_service: str | None = None
    email: str | None = None
    residence: str | None = None


class PharmacyProviderSegment(SegmentView):
    """AM02 Pharmacy Provider."""

    segment_id: ClassVar[str] = "02"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "provider_id_qualifier": WireField("EY"),
        "provider_id": WireField("E9"),
    }

    provider_id_qualifier: str | None = None
    provider_id: str | None = None


class PrescriberSegment(SegmentView):
    """AM03 Prescriber."""

    segment_id: ClassVar[str] = "03"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "prescriber_id_qualifier": WireField("EZ"),
        "prescriber_id": WireField("DB"),
        "last_name": WireField("DR"),
        "first_name": WireField("2J"),
        "phone": WireField("PM"),
    }

    #: 466-EZ: 01 = NPI
    prescriber_id_qualifier: str | None = None
    prescriber_id: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    phone: str | None = None


class InsuranceSegment(SegmentView):
    """AM04 Insurance."""

    segment_id: ClassVar[str] = "04"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "cardholder_id": WireField("C2"),
        "cardholder_first_name": WireField("CC"),
        "cardholder_last_name": WireField("CD"),
        "plan_id": WireField("FO"),
        "eligibility_clarification": WireField("C9"),
        "group_id": WireField("C1"),
        "person_code": WireField("C3"),
        "relationship": WireField("C6"),
    }

    cardholder_id: str | None = None
    cardholder_first_name: str | None = None
    cardholder_last_name: str | None = None
    plan_id: str | None = None
    eligibility_clarification: str | None = None
    group_id: str | None = None
    person_code: str | None = None
    #: 306-C6: 1 cardholder, 2 spouse, 3 child, 4 other
    relationship: str | None = None


class ClaimSegment(SegmentView):
    """AM07 Claim; 420-DK submission clarification codes repeat (up to 3)."""

    segment_id: ClassVar[str] = "07"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "rx_reference_qualifier": WireField("EM"),
        "rx_number": WireField("D2"),
        "product_id_qualifier": WireField("E1"),
        "product_id": WireField("D7"),
        "quantity_dispensed": WireField("E7", _QTY),
        "fill_number": WireField("D3", _INT),
        "days_supply": WireField("D5", _INT),
        "compound_code": WireField("D6"),
        "daw_code": WireField("D8"),
        "date_written": WireField("DE", _DATE),
        "refills_authorized": WireField("DF", _INT),
        "origin_code": WireField("DJ"),
        "quantity_prescribed": WireField("ET", _QTY),
        "associated_rx_number": WireField("EN"),
        "associated_date": WireField("EP", _DATE),
        "other_coverage_code": WireField("C8"),
        "unit_of_measure": WireField("28"),
        "prior_auth_type": WireField("EU"),
        "prior_auth_number": WireField("EV"),
        "dispensing_status": WireField("HD"),
        "quantity_intended": WireField("HF", _QTY),
        "days_supply_intended": WireField("HG", _INT),
    }

    rx_reference_qualifier: str | None = None
    rx_number: str | None = None
    #: 436-E1: 03 = NDC
    product_id_qualifier: str | None = None
    product_id: str | None = None
    quantity_dispensed: Decimal | None = None
    fill_number: int | None = None
    days_supply: int | None = None
    compound_code: str | None = None
    daw_code: str | None = None
    date_written: date | None = None
    refills_authorized: int | None = None
    origin_code: str | None = None
    quantity_prescribed: Decimal | None = None
    #: 456-EN / 457-EP: the Rx and date of service of the partial fill a completion (343-HD C) completes
    associated_rx_number: str | None = None
    associated_date: date | None = None
    other_coverage_code: str | None = None
    unit_of_measure: str | None = None
    prior_auth_type: str | None = None
    prior_auth_number: str | None = None
    dispensing_status: str | None = None
    #: 344-HF / 345-HG: what the whole fill will be when 343-HD says P (partial)
    quantity_intended: Decimal | None = None
    days_supply_intended: int | None = None
    submission_clarification_codes: tuple[str, ...] = ()

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        return {"submission_clarification_codes": tuple(v.strip() for v in segment.all("DK"))}

    def _repeating_fields(self) -> list[tuple[str, str]]:
        codes = self.submission_clarification_codes
        if not codes:
            return []
        return [("NX", str(len(codes))), *(("DK", code) for code in codes)]


class DurPps(Frozen):
    """One DUR/PPS set: why the pharmacist intervened, what they did, and the outcome."""

    counter: str | None = None
    #: 439-E4 reason for service (DD, ER, HD...)
    reason: str | None = None
    #: 440-E5 professional service (M0 prescriber consulted, R0, P0...)
    professional_service: str | None = None
    #: 441-E6 result of service (1A, 1B, 1G...)
    result: str | None = None
    level_of_effort: str | None = None


_DUR_FIELDS = {"E4": "reason", "E5": "professional_service", "E6": "result", "8E": "level_of_effort"}


class DurPpsSegment(SegmentView):
    """AM08 DUR/PPS: repeating sets opened by 473-7E counter (up to 9)."""

    segment_id: ClassVar[str] = "08"
    entries: tuple[DurPps, ...] = ()

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        sets = split_repeats(segment, "7E", set(_DUR_FIELDS))
        entries = [
            {
                "counter": s.get("7E"),
                **{attr: s[fid].strip() for fid, attr in _DUR_FIELDS.items() if fid in s},
            }
            for s in sets
        ]
        return {"entries": tuple(entries)}

    def _repeating_fields(self) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        for number, entry in enumerate(self.entries, start=1):
            fields.append(("7E", entry.counter or str(number)))
            fields += [(fid, v) for fid, attr in _DUR_FIELDS.items() if (v := getattr(entry, attr)) is not None]
        return fields


class PricingSegment(SegmentView):
    """AM11 Pricing (amounts are signed overpunch)."""

    segment_id: ClassVar[str] = "11"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "ingredient_cost": WireField("D9", _MONEY),
        "dispensing_fee": WireField("DC", _MONEY),
        "professional_service_fee": WireField("BE", _MONEY),
        "patient_paid": WireField("DX", _MONEY),
        "incentive": WireField("E3", _MONEY),
        "usual_and_customary": WireField("DQ", _MONEY),
        "gross_amount_due": WireField("DU", _MONEY),
        "basis_of_cost": WireField("DN"),
    }

    ingredient_cost: Decimal | None = None
    dispensing_fee: Decimal | None = None
    professional_service_fee: Decimal | None = None
    patient_paid: Decimal | None = None
    incentive: Decimal | None = None
    usual_and_customary: Decimal | None = None
    gross_amount_due: Decimal | None = None
    basis_of_cost: str | None = None
