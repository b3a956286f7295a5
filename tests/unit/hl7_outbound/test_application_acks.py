"""Application acknowledgements answer the placer's order message in its own structure, quoting its MSH-10."""

from __future__ import annotations

from datetime import UTC, datetime

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from adapters.hl7.outbound.application_acks import build_application_ack
from adapters.hl7.outbound.message_inputs import MessageHeader, OrderRef
from hub.domain.order_parts import Identifier, ReplyTo

ORDER = OrderRef(placer_order_number="PLC1", placer_system="EHR", rx_number="1000001",
                 patient_identifiers=(Identifier(value="MRN1", system="GENHOSP", type_code="MR"),))


def _header(version: str) -> MessageHeader:
    return MessageHeader(sending_application="RXHUB", sending_facility="PHARMACY", receiving_application="EHR",
                         receiving_facility="GENHOSP", version=version, control_id="AAK1",
                         created_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize(("order", "answer", "version"), [
    (("RDE", "O11"), "RRE^O12^RRE_O12", "2.5.1"),
    (("OMP", "O09"), "ORP^O10^ORP_O10", "2.5.1"),
    (("ORM", "O01"), "ORR^O02^ORR_O02", "2.4"),
    (("RDE", "O01"), "RRE^O02^RRE_O02", "2.3.1"),
])
def test_answer_quotes_the_order_message(order: tuple[str, str], answer: str, version: str) -> None:
    reply = ReplyTo(control_id="ORDER-42", message_type=order[0], trigger_event=order[1], version=version,
                    application_ack_type="AL")
    raw = build_application_ack(_header(version), ORDER, reply)
    assert raw is not None
    message = hl7.parse(raw.decode())
    assert str(message.segment("MSH")[9]) == answer
    assert str(message.segment("MSA")[1]) == "AA" and str(message.segment("MSA")[2]) == "ORDER-42"
    orc = message.segment("ORC")
    assert (str(orc[1]), str(orc[2][0][0]), str(orc[3][0][0])) == ("OK", "PLC1", "1000001")
    assert "MRN1" in str(message.segment("PID"))


def test_rre_o12_passes_hl7apy_strict_validation() -> None:
    reply = ReplyTo(control_id="ORDER-42", message_type="RDE", trigger_event="O11", version="2.5.1",
                    application_ack_type="AL")
    raw = build_application_ack(_header("2.5.1"), ORDER, reply)
    assert raw is not None
    parsed = parse_message(raw.decode().replace("\n", "\r"), validation_level=VALIDATION_LEVEL.STRICT,
                           find_groups=True)
    assert parsed.msa.msa_2.value == "ORDER-42"


def test_an_unknown_order_type_gets_no_answer() -> None:
    reply = ReplyTo(control_id="X", message_type="ADT", trigger_event="A01", version="2.5.1",
                    application_ack_type="AL")
    assert build_application_ack(_header("2.5.1"), ORDER, reply) is None
