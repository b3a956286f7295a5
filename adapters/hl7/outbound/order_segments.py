"""Segments shared by every outbound message: MSH, the patient's, ORC, RXR, with the version rules that shape them."""

from __future__ import annotations

from adapters.hl7.outbound.er7_writer import (
    ENCODING_CHARACTERS,
    components,
    leaf,
    message,
    number,
    segment,
    timestamp,
)
from adapters.hl7.outbound.message_inputs import MessageHeader, OrderRef
from adapters.hl7.outbound.party_segments import NULL, al1, pid, prescriber_xcn, pv1
from hub.domain.compound import Compound, IngredientIdKind
from hub.domain.order_parts import DrugInfo, Setting

#: MSH-18 for UTF-8 (table 0211), declared only when a value is not ASCII
UTF8 = "UNICODE UTF-8"


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.5.1"`` -> ``(2, 5, 1)``."""
    return tuple(int(p) for p in version.split("."))


def at_least(version: str, minimum: tuple[int, ...]) -> bool:
    """Whether ``version`` is ``minimum`` or later."""
    return version_tuple(version) >= minimum


def msh(header: MessageHeader, code: str, trigger: str, structure: str, *, utf8: bool) -> str:
    """MSH in original acknowledgment mode (MSH-15/16 empty: one AA/AE/AR answer, v2.5.1 Ch. 2.9.2)."""
    # MSH-9.3 message structure exists from v2.3.1
    msg_type = (
        components(code, trigger, structure) if at_least(header.version, (2, 3, 1)) else components(code, trigger)
    )
    fields = {
        2: ENCODING_CHARACTERS,
        3: leaf(header.sending_application),
        4: leaf(header.sending_facility),
        5: leaf(header.receiving_application),
        6: leaf(header.receiving_facility),
        7: timestamp(header.created_at),
        9: msg_type,
        10: leaf(header.control_id),
        11: leaf(header.processing_id),
        12: leaf(header.version),
        18: UTF8 if utf8 else "",
    }
    # MSH-1 is the separator itself, so the segment starts "MSH|^~\&"
    return "MSH|" + segment("", fields)[2:]


def patient_segments(order: OrderRef, *, allergies: bool = False) -> list[str | None]:
    """PID, PV1 for an inpatient, and the AL1s when the destination asks for allergies (PATIENT group order)."""
    patient = pid(order)
    if patient is None:  # the PATIENT group starts with PID: without one, none of it
        return []
    return [patient, pv1(order), *(al1(order) if allergies else [])]


def orc(header: MessageHeader, order: OrderRef, control: str, status: str, *, reason: str | None = None) -> str:
    """ORC: placer number (ORC-2), our Rx number as filler number (ORC-3), status, reason, order type."""
    fields = {
        1: leaf(control),
        2: components(order.placer_order_number, order.placer_system),
        3: components(order.rx_number, header.sending_application) if order.rx_number else "",
        5: leaf(status),
        9: timestamp(header.created_at),
        7: _quantity_timing(header.version, order),
        12: prescriber_xcn(order.context.prescriber if order.context else None),
        16: components(None, reason) if reason else "",
    }
    if order.setting is not None and at_least(header.version, (2, 5)):  # ORC-29 order type, table 0482
        fields[29] = "I" if order.setting is Setting.INPATIENT else "O"
    return segment("ORC", fields)


def _quantity_timing(version: str, order: OrderRef) -> str:
    """ORC-7 TQ before v2.5 (TQ1 replaces it): one dose per administration at the ordered repeat pattern."""
    if at_least(version, (2, 5)):
        return ""
    dosage = order.context.dosage if order.context else None
    return components("1", dosage.frequency if dosage else None)


def drug_code(drug: DrugInfo | None) -> str:
    """A CE/CWE for the product: NDC first, else RxNorm, else text only."""
    if drug is None:
        return ""
    if drug.ndc:
        return components(drug.ndc, drug.text, "NDC")
    if drug.rxnorm:
        return components(drug.rxnorm, drug.text, "RXNORM")
    return components(None, drug.text)


def rxr(route: str | None) -> str:
    """RXR-1 route (table 0162); the segment and its route are required, so an unknown route is the null."""
    return segment("RXR", {1: components(route) if route else NULL})


def rxc_segments(compound: Compound | None) -> list[str]:
    """One RXC per ingredient of a compound, after RXR (RDE and RDS structures): RXC-1 A (the hub is not told
    which is the base), RXC-2 the NDC, RXC-3 its amount in the whole, RXC-4 its unit (required: the null if none)."""
    if compound is None:
        return []
    return [
        segment(
            "RXC",
            {
                1: "A",
                2: components(i.product_id, i.name, "NDC" if i.id_kind is IngredientIdKind.NDC else None),
                3: number(i.quantity),
                4: components(i.unit) if i.unit else NULL,
            },
        )
        for i in compound.ingredients
    ]


def assemble(header: MessageHeader, code: str, trigger: str, structure: str, body: list[str | None]) -> bytes:
    """MSH plus the body segments that exist; MSH-18 declares UTF-8 only when some text is not ASCII."""
    segments = [s for s in body if s]
    first = msh(header, code, trigger, structure, utf8=False)
    if not all(s.isascii() for s in [first, *segments]):
        first = msh(header, code, trigger, structure, utf8=True)
    return message([first, *segments])
