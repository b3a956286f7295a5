"""Writes a worker's transaction holds back and makes together at its end, one statement per kind.

Each order of a batch wrote its own rows with a round trip apiece (intake: the patient and the prescription,
after reading its patient candidates; every later step: the prescription; a fill: the stock lot), each a wait
for the database and for the interpreter lock. Held back, a batch writes each kind in one executemany
(psycopg pipelines it: one round trip), and a row written several times (one stock lot, filled from by the
whole batch) once, with its last values.

Only a transaction that promised to flush (``units_of_work``) holds writes back, in its ``TransactionState``;
a repository given no state (or a state not holding) writes at once. The repositories of the tables concerned
run every other statement through ``execute``, which flushes first, so nothing in the transaction can miss a
row held back.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from hub.errors import TransientError
from hub.persistence.database import execute_rows
from hub.persistence.transaction_state import TransactionState


@dataclass
class Held:
    """The rows held back for one statement (statements are told apart by identity: hold the module's constants),
    kept in ``TransactionState.held`` in the order each kind was first held."""

    statement: Any
    #: each row under its key; a row written again under the same key replaces it (its last values win)
    rows: dict[Hashable, dict[str, Any]] = field(default_factory=dict)
    #: an UPDATE whose every row must match (an optimistic lock): fewer is a concurrent change
    must_match: bool = False


def hold(state: TransactionState) -> None:
    """From now on, ``write`` with this state waits for ``flush`` (which the caller promises to call)."""
    state.held = {}


def write(
    conn: Connection,
    state: TransactionState | None,
    statement: Any,
    row: dict[str, Any],
    *,
    key: Hashable | None = None,
    must_match: bool = False,
) -> None:
    """Execute ``statement`` with ``row`` now, or at the transaction's next ``flush`` when it holds writes.

    ``key``: a later write of the same key replaces this one (absolute values, as a stock count is written).
    ``must_match``: the statement must change a row, else it raises TransientError (now, or at the flush).
    """
    held = state.held if state is not None else None
    if held is None:
        _check(conn.execute(statement, row).rowcount, 1, must_match)
        return
    kind = held.setdefault(id(statement), Held(statement, must_match=must_match))
    kind.rows[object() if key is None else key] = row


def flush(conn: Connection, state: TransactionState | None) -> None:
    """Make every write held back, one statement per kind, and keep holding later ones."""
    held = state.held if state is not None else None
    if not held:
        return
    assert state is not None
    state.held = {}
    for kind in held.values():
        rows = list(kind.rows.values())
        _check(execute_rows(conn, kind.statement, rows).rowcount, len(rows), kind.must_match)


def execute(conn: Connection, state: TransactionState | None, statement: Any, parameters: Any = None) -> Any:
    """Execute a statement that must see (or comes after) the writes held back: they are made first."""
    flush(conn, state)
    return conn.execute(statement, parameters)


def release(state: TransactionState) -> None:
    """Stop holding (end of the transaction); unflushed rows are dropped, as the rollback they belong to drops
    the rest."""
    state.held = None


def _check(changed: int, wanted: int, must_match: bool) -> None:
    if must_match and changed != wanted:
        raise TransientError(f"{wanted - changed} of {wanted} row(s) changed concurrently; retry")
