"""Every kind of claim the hub sends, through the switch connector and a simulated switch over real TCP, to the
simulated payer: a B1 paid whole, its part rebilled as a B3 with 343-HD P, the rest as a B1 with 343-HD C, a
Schedule II B1 with 460-ET, a secondary's B1 with its AM05, a B2, an E1. Each is checked twice: by the answer
that came back, and field by field in the bytes the switch received (standards.md, D.0)."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.ncpdp.payer_link import claim_properties
from adapters.ncpdp.switch import Framing, SwitchSimulator
from adapters.ncpdp.switch.simulator import Payer
from hub.domain.claim_exchange import ClaimTransaction, OtherPayment
from hub.domain.eligibility import EligibilityRequestData
from hub.messaging.async_publisher import OutgoingMessage
from hub.persistence.claims import ClaimLedger
from tests.integration.switch.conftest import endpoint, route
from tests.integration.switch.test_switch_connector import StartLink, StartSwitch
from tests.unit.claims_complete.test_encoded_fields import raw_fields
from tests.unit.ncpdp_payer_link.claim_data import HYDROCODONE, PHARMACY_NPI, SIM_BIN, claim

SECONDARY_BIN = "999003"


class RecordingPayer:
    """The switch's payer, keeping every request's bytes as the switch received them off the wire."""

    def __init__(self, real: Payer) -> None:
        self.real = real
        self.requests: list[bytes] = []
        self._lock = threading.Lock()

    def answer(self, request: bytes, **kw: Any) -> Any:
        with self._lock:
            self.requests.append(request)
        return self.real.answer(request, **kw)


def _recording(switch: SwitchSimulator) -> RecordingPayer:
    recorder = RecordingPayer(switch._payer)
    switch._payer = recorder  # type: ignore[assignment]
    return recorder


def test_every_claim_type_through_a_switch(start_switch: StartSwitch, start_link: StartLink) -> None:
    switch = start_switch(framing=Framing.LENGTH_PREFIX)
    payer = _recording(switch)
    link = start_link({"switches": [endpoint("a", switch)], "routes": [route("a"), route("a", bin_=SECONDARY_BIN)]})
    rx = f"rx-{uuid.uuid4().hex[:8]}"
    whole = {"quantity_intended": Decimal("30"), "days_supply_intended": 10}

    paid = link.exchange(claim(rx, quantity=Decimal("30"), days_supply=10))
    part = link.exchange(
        claim(
            rx,
            attempt=2,
            transaction=ClaimTransaction.REBILL,
            dispensing_status="P",
            quantity=Decimal("12"),
            days_supply=4,
            **whole,
        )
    )
    rest = link.exchange(
        claim(
            rx,
            attempt=3,
            dispensing_status="C",
            quantity=Decimal("18"),
            days_supply=6,
            associated_rx_number="7000001",
            associated_date=date(2026, 3, 1),
            date_of_service=date(2026, 3, 3),
            **whole,
        )
    )
    cii = link.exchange(
        claim(
            f"{rx}-cii",
            rx_number="7000002",
            ndc=HYDROCODONE,
            schedule="2",
            quantity=Decimal("20"),
            quantity_prescribed=Decimal("20"),
            origin_code="1",
        )
    )
    primary = OtherPayment(sequence=1, bin=SIM_BIN, answered_on=date(2026, 3, 1), amount_paid=Decimal("4.85"))
    secondary = link.exchange(claim(f"{rx}-cob", rx_number="7000003", bin=SECONDARY_BIN, other_payments=(primary,)))
    reversal = link.exchange(
        claim(
            rx,
            attempt=4,
            transaction=ClaimTransaction.REVERSAL,
            dispensing_status="C",
            quantity=Decimal("18"),
            associated_rx_number="7000001",
            associated_date=date(2026, 3, 1),
            date_of_service=date(2026, 3, 3),
        )
    )
    eligibility = _eligibility(link, rx)

    answers = [(a.transaction, a.status) for a in (paid, part, rest, cii, secondary, reversal)]
    assert answers == [("B1", "P"), ("B3", "P"), ("B1", "P"), ("B1", "P"), ("B1", "P"), ("B2", "A")]
    assert (eligibility.transaction, eligibility.status) == ("E1", "A")

    sent = payer.requests
    assert [body[8:10] for body in sent] == [b"B1", b"B3", b"B1", b"B1", b"B1", b"B2", b"E1"]
    am07 = [raw_fields(body, "07") for body in sent[:6]]
    assert (am07[1]["HD"], am07[1]["E7"], am07[1]["HF"], am07[1]["HG"]) == (["P"], ["12000"], ["30000"], ["10"])
    assert (am07[2]["HD"], am07[2]["E7"], am07[2]["EN"], am07[2]["EP"]) == (["C"], ["18000"], ["7000001"], ["20260301"])
    assert (am07[3]["ET"], am07[3]["DJ"]) == (["20000"], ["1"]), "460-ET and 419-DJ on a Schedule II claim"
    assert "ET" not in am07[0], "460-ET only where the law asks for it"
    cob = raw_fields(sent[4], "05")
    assert (cob["4C"], cob["5C"], cob["7C"], cob["DV"]) == (["1"], ["01"], [SIM_BIN], ["48E"]), (
        "431-DV 4.85 in signed overpunch"
    )
    assert sent[4][:6].decode() == SECONDARY_BIN and raw_fields(sent[4], "07")["C8"] == ["2"]
    assert am07[5]["D2"] == ["7000001"] and am07[5]["HD"] == ["C"]
    assert link.events(rx) == [("transmitting", "a"), ("answered", "a")] * 5, "each in the ledger's wire log"


def _eligibility(link: Any, rx: str) -> Any:
    """An E1 as the eligibility step sends it: its ledger row, then the message on the payer exchange."""
    exchange_id = f"{rx}:0:1:E1"
    request = EligibilityRequestData(
        exchange_id=exchange_id,
        bin=SIM_BIN,
        pcn="RXHUBSIM",
        group_id="GRP01",
        cardholder_id="SYN000111",
        person_code="001",
        relationship="1",
        patient=claim().patient,
        pharmacy_npi=PHARMACY_NPI,
        date_of_service=date(2026, 3, 1),
    )
    with link.engine.begin() as conn:
        ClaimLedger(conn).sent(
            exchange_id=exchange_id,
            prescription_id=rx,
            fill_number=0,
            attempt=1,
            transaction="E1",
            purpose="eligibility",
            resends=0,
        )
    encoded = link.codec.encode_eligibility(request)
    props = claim_properties(exchange_id, uuid.uuid4(), link.topology.payer_responses_queue, str(uuid.uuid4()))
    link.claims.publish(OutgoingMessage(link.topology.payer_exchange, encoded.routing_key, encoded.body, props))
    answer = link.next_answer()
    assert answer is not None and answer.exchange_id == exchange_id
    return answer
