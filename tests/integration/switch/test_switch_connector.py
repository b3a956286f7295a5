"""Claims through the switch connector to simulated switches over real TCP: paid, rejected, reversed, both
framings, TLS, a switch that drops the connection, answers late or is down (failover)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from adapters.ncpdp.switch import Fault, Framing, SwitchSimulator
from hub.domain.claim_exchange import ClaimTransaction
from hub.persistence.claims import ClaimLedger, WireEvent
from hub.security.certs import write_dev_certificates
from hub.security.tls import server_context
from tests.integration.switch.conftest import endpoint, route
from tests.integration.switch.link import SwitchLink
from tests.support.waiting import eventually
from tests.unit.ncpdp_payer_link.claim_data import ADALIMUMAB, claim

StartSwitch = Callable[..., SwitchSimulator]


def _counted(switch: str, outcome: str) -> float:
    """rxhub_switch_transmissions_total for one switch and outcome, in this process."""
    return REGISTRY.get_sample_value("rxhub_switch_transmissions_total", {"switch": switch, "outcome": outcome}) or 0.0


StartLink = Callable[[dict[str, Any]], SwitchLink]


@pytest.mark.parametrize("framing", list(Framing))
def test_paid_rejected_reversed_and_rebilled_through_a_switch(
    start_switch: StartSwitch, start_link: StartLink, framing: Framing
) -> None:
    switch = start_switch(framing=framing)
    link = start_link({"switches": [endpoint("a", switch)], "routes": [route("a")]})
    paid = link.exchange(claim("rx-paid"))
    assert (paid.status, paid.authorization_number) == ("P", "SIM000000001")
    rejected = link.exchange(claim("rx-70", rx_number="7070", ndc=ADALIMUMAB))
    assert (rejected.status, rejected.reject_codes) == ("R", ("70",))
    reversed_ = link.exchange(claim("rx-paid", transaction=ClaimTransaction.REVERSAL))
    assert (reversed_.transaction, reversed_.status) == ("B2", "A")
    rebilled = link.exchange(claim("rx-paid", attempt=2, transaction=ClaimTransaction.REBILL))
    assert (rebilled.transaction, rebilled.status) == ("B3", "P")
    assert link.events("rx-paid") == [("transmitting", "a"), ("answered", "a")] * 3
    assert switch.adjudicated == switch.answered == 4


def test_a_tls_route(start_switch: StartSwitch, start_link: StartLink, tmp_path: Path) -> None:
    pki = write_dev_certificates(tmp_path)
    switch = start_switch(tls=server_context(pki.server_cert, pki.server_key))
    link = start_link(
        {"switches": [endpoint("secure", switch, tls=True, ca_file=str(pki.ca))], "routes": [route("secure")]}
    )
    assert link.exchange(claim("rx-tls")).status == "P"
    assert link.events("rx-tls") == [("transmitting", "secure"), ("answered", "secure")]


def test_a_switch_that_is_down_fails_over(start_switch: StartSwitch, start_link: StartLink) -> None:
    down, backup = start_switch(), start_switch(framing=Framing.LENGTH_PREFIX)
    link = start_link({"switches": [endpoint("a", down), endpoint("b", backup)], "routes": [route("a", "b")]})
    down.go_down()
    before = _counted("a", "unreachable"), _counted("b", "answered")
    assert link.exchange(claim("rx-failover")).status == "P"
    assert (_counted("a", "unreachable"), _counted("b", "answered")) == (before[0] + 1, before[1] + 1)
    assert [e for e, _ in link.events("rx-failover")] == ["transmitting", "unreachable", "failover", "answered"]
    assert link.events("rx-failover")[-1] == ("answered", "b")
    assert down.adjudicated == 0 and backup.adjudicated == 1


def test_no_switch_reachable_is_a_92_the_hub_resends(start_switch: StartSwitch, start_link: StartLink) -> None:
    down = start_switch()
    link = start_link({"switches": [endpoint("a", down)], "routes": [route("a")]})
    down.go_down()
    answer = link.exchange(claim("rx-nowhere"))
    assert (answer.status, answer.reject_codes) == ("R", ("92",)), "a transient reject: resent, never reversed"


@pytest.mark.parametrize("fault", [Fault.DROP, Fault.LATE])
def test_sent_and_unanswered_is_left_to_the_status_unknown_path(
    start_switch: StartSwitch, start_link: StartLink, fault: Fault
) -> None:
    switch = start_switch(fault=fault, late_ms=5000, fault_times=1)
    backup = start_switch()
    link = start_link(
        {"switches": [endpoint("a", switch, answer_timeout_ms=500), endpoint("b", backup)], "routes": [route("a", "b")]}
    )
    link.send(claim("rx-lost"))
    eventually(lambda: "no-answer" in [e for e, _ in link.events("rx-lost")] or None, "the no-answer note")
    assert [e for e, _ in link.events("rx-lost")] == ["transmitting", "no-answer"]
    assert switch.adjudicated == 1, "the payer decided (and paid)"
    assert backup.adjudicated == 0, "never sent to a second switch: that could bill twice"
    # the hub's payer timeout then reverses it (B2) before any resubmission; the switch answers again
    reversal = link.exchange(claim("rx-lost", transaction=ClaimTransaction.REVERSAL))
    assert (reversal.exchange_id, reversal.status) == ("rx-lost:0:1:B2", "A")
    assert link.exchange(claim("rx-lost", attempt=2)).status == "P"


def test_a_duplicate_publish_reaches_the_payer_once(start_switch: StartSwitch, start_link: StartLink) -> None:
    switch = start_switch()
    link = start_link({"switches": [endpoint("a", switch)], "routes": [route("a")]})
    message_id = link.send(claim("rx-dup"))
    assert link.next_answer() is not None
    link.publish(claim("rx-dup"), message_id)  # the same outbox row published a second time
    eventually(lambda: "dropped" in [e for e, _ in link.events("rx-dup")] or None, "the duplicate's note")
    assert switch.adjudicated == 1
    assert [n.detail for n in link.notes("rx-dup") if n.event == "dropped"] == [
        "duplicate: this message was already transmitted"
    ]


def test_a_stale_reversal_never_undoes_the_newer_paid_claim(start_switch: StartSwitch, start_link: StartLink) -> None:
    """The chaos run's case: B1 paid (answer lost), B2 approved, B1 attempt 2 paid, then an old B2 copy."""
    switch = start_switch()
    link = start_link({"switches": [endpoint("a", switch)], "routes": [route("a")]})
    assert link.exchange(claim("rx-stale")).status == "P"
    reversal = claim("rx-stale", transaction=ClaimTransaction.REVERSAL)
    first_copy = link.send(reversal)
    assert link.next_answer() is not None
    assert link.exchange(claim("rx-stale", attempt=2)).status == "P"
    link.publish(reversal, first_copy)  # the outbox row of the B2, published twice
    link.publish(reversal)  # or a fresh message for the superseded B2
    link.publish(claim("rx-stale"))  # and the first attempt's B1
    eventually(lambda: [e for e, _ in link.events("rx-stale")].count("dropped") == 3 or None, "three notes")
    details = [n.detail or "" for n in link.notes("rx-stale") if n.event == "dropped"]
    assert details[0] == "duplicate: this message was already transmitted"
    assert all(d.startswith("stale: rx-stale:0:2:B1 is the fill's latest") for d in details[1:])
    assert switch.adjudicated == 3, "B1, B2, B1: nothing after the newer claim was paid"


