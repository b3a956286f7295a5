"""``rxhub db upgrade|current|history``: the database schema, as Alembic sees it.

Every command that opens the database already upgrades it; ``rxhub db upgrade`` does it on its own (a deploy
step before the processes start), ``current`` shows where a database stands without changing it.
"""

from __future__ import annotations

import argparse
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hub.config import Settings
from hub.persistence.database import alembic_config, create_schema, make_engine


def register(sub: Any) -> None:
    """Add ``rxhub db`` to ``rxhub``'s subparsers."""
    db = sub.add_parser("db", help="the database schema: upgrade, current revision, history").add_subparsers(
        required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="bring the schema up to this version's head (idempotent)").set_defaults(func=_upgrade)
    db.add_parser("current", help="the database's revision, and whether it is this version's head").set_defaults(
        func=_current
    )
    history = db.add_parser("history", help="the migrations this version ships, newest first")
    history.add_argument("--verbose", "-v", action="store_true")
    history.set_defaults(func=_history)


def _upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url.get_secret_value())
    before = _revision(engine)
    create_schema(engine)
    after = _revision(engine)
    print(f"schema at {after}" + (f" (upgraded from {before or 'empty'})" if before != after else " (up to date)"))
    return 0


def _current(_args: argparse.Namespace, settings: Settings) -> int:
    revision = _revision(make_engine(settings.database_url.get_secret_value()))
    known, head = _revisions()
    if revision == head:
        state = "head"
    elif revision is not None and revision not in known:
        state = f"unknown to this version (head {head}): a newer rxhub migrated it"
    else:
        state = f"behind: this version's head is {head}; run rxhub db upgrade"
    print(f"{revision or 'empty (no schema yet)'} ({state})")
    return 0


def _history(args: argparse.Namespace, _settings: Settings) -> int:

    command.history(alembic_config(), verbose=args.verbose)
    return 0


def _revision(engine: Any) -> str | None:
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    return str(revision) if revision else None


def _revisions() -> tuple[set[str], str]:
    """Every revision this version ships, and its head."""

    scripts = ScriptDirectory.from_config(alembic_config())
    return {s.revision for s in scripts.walk_revisions()}, str(scripts.get_current_head())
