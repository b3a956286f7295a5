"""Routing, queues and handlers agree: every command reaches a queue whose workers handle it, and only there."""

from __future__ import annotations

import pytest

from hub.domain.commands import COMMAND_TYPES
from hub.entrypoints.runtime import ADAPTER_STEPS, ALL_STEPS, STEP_HANDLERS
from hub.messaging.routing import COMMAND_STEPS as ROUTED_TO
from hub.messaging.topology import Topology
from hub.service.handlers import COMMAND_HANDLERS, COMMAND_STEPS, REGISTRY, STEPS
from tests.unit.domain.builders import CATALOGUE, INTERACTIONS, PHARMACY

TOPOLOGY = Topology(prefix="t")


def _context() -> object:
    from hub.service.workflow.context import WorkflowContext

    return WorkflowContext(
        catalogue=CATALOGUE, interactions=INTERACTIONS, pharmacy=PHARMACY, pharmacy_npi="1234567893", topology=TOPOLOGY
    )


def test_each_command_has_one_handler_and_decodes_from_the_wire() -> None:
    registered = [r.command.name for r in REGISTRY]
    assert len(registered) == len(set(registered)), "a command registered twice"
    assert {r.command for r in REGISTRY} == set(ROUTED_TO), "a routed command without a handler, or the reverse"
    assert all(COMMAND_TYPES.get(r.command.name) is r.command for r in REGISTRY)


def test_the_broker_routes_each_command_to_the_step_that_handles_it() -> None:
    bound = {(exchange, queue, key) for exchange, queue, key in TOPOLOGY.bindings() if exchange == "t.commands"}
    wanted = {("t.commands", TOPOLOGY.work_queue(step), command.name) for command, step in COMMAND_STEPS.items()}
    assert bound == wanted
    assert all(TOPOLOGY.route_for(r.command.name) == r.command.name for r in REGISTRY)  # what the sink publishes
    with pytest.raises(KeyError):
        TOPOLOGY.route_for("NoSuchCommand")  # a command with no queue is refused before it is published


def test_every_step_has_its_queue_and_its_workers_run_exactly_its_commands() -> None:
    queues = {q.name for q in TOPOLOGY.queues()}
    assert set(STEPS) == set(TOPOLOGY.steps)
    assert all(TOPOLOGY.work_queue(step) in queues and TOPOLOGY.retry_queue(step) in queues for step in ALL_STEPS)
    ctx = _context()
    for step in STEPS:
        handled = set(STEP_HANDLERS[step](ctx))  # type: ignore[arg-type]
        assert handled == {command for command, routed in COMMAND_STEPS.items() if routed == step}, step
    assert set(ADAPTER_STEPS) <= set(ALL_STEPS)


def test_each_handler_is_the_registered_function_not_a_name() -> None:
    assert all(callable(handle) and handle.__module__.startswith("hub.service") for handle in COMMAND_HANDLERS.values())
    assert all(isinstance(command, type) for command in COMMAND_HANDLERS)