def test_a_claim_the_ledger_never_sent_is_dropped(start_switch: StartSwitch, start_link: StartLink) -> None:
    switch = start_switch()
    link = start_link({"switches": [endpoint("a", switch)], "routes": [route("a")]})
    link.publish(claim("rx-unknown"))
    eventually(lambda: link.notes("rx-unknown") or None, "the note")
    assert [(n.event, n.detail) for n in link.notes("rx-unknown")] == [("dropped", "not in the claim ledger")]
    assert switch.adjudicated == 0


def test_two_connectors_cannot_both_transmit_one_message(engine: Engine) -> None:
    """Copies of one outbox row handed to two connectors at once: the ledger lets only the first note go out."""
    with engine.begin() as conn:
        ledger = ClaimLedger(conn)
        assert ledger.start_transmission("rx-race:0:1:B1", "m-1", "a")
        assert not ledger.start_transmission("rx-race:0:1:B1", "m-1", "b")
        assert ledger.start_transmission("rx-race:0:1:B1", "m-2", "a"), "a resend is a new outbox row"
    with engine.connect() as conn:
        assert [(n.event, n.switch) for n in ClaimLedger(conn).wire_log("rx-race")] == [
            ("transmitting", "a"),
            ("transmitting", "a"),
        ]


def test_a_note_about_an_overlong_exchange_id_still_fits(engine: Engine) -> None:
    """A claim whose correlation id is not one of ours is noted (cut to the columns), never a database error."""
    long_id = "x" * 150 + ":0:1:B1"
    with engine.begin() as conn:
        ledger = ClaimLedger(conn)
        assert ledger.fence(long_id, "m" * 80) == "not in the claim ledger"
        ledger.note(long_id, WireEvent.DROPPED, message_id="m" * 80, detail="d" * 300)
    with engine.connect() as conn:
        [note] = ClaimLedger(conn).wire_log("x" * 36)
    assert (len(note.exchange_id), len(note.detail or "")) == (120, 200)
