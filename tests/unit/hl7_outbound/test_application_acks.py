"""Application acknowledgements answer the placer's order message in its own structure, quoting its MSH-10."""

from __future__ import annotations

from datetime import UTC, datetime

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from adapters.hl7.outbound.application_acks import answers, build_application_ack, build_application_reject
from adapters.hl7.outbound.message_inputs import MessageHeader, OrderRef
from hub.domain.order_parts import Identifier, ReplyTo

ORDER = OrderRef(
    placer_order_number="PLC1",
    placer_system="EHR",
    rx_number="1000001",
    patient_identifiers=(Identifier(value="MRN1", system="GENHOSP", type_code="MR"),),
)


def _header(version: str) -> MessageHeader:
    return MessageHeader(
        sending_application="RXHUB",
        sending_facility="PHARMACY",
        receiving_application="EHR",
        receiving_facility="GENHOSP",
        version=version,
        control_id="AAK1",
        created_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("order", "answer", "version"),
    [
        (("RDE", "O11"), "RRE^O12^RRE_O12", "2.5.1"),
        (("OMP", "O09"), "ORP^O10^ORP_O10", "2.5.1"),
        (("ORM", "O01"), "ORR^O02^ORR_O02", "2.4"),
        (("RDE", "O01"), "RRE^O02^RRE_O02", "2.3.1"),
    ],
)
def test_answer_quotes_the_order_message(order: tuple[str, str], answer: str, version: str) -> None:
    reply = ReplyTo(
        control_id="ORDER-42", message_type=order[0], trigger_event=order[1], version=version, application_ack_type="AL"
    )
    raw = build_application_ack(_header(version), ORDER, reply)
    assert raw is not None
    message = hl7.parse(raw.decode())
    assert str(message.segment("MSH")[9]) == answer
    assert str(message.segment("MSA")[1]) == "AA" and str(message.segment("MSA")[2]) == "ORDER-42"
    orc = message.segment("ORC")
    assert (str(orc[1]), str(orc[2][0][0]), str(orc[3][0][0])) == ("OK", "PLC1", "1000001")
    assert "MRN1" in str(message.segment("PID"))


def test_rre_o12_passes_hl7apy_strict_validation() -> None:
    reply = ReplyTo(
        control_id="ORDER-42", message_type="RDE", trigger_event="O11", version="2.5.1", application_ack_type="AL"
    )
    raw = build_application_ack(_header("2.5.1"), ORDER, reply)
    assert raw is not None
    parsed = parse_message(raw.decode().replace("\n", "\r"), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert parsed.msa.msa_2.value == "ORDER-42"


def test_an_unknown_order_type_gets_no_answer() -> None:
    reply = ReplyTo(control_id="X", message_type="ADT", trigger_event="A01", version="2.5.1", application_ack_type="AL")
    assert build_application_ack(_header("2.5.1"), ORDER, reply) is None


@pytest.mark.parametrize(
    ("condition", "on_success", "on_error"),
    [
        ("AL", True, True),
        ("SU", True, False),
        ("ER", False, True),
        ("NE", False, False),
        ("XX", True, True),
    ],
)
def test_msh16_decides_which_outcomes_are_answered(condition: str, on_success: bool, on_error: bool) -> None:
    reply = ReplyTo(
        control_id="C", message_type="RDE", trigger_event="O11", version="2.5.1", application_ack_type=condition
    )
    assert (answers(reply, success=True), answers(reply, success=False)) == (on_success, on_error)


def test_a_refused_order_is_answered_ae_with_err_205_and_orc_ua() -> None:
    reply = ReplyTo(
        control_id="ORDER-43", message_type="RDE", trigger_event="O11", version="2.5.1", application_ack_type="ER"
    )
    unaccepted = ORDER.model_copy(update={"rx_number": None})
    raw = build_application_reject(
        _header("2.5.1"),
        unaccepted,
        reply,
        "duplicate-order",
        "refused: duplicate order: placer number EHR|PLC1 is already held by Rx 1000001",
    )
    assert raw is not None
    message = hl7.parse(raw.decode())
    assert str(message.segment("MSH")[9]) == "RRE^O12^RRE_O12"
    assert (str(message.segment("MSA")[1]), str(message.segment("MSA")[2])) == ("AE", "ORDER-43")
    err = message.segment("ERR")
    assert str(err[3]) == "205^Duplicate key identifier^HL70357" and str(err[4]) == "E"
    assert "already held by Rx 1000001" in str(err[8])
    orc = message.segment("ORC")
    assert (str(orc[1]), str(orc[2][0][0]), str(orc[3])) == ("UA", "PLC1", "")
    parsed = parse_message(raw.decode(), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert parsed.msa.msa_1.value == "AE"


def test_a_refused_order_before_v25_says_why_in_msa_and_an_eld() -> None:
    reply = ReplyTo(
        control_id="OLD-1", message_type="RDE", trigger_event="O01", version="2.3.1", application_ack_type="AL"
    )
    raw = build_application_reject(_header("2.3.1"), ORDER, reply, "duplicate-order", "refused: duplicate order")
    assert raw is not None
    message = hl7.parse(raw.decode())
    msa = message.segment("MSA")
    assert (str(msa[1]), str(msa[2]), str(msa[3])) == ("AE", "OLD-1", "refused: duplicate order")
    assert str(msa[6]).startswith("205")
    assert "205&Duplicate key identifier&HL70357" in str(message.segment("ERR")[1])
