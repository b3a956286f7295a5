"""The switch simulator's run-time knobs: the payer journal outlives the process, the control file changes a
running switch's faults, and a primary and a failover listener share one payer."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from adapters.ncpdp.payer import load_payer_config
from adapters.ncpdp.payer.config import PayerConfig
from adapters.ncpdp.payer_link import D0ClaimCodec
from adapters.ncpdp.payer_link.responses import read_answer
from adapters.ncpdp.switch import Fault, Framing, SwitchSimulator, frame, read_frame
from adapters.ncpdp.switch.payer_journal import JournaledPayer, LockedPayer, read_journal
from adapters.ncpdp.switch.sim_control import SimControl, read_state
from hub.config import DATA_DIR
from hub.domain.claim_exchange import ClaimTransaction
from tests.unit.ncpdp_payer_link.claim_data import claim

CONFIG = DATA_DIR / "payer-sim.json"


def _config() -> PayerConfig:
    return load_payer_config(CONFIG)


def _b1() -> bytes:
    return D0ClaimCodec().encode(claim("rx-knob")).body


def _b2() -> bytes:
    return D0ClaimCodec().encode(claim("rx-knob", transaction=ClaimTransaction.REVERSAL)).body


def _status(payer: JournaledPayer | LockedPayer, body: bytes, transaction: str) -> str:
    response = payer.answer(body).response
    assert response is not None
    return read_answer(response, transaction).status


def test_the_payer_remembers_a_paid_claim_across_a_restart(tmp_path: Path) -> None:
    journal = tmp_path / "payer.jsonl"
    first = JournaledPayer(_config(), journal)
    assert _status(first, _b1(), "B1") == "P"
    first.close()
    with journal.open("a") as torn:  # a kill in the middle of a line
        torn.write('{"request": "QUJD')
    again = JournaledPayer(_config(), journal)
    assert again.replayed == 1
    assert _status(again, _b1(), "B1") == "D"  # a duplicate of the paid claim, not a second payment
    assert _status(again, _b2(), "B2") == "A"
    again.close()
    assert [e.summary.split(": ")[-1] for e in read_journal(journal)] == ["F1=A P", "F1=A D", "F1=A A"]


def test_without_a_journal_a_new_payer_knows_nothing() -> None:
    assert _status(LockedPayer(_config()), _b2(), "B2") == "R"


def test_the_control_file_takes_the_primary_down_and_the_failover_answers(tmp_path: Path) -> None:
    payer = LockedPayer(_config())
    primary = SwitchSimulator(_config(), payer=payer, name="primary")
    failover = SwitchSimulator(_config(), payer=payer, name="failover")
    control_file = tmp_path / "control.json"
    control = SimControl(control_file, [primary, failover])
    primary.start()
    failover.start()
    try:
        control_file.write_text(json.dumps({"seq": 1, "switches": {"primary": {"fault": "down"}}}))
        control.poll()
        assert read_state(control_file)["seq"] == 1 and not primary.listening
        assert _exchange(failover.port, _b1()) is not None
        control_file.write_text(json.dumps({"seq": 2, "switches": {"primary": {"fault": "drop", "times": 1}}}))
        control.poll()
        assert primary.listening
        assert _exchange(primary.port, _b2()) is None  # decided (reversed), then the connection dropped
        assert _exchange(primary.port, _b2()) is not None  # the fault hit one claim only
        control.poll()
        state = read_state(control_file)["switches"]
        assert state["primary"]["fault"] == "none" and state["primary"]["dropped"] == 1
        assert (primary.adjudicated, failover.adjudicated) == (2, 1)
    finally:
        primary.stop()
        failover.stop()


def test_a_late_switch_answers_after_the_given_time(tmp_path: Path) -> None:
    primary = SwitchSimulator(_config(), name="primary")
    control_file = tmp_path / "control.json"
    control = SimControl(control_file, [primary])
    primary.start()
    try:
        control_file.write_text(json.dumps({"seq": 1, "switches": {"primary": {"fault": "late", "late_ms": 2000}}}))
        control.poll()
        assert primary.fault is Fault.LATE
        assert _exchange(primary.port, _b1(), timeout_s=0.3) is None
        assert primary.late_answers == 1
    finally:
        primary.stop()


def _exchange(port: int, body: bytes, timeout_s: float = 5.0) -> bytes | None:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(frame(Framing.STX_ETX, body))
        try:
            return read_frame(sock, Framing.STX_ETX)
        except OSError:
            return None
