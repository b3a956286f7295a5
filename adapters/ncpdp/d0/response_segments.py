"""Typed views of the response segments the hub reads and the simulated payer writes (standards.md §4.3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from adapters.ncpdp.d0.model import Segment
from adapters.ncpdp.d0.segment_view import SegmentView, WireField, WireFormat, decode, encode, split_repeats
from hub.domain.order_parts import Frozen

_INT, _MONEY, _DATE = WireFormat.INTEGER, WireFormat.MONEY, WireFormat.DATE


class ResponseMessageSegment(SegmentView):
    """AM20 Response Message: transmission-level free text (504-F4)."""

    segment_id: ClassVar[str] = "20"
    wire_fields: ClassVar[dict[str, WireField]] = {"message": WireField("F4")}

    message: str | None = None


class ResponseStatusSegment(SegmentView):
    """AM21 Response Status; reject codes, approved message codes and message lines repeat in order."""

    segment_id: ClassVar[str] = "21"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "transaction_status": WireField("AN"),
        "authorization_number": WireField("F3"),
        "help_desk_qualifier": WireField("7F"),
        "help_desk_phone": WireField("8F"),
        "transaction_reference": WireField("K5"),
        "internal_control_number": WireField("A7"),
    }

    #: 112-AN: B1/B3 P paid, D duplicate of paid, R rejected, C captured, Q duplicate of capture;
    #: B2 A approved, S duplicate of approved, R rejected
    transaction_status: str
    authorization_number: str | None = None
    help_desk_qualifier: str | None = None
    help_desk_phone: str | None = None
    transaction_reference: str | None = None
    internal_control_number: str | None = None
    #: 511-FB, in wire order (510-FA is their count and is derived when building)
    reject_codes: tuple[str, ...] = ()
    #: 548-6F approved message codes
    approved_message_codes: tuple[str, ...] = ()
    #: 526-FQ additional message lines, in wire order
    message_lines: tuple[str, ...] = ()

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        return {
            "reject_codes": tuple(v.strip() for v in segment.all("FB")),
            "approved_message_codes": tuple(v.strip() for v in segment.all("6F")),
            "message_lines": tuple(segment.all("FQ")),
        }

    def _repeating_fields(self) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        if self.reject_codes:
            fields += [("FA", str(len(self.reject_codes))), *(("FB", c) for c in self.reject_codes)]
        if self.approved_message_codes:
            codes = self.approved_message_codes
            fields += [("5F", str(len(codes))), *(("6F", c) for c in codes)]
        if self.message_lines:
            fields.append(("UF", str(len(self.message_lines))))
            for number, line in enumerate(self.message_lines, start=1):
                fields += [("UH", f"{number:02d}"), ("FQ", line)]
        return fields


class ResponseClaimSegment(SegmentView):
    """AM22 Response Claim."""

    segment_id: ClassVar[str] = "22"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "rx_reference_qualifier": WireField("EM"),
        "rx_number": WireField("D2"),
        "preferred_product_count": WireField("9F", _INT),
        "medicaid_icn": WireField("N4"),
    }

    rx_reference_qualifier: str | None = None
    rx_number: str | None = None
    preferred_product_count: int | None = None
    medicaid_icn: str | None = None


class ResponsePricingSegment(SegmentView):
    """AM23 Response Pricing (505-F5 is the PATIENT PAY amount; dzero mislabels it, standards.md §4.5)."""

    segment_id: ClassVar[str] = "23"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "patient_pay": WireField("F5", _MONEY),
        "ingredient_cost_paid": WireField("F6", _MONEY),
        "dispensing_fee_paid": WireField("F7", _MONEY),
        "incentive_paid": WireField("FL", _MONEY),
        "professional_service_fee_paid": WireField("J1", _MONEY),
        "total_paid": WireField("F9", _MONEY),
        "basis_of_reimbursement": WireField("FM"),
        "accumulated_deductible": WireField("FC", _MONEY),
        "remaining_deductible": WireField("FD", _MONEY),
        "remaining_benefit": WireField("FE", _MONEY),
        "applied_to_deductible": WireField("FH", _MONEY),
        "copay": WireField("FI", _MONEY),
        "coinsurance": WireField("4U", _MONEY),
    }

    patient_pay: Decimal | None = None
    ingredient_cost_paid: Decimal | None = None
    dispensing_fee_paid: Decimal | None = None
    incentive_paid: Decimal | None = None
    professional_service_fee_paid: Decimal | None = None
    total_paid: Decimal | None = None
    basis_of_reimbursement: str | None = None
    accumulated_deductible: Decimal | None = None
    remaining_deductible: Decimal | None = None
    remaining_benefit: Decimal | None = None
    applied_to_deductible: Decimal | None = None
    copay: Decimal | None = None
    coinsurance: Decimal | None = None


class ResponseDur(Frozen):
    """One response DUR/PPS set: the payer's clinical alert."""

    counter: str | None = None
    reason: str | None = None
    clinical_significance: str | None = None
    other_pharmacy: str | None = None
    previous_fill_date: date | None = None
    #: 531-FV as sent: payers disagree on its implied decimals
    previous_fill_quantity: str | None = None
    database: str | None = None
    other_prescriber: str | None = None
    free_text: str | None = None


_RESPONSE_DUR_FIELDS = {
    "E4": "reason",
    "FS": "clinical_significance",
    "FT": "other_pharmacy",
    "FU": "previous_fill_date",
    "FV": "previous_fill_quantity",
    "FW": "database",
    "FX": "other_prescriber",
    "FY": "free_text",
}


class ResponseDurSegment(SegmentView):
    """AM24 Response DUR/PPS: repeating sets opened by 567-J6 counter."""

    segment_id: ClassVar[str] = "24"
    entries: tuple[ResponseDur, ...] = ()

    @classmethod
    def _repeating_from(cls, segment: Segment) -> dict[str, object]:
        sets = split_repeats(segment, "J6", set(_RESPONSE_DUR_FIELDS))
        entries = []
        for found in sets:
            entry: dict[str, object] = {"counter": found.get("J6")}
            for field_id, attr in _RESPONSE_DUR_FIELDS.items():
                if field_id in found:
                    fmt = _DATE if field_id == "FU" else WireFormat.TEXT
                    entry[attr] = decode(fmt, found[field_id], field_id)
            entries.append(entry)
        return {"entries": tuple(entries)}

    def _repeating_fields(self) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        for number, entry in enumerate(self.entries, start=1):
            fields.append(("J6", entry.counter or str(number)))
            for field_id, attr in _RESPONSE_DUR_FIELDS.items():
                value = getattr(entry, attr)
                if value is not None:
                    fields.append((field_id, encode(_DATE if field_id == "FU" else WireFormat.TEXT, value)))
        return fields


class ResponseInsuranceSegment(SegmentView):
    """AM25 Response Insurance."""

    segment_id: ClassVar[str] = "25"
    wire_fields: ClassVar[dict[str, WireField]] = {
        "group_id": WireField("C1"),
        "plan_id": WireField("FO"),
        "network_reimbursement_id": WireField("2F"),
        "payer_id_qualifier": WireField("J7"),
        "payer_id": WireField("J8"),
        "cardholder_id": WireField("C2"),
    }

    group_id: str | None = None
    plan_id: str | None = None
    network_reimbursement_id: str | None = None
    payer_id_qualifier: str | None = None
    payer_id: str | None = None
    cardholder_id: str | None = None
