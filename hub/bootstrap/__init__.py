"""The composition root: builds the hub's parts from Settings for ``rxhub run``, ``serve`` and ``worker``, the
demo and the tests.

This module builds what every process needs (the engine with its schema, the broker topology, the workers);
``hub.bootstrap.doors`` builds the doors and the HTTP app with the stores and caches its routes share. They are
two modules because the doors load FastAPI and the FHIR and SCRIPT adapters: a worker process that imported them
would carry about 20 MB it never uses. The parts themselves only take what they are given. Like
``hub.entrypoints``, this package may import adapters; nothing else in ``hub`` does.
"""

from __future__ import annotations

from sqlalchemy import Engine

from hub.config import Settings
from hub.entrypoints.runtime import ALL_STEPS, Workers, declare_topology, open_database

__all__ = ["build_workers", "open_hub"]


def open_hub(settings: Settings) -> Engine:
    """The database with an up-to-date schema (waited for when unreachable), and the broker's exchanges and
    queues declared."""
    engine = open_database(settings, wait=True)
    declare_topology(settings)
    return engine


def build_workers(settings: Settings, engine: Engine, steps: list[str] | None = None, copies: int = 1) -> Workers:
    """Workers for ``steps`` (every step when None), ``copies`` consumers each; not started."""
    return Workers(settings, engine, steps=list(steps or ALL_STEPS), copies=copies)
