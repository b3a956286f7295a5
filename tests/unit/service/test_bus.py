"""The message bus over fake transactions: once per message id, batches in one transaction, a failed batch
taken apart, and the publisher handed only what committed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from hub.domain.commands import CancelPrescription, ReceivePrescription
from hub.domain.order_parts import Source
from hub.domain.workflow_commands import DispensePrescription, FillPrescription
from hub.errors import MessageContentError
from hub.messaging.envelope import Envelope
from hub.service.bus import MessageBus
from hub.service.unit_of_work import UnitOfWork
from tests.unit.domain.builders import order
from tests.unit.service.fakes import FakePublisher, FakeTransactions, FakeUnitOfWork


def _envelope(command: Any, *, actor: str | None = None) -> Envelope:
    return Envelope.wrap(command, correlation_id=uuid.uuid4(), source=Source.HUB, message_id=uuid.uuid4(), actor=actor)


def _fill(n: int = 1) -> Envelope:
    return _envelope(FillPrescription(prescription_id=f"rx-{n}", fill_number=0))


class Recorder:
    """A handler that notes each command it applied, queues a command back, and fails for a chosen id."""

    def __init__(self, fail_for: str | None = None, refuse: bool = False) -> None:
        self.applied: list[str] = []
        self.fail_for = fail_for
        self.refuse = refuse

    def __call__(self, command: Any, envelope: Envelope, uow: UnitOfWork) -> None:
        if command.prescription_id == self.fail_for:
            raise ValueError("this one is bad")
        self.applied.append(command.prescription_id)
        uow.add_command(_envelope(DispensePrescription(prescription_id=command.prescription_id)))
        if self.refuse:
            uow.refuse("not today")


def _bus(handler: Recorder, transactions: FakeTransactions | None = None) -> tuple[MessageBus, FakePublisher]:
    publisher = FakePublisher()
    handlers = {FillPrescription: handler}
    bus = MessageBus(transactions or FakeTransactions(), handlers, consumer="fill", after_commit=[publisher.hand_over])
    return bus, publisher


def test_a_message_is_applied_once_however_often_it_is_delivered() -> None:
    handler = Recorder()
    bus, publisher = _bus(handler)
    envelope = _fill()
    bus.handle(envelope)
    bus.handle(envelope)
    assert handler.applied == ["rx-1"]
    assert publisher.handed == [["DispensePrescription"]], "the duplicate commits nothing to publish"


def test_a_command_the_step_has_no_handler_for_is_bad_content_and_commits_nothing() -> None:
    transactions = FakeTransactions()
    bus, publisher = _bus(Recorder(), transactions)
    with pytest.raises(MessageContentError, match="fill has no handler for 'DispensePrescription'"):
        bus.handle(_envelope(DispensePrescription(prescription_id="rx-1")))
    assert transactions.committed == [] and transactions.rolled_back == 1 and publisher.handed == []


def test_a_failing_handler_commits_nothing_and_its_message_can_be_applied_later() -> None:
    transactions = FakeTransactions()
    handler = Recorder(fail_for="rx-1")
    bus, publisher = _bus(handler, transactions)
    envelope = _fill()
    with pytest.raises(ValueError):
        bus.handle(envelope)
    assert transactions.store.marks == set() and publisher.handed == []
    handler.fail_for = None
    bus.handle(envelope)  # the redelivery is not taken for a duplicate
    assert handler.applied == ["rx-1"]


def test_a_batch_is_one_transaction_and_one_hand_over() -> None:
    transactions = FakeTransactions()
    handler = Recorder()
    bus, publisher = _bus(handler, transactions)
    assert bus.handle_batch([_fill(1), _fill(2), _fill(3)]) == [None, None, None]
    assert handler.applied == ["rx-1", "rx-2", "rx-3"]
    assert len(transactions.committed) == 1
    assert publisher.handed == [["DispensePrescription"] * 3]
    assert transactions.committed[0].prefetched["ids"] == ["rx-1", "rx-2", "rx-3"], "read ahead in one go"


def test_a_second_copy_inside_a_batch_is_a_duplicate() -> None:
    handler = Recorder()
    bus, _ = _bus(handler)
    envelope = _fill()
    assert bus.handle_batch([envelope, _fill(2), envelope]) == [None, None, None]
    assert handler.applied == ["rx-1", "rx-2"]


def test_a_failed_batch_is_taken_apart_so_only_the_bad_message_fails() -> None:
    transactions = FakeTransactions()
    handler = Recorder(fail_for="rx-2")
    bus, publisher = _bus(handler, transactions)
    outcomes = bus.handle_batch([_fill(1), _fill(2), _fill(3)])
    assert outcomes[0] is None and isinstance(outcomes[1], ValueError) and outcomes[2] is None
    assert transactions.rolled_back == 2, "the batch, then the bad message alone"
    assert publisher.handed == [["DispensePrescription"], ["DispensePrescription"]]
    assert len(transactions.store.marks) == 2, "the bad message's mark rolled back with it"


def test_a_staff_commands_outcome_is_recorded_with_its_effects() -> None:
    transactions = FakeTransactions()
    bus, _ = _bus(Recorder(refuse=True), transactions)
    bus.handle(_envelope(FillPrescription(prescription_id="rx-1", fill_number=0), actor="tech-1"))
    (unit,) = transactions.committed[0].units
    assert isinstance(unit, FakeUnitOfWork) and unit.outcomes == ["not today"]


def test_handlers_are_found_by_the_type_the_envelope_decodes_to() -> None:
    """Two commands of one step: each reaches its own handler."""
    seen: list[str] = []
    bus = MessageBus(
        FakeTransactions(),
        {
            ReceivePrescription: lambda c, e, u: seen.append(type(c).__name__),
            CancelPrescription: lambda c, e, u: seen.append(type(c).__name__),
        },
        consumer="intake",
    )
    bus.handle(_envelope(order()))
    bus.handle(_envelope(CancelPrescription(placer_order_number="ORD-1", control="CA")))
    assert seen == ["ReceivePrescription", "CancelPrescription"]
