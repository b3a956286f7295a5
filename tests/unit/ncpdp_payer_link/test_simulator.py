"""PayerSimulator's failure knobs (drop_every, no_answer, delay_ms) over real D.0, without a broker."""

from __future__ import annotations

from decimal import Decimal

from adapters.ncpdp.d0 import parse_response, read_claim_response
from adapters.ncpdp.payer import DrugRule, PayerConfig, load_payer_config
from adapters.ncpdp.payer_link import D0ClaimCodec, PayerSimulator
from hub.config import DATA_DIR
from hub.domain.claim_exchange import ClaimTransaction
from tests.unit.ncpdp_payer_link.claim_data import AMOXICILLIN, SIM_BIN, claim

DATA_FILE = DATA_DIR / "payer-sim.json"
SILENT_NDC = "00000000011"
CODEC = D0ClaimCodec()


def config(**changes: object) -> PayerConfig:
    drugs = {
        AMOXICILLIN: DrugRule(unit_cost=Decimal("0.12"), dispensing_fee=Decimal("1.75"), copay=Decimal("5")),
        SILENT_NDC: DrugRule(unit_cost=Decimal("1"), no_answer=True),
    }
    return PayerConfig.model_validate({"bins": [SIM_BIN], "drugs": drugs, **changes})


def status_of(body: bytes | None) -> str:
    assert body is not None
    return read_claim_response(parse_response(body)).transactions[0].status.transaction_status


def test_the_shipped_data_file_loads_and_answers_without_delay_or_drops() -> None:
    simulator = PayerSimulator(load_payer_config(DATA_FILE))
    assert simulator.delay_s == 0
    assert all(simulator.answer(CODEC.encode(claim(f"rx-{n}", rx_number=f"70{n}")).body).response for n in range(5))


def test_drop_every_loses_every_nth_answer_after_the_payer_decided() -> None:
    simulator = PayerSimulator(config(drop_every=2))
    first = simulator.answer(CODEC.encode(claim("rx-1", rx_number="1")).body)
    second = simulator.answer(CODEC.encode(claim("rx-2", rx_number="2")).body)
    assert status_of(first.response) == "P"
    assert second.response is None and "dropped" in second.summary
    # the dropped claim was paid all the same: resending it is a duplicate, reversing it is approved
    again = simulator.answer(CODEC.encode(claim("rx-2", rx_number="2", attempt=2)).body)
    assert status_of(again.response) == "D"
    reversal = simulator.answer(CODEC.encode(claim("rx-2", rx_number="2", transaction=ClaimTransaction.REVERSAL)).body)
    assert reversal.response is None, "the fourth message is dropped too"


def test_no_answer_ndc_is_never_answered_nor_decided() -> None:
    simulator = PayerSimulator(config())
    silent = simulator.answer(CODEC.encode(claim(ndc=SILENT_NDC)).body)
    assert silent.response is None and "no_answer" in silent.summary
    reversal = simulator.answer(CODEC.encode(claim(ndc=AMOXICILLIN, transaction=ClaimTransaction.REVERSAL)).body)
    assert read_claim_response(parse_response(reversal.response or b"")).transactions[0].status.reject_codes == (
        "87",
    ), "nothing was paid, so nothing to reverse"


def test_unreadable_claim_gets_a_transmission_reject_and_a_log_line_without_content() -> None:
    outcome = PayerSimulator(config()).answer(b"not a claim SAMPLE ALEX")
    assert outcome.response is not None
    assert read_claim_response(parse_response(outcome.response)).header_response_status == "R"
    assert "SAMPLE" not in outcome.summary


def test_summary_names_transaction_bin_and_status_only() -> None:
    outcome = PayerSimulator(config()).answer(CODEC.encode(claim()).body)
    assert outcome.summary == "B1 BIN 999001: F1=A P"
    assert "Sample" not in outcome.summary and "SYN000111" not in outcome.summary


def test_delay_is_read_from_the_config() -> None:
    assert PayerSimulator(config(delay_ms=250)).delay_s == 0.25
