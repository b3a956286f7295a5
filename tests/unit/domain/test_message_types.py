"""The registries list every command and event type, once each, under the name the type gives itself."""

from __future__ import annotations

import importlib
import pkgutil

import hub.domain
from hub.domain.commands import COMMAND_TYPES
from hub.domain.events import EVENT_TYPES
from hub.domain.messages import Command, Event


def _named(base: type) -> list[type]:
    for module in pkgutil.iter_modules(hub.domain.__path__):
        importlib.import_module(f"hub.domain.{module.name}")
    found, todo = [], list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.name:
            found.append(cls)
    return found


def test_every_command_type_in_the_domain_is_decodable_by_its_name() -> None:
    commands = _named(Command)
    assert len({c.name for c in commands}) == len(commands)
    assert {c.name: c for c in commands} == COMMAND_TYPES


def test_every_published_event_type_is_in_the_catalogue_by_its_name() -> None:
    events = _named(Event)
    assert len({e.name for e in events}) == len(events)
    assert {e.name: e for e in events} == EVENT_TYPES
