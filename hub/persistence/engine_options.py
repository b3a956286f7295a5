"""What every transaction on an engine builds its events with, stamped on the engine once at start-up.

The events' CloudEvents ``source`` (the deployment, ``RXHUB_EVENT_SOURCE``) and whether they carry the patient's
identifiers ride on the engine as execution options that the composition root sets where it opens the database,
rather than as arguments of ``units_of_work``: every path that emits events (the workers' bus, the sweepers,
staff routes and any added later) gets them from the engine it already holds, and none can forget to forward them.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from hub.messaging.cloudevents import DEFAULT_SOURCE

#: the engine execution option that holds the deployment's event source
EVENT_SOURCE_OPTION = "rxhub_event_source"
#: the engine execution option saying whether events carry the patient's identifiers (MRN...)
EVENT_IDENTIFIERS_OPTION = "rxhub_event_identifiers"


def with_event_source(engine: Engine, source: str) -> Engine:
    """Stamp ``engine`` with the CloudEvents source of the events its transactions build (in place: every
    connection it hands out afterwards carries it; ``DEFAULT_SOURCE`` on an engine never stamped)."""
    engine.update_execution_options(**{EVENT_SOURCE_OPTION: source})
    return engine


def event_source(conn: Connection) -> str:
    """The event source stamped on the engine behind ``conn``."""
    return str(conn.get_execution_options().get(EVENT_SOURCE_OPTION, DEFAULT_SOURCE))


def with_event_identifiers(engine: Engine, include: bool) -> Engine:
    """Stamp ``engine``: do the events its transactions build carry the patient's identifiers (in place)? An
    engine never stamped builds events without them, with the hub's patient id only."""
    engine.update_execution_options(**{EVENT_IDENTIFIERS_OPTION: include})
    return engine


def event_identifiers(conn: Connection) -> bool:
    """Whether the engine behind ``conn`` puts patient identifiers in events."""
    return bool(conn.get_execution_options().get(EVENT_IDENTIFIERS_OPTION, False))
