"""Built messages, read back by two other parsers: python-hl7 always, hl7apy strict where it can judge."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import hl7
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.hl7.outbound.dispense_messages import build_dispense, dispense_type
from adapters.hl7.outbound.encoded_order_messages import build_encoded_order
from adapters.hl7.outbound.message_inputs import (
    Dispense,
    EncodedOrder,
    MessageHeader,
    OrderRef,
    OrderStatus,
    StatusUpdate,
)
from adapters.hl7.outbound.status_messages import build_status_update
from adapters.hl7.parsing import parse_message
from hub.domain.lots import Pick
from hub.domain.order_context import Pharmacist
from hub.domain.order_parts import DrugInfo, Identifier, Setting
from tests.support.hl7_strict import strict as _strict
from tests.unit.hl7_outbound import pipeline
from tests.unit.hl7_outbound.samples import AT

VERSIONS = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"]
DRUG = DrugInfo(ndc="00071015523", text="Atorvastatin 10 mg tablet", route="PO")
ORDER = OrderRef(
    placer_order_number="PL-9", placer_system="CLINIC", rx_number="RX-1", setting=Setting.INPATIENT, drug=DRUG
)
#: the sample inpatient order's stored record, as the mapping reads it at send time
CONTEXT = pipeline.received(pipeline.StoredRecords())[0].order_context()
PHARMACIST = Pharmacist(user_id="ph-7", family_name="Pharmacist", given_name="Robin", licence="RPH-0001")
PICKS = (
    Pick(lot="LOT-A", expiry=date(2026, 1, 31), quantity=Decimal(20)),
    Pick(lot="LOT-B", expiry=date(2026, 6, 30), quantity=Decimal(8)),
)


def _header(version: str) -> MessageHeader:
    return MessageHeader(
        sending_application="RXHUB",
        sending_facility="PHARM",
        receiving_application="EHR",
        receiving_facility="CLINIC",
        version=version,
        control_id="0F8FAD5BD9CB469FA165",
        created_at=AT,
    )


def _status(version: str, status: OrderStatus = OrderStatus.REFUSED, reason: str | None = "Dose | too high") -> bytes:
    return build_status_update(_header(version), StatusUpdate(order=ORDER, status=status, reason=reason, changed_at=AT))


def _dispense(version: str, owed: Decimal | None = Decimal(2), fill_number: int = 0) -> bytes:
    return build_dispense(
        _header(version),
        Dispense(
            order=ORDER,
            fill_number=fill_number,
            ndc="00071015523",
            quantity=Decimal("28"),
            unit="TAB",
            picks=PICKS,
            dispensed_at=AT,
            pharmacist_id="ph-7",
            pharmacist=PHARMACIST,
            owed=owed,
            refills_remaining=2,
            route="PO",
        ),
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_status_update_reads_back_with_python_hl7(version: str) -> None:
    msg = hl7.parse(_status(version).decode())
    code = "OMP" if version in ("2.7", "2.8") else "ORM"
    assert str(msg.segment("MSH")[9][0][0]) == code
    assert str(msg.segment("MSH")[10]) == "0F8FAD5BD9CB469FA165"
    assert str(msg.segment("MSH")[12]) == version
    orc = msg.segment("ORC")
    assert (str(orc[1]), str(orc[2][0][0]), str(orc[3][0][0]), str(orc[5])) == ("OC", "PL-9", "RX-1", "CA")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("status", list(OrderStatus))
def test_status_updates_pass_hl7apy_strict_validation(version: str, status: OrderStatus) -> None:
    _strict(_status(version, status))


@pytest.mark.parametrize(
    ("status", "orc1", "orc5"),
    [
        (OrderStatus.ACCEPTED, "SC", "SC"),
        (OrderStatus.IN_PROGRESS, "SC", "IP"),
        (OrderStatus.ON_HOLD, "OH", "HD"),
        (OrderStatus.RELEASED, "OE", "IP"),
        (OrderStatus.CANCELLED, "OC", "CA"),
        (OrderStatus.DISCONTINUED, "OD", "DC"),
        (OrderStatus.REFUSED, "OC", "CA"),
        (OrderStatus.COMPLETED, "SC", "CM"),
    ],
)
def test_each_status_has_its_order_control_and_status(status: OrderStatus, orc1: str, orc5: str) -> None:
    orc = parse_message(_status("2.5.1", status, None)).first("ORC")
    assert orc is not None and (orc.get(1), orc.get(5)) == (orc1, orc5)


def test_refusal_reason_is_escaped_into_orc_16() -> None:
    raw = _status("2.5.1")
    assert b"^Dose \\F\\ too high" in raw
    orc = parse_message(raw).first("ORC")
    assert orc is not None and orc.get(16, 2) == "Dose | too high"
    assert orc.get(29) == "I"


def test_non_ascii_text_declares_utf8() -> None:
    raw = _status("2.5.1", reason="Dosis überschritten")
    parsed = parse_message(raw)
    assert parsed.header.charset == "UNICODE UTF-8"
    assert parsed.get("ORC", 16, 2) == "Dosis überschritten"
    assert parse_message(_status("2.5.1")).header.charset == ""


@pytest.mark.parametrize("version", VERSIONS)
def test_dispense_reads_back_with_python_hl7(version: str) -> None:
    msg = hl7.parse(_dispense(version).decode())
    trigger = "O01" if version in ("2.3", "2.3.1") else "O13"
    assert str(msg.segment("MSH")[9][0][1]) == trigger
    rxd = msg.segment("RXD")
    assert str(rxd[1]) == "1"
    assert (str(rxd[2][0][0]), str(rxd[2][0][2])) == ("00071015523", "NDC")
    assert (str(rxd[4]), str(rxd[7]), str(rxd[8]), str(rxd[10][0][0])) == ("28", "RX-1", "2", "RPH-0001")
    assert str(rxd[10][0][1]) == "Pharmacist", "the pharmacist as a person, never our internal user id"
    assert [str(r) for r in rxd[18]] == ["LOT-A", "LOT-B"]
    assert [str(r) for r in rxd[19]] == ["20260131", "20260630"]
    assert str(msg.segment("ORC")[1]) == "RE"
    assert str(msg.segment("RXR")[1]) == "PO"


@pytest.mark.parametrize("version", VERSIONS)
def test_dispenses_pass_hl7apy_strict_validation(version: str) -> None:
    _strict(_dispense(version))


def test_partial_fill_is_in_process_with_a_partial_dispense_type() -> None:
    partial = parse_message(_dispense("2.5.1", owed=Decimal(2)))
    full = parse_message(_dispense("2.5.1", owed=Decimal(0), fill_number=1))
    assert (partial.get("ORC", 5), partial.get("RXD", 33)) == ("IP", "P")
    assert (full.get("ORC", 5), full.get("RXD", 33), full.get("RXD", 1)) == ("CM", "R", "2")
    assert parse_message(_dispense("2.4")).get("RXD", 33) == ""  # RXD-33 exists from v2.5


@pytest.mark.parametrize(
    ("fill", "owed", "code"),
    [(0, None, ""), (0, Decimal(0), "N"), (0, Decimal(1), "P"), (3, Decimal(0), "R"), (3, Decimal("0.5"), "Q")],
)
def test_dispense_type(fill: int, owed: Decimal | None, code: str) -> None:
    assert dispense_type(fill, owed) == code


@pytest.mark.parametrize("version", VERSIONS)
def test_encoded_order_structure(version: str) -> None:
    order = ORDER.model_copy(update={"context": CONTEXT, "patient_identifiers": CONTEXT.patient.identifiers})
    raw = build_encoded_order(
        _header(version),
        EncodedOrder(order=order, ndc="00071015523", verifier_id="ph-7", verified_at=AT, pharmacist=PHARMACIST),
    )
    msg = hl7.parse(raw.decode())
    ids = [str(s[0]) for s in msg]
    # v2.5+ needs the TQ1 after RXE; hl7apy misfiles it into the ORC timing group, so the order is checked here
    body = ["ORC", "RXE", "TQ1", "RXR"] if version >= "2.5" else ["ORC", "RXE", "RXR"]
    assert ids == ["MSH", "PID", "PV1", *body]
    rxe = msg.segment("RXE")
    assert (str(rxe[2][0][0]), str(rxe[3]), str(rxe[5]), str(rxe[14][0][0]), str(rxe[15])) == (
        "00071015523",
        "1",
        "TAB",
        "RPH-0001",
        "RX-1",
    )
    assert (str(rxe[7][0][1]), str(rxe[10]), str(rxe[11]), str(rxe[16])) == (
        "Take 1 tablet by mouth daily",
        "30",
        "TAB",
        "0",
    )
    frequency = str(msg.segment("TQ1")[3]) if version >= "2.5" else str(rxe[1][0][1])
    assert frequency == "QD"
    assert str(msg.segment("ORC")[1]) == "NW"


def test_pid_carries_every_identifier_when_known() -> None:
    order = ORDER.model_copy(
        update={
            "patient_identifiers": (
                Identifier(value="MRN1", system="HOSP", type_code="MR"),
                Identifier(value="77", type_code="PI"),
            )
        }
    )
    raw = build_status_update(_header("2.5.1"), StatusUpdate(order=order, status=OrderStatus.ACCEPTED, changed_at=AT))
    pid = parse_message(raw).first("PID")
    assert pid is not None
    assert pid.raw(3) == "MRN1^^^HOSP^MR~77^^^^PI"


def test_the_same_input_builds_the_same_bytes() -> None:
    assert _dispense("2.5.1") == _dispense("2.5.1")


@given(st.text(min_size=1, max_size=200))
def test_any_reason_survives_the_round_trip(reason: str) -> None:
    raw = _status("2.5.1", reason=reason)
    assert b"\x0b" not in raw and b"\x1c" not in raw
    parsed = parse_message(raw)
    assert len(parsed.all("ORC")) == 1
    # control characters become spaces; everything else comes back as written
    expected = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in reason)
    assert parsed.get("ORC", 16, 2) == expected
