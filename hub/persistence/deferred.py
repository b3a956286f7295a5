"""Inserts a worker's transaction holds back and writes together at its end, one statement per kind.

Intake stored each new order with a round trip of its own for the patient and one for the prescription
(and read its patient candidates with a third): 48 of a batch's 53 statements, each a wait for the database
and for the interpreter lock. Held back, a batch of 16 new orders writes its patients and its prescriptions
in one executemany each (psycopg pipelines them: one round trip).

Only a transaction that promised to flush (``units_of_work``) holds inserts back; on any other connection
``insert`` executes at once. Every repository method that reads or changes the tables concerned calls
``flush`` first, so nothing in the transaction can miss a row held back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from hub.persistence.database import execute_rows

#: ``conn.info`` key: {id(statement): (statement, [rows])} while a transaction holds inserts back (in the
#: order each kind was first held; statements are compared by identity, so hold the module's constants)
_HELD = "rxhub_deferred_inserts"


def hold(conn: Connection) -> None:
    """From now on, ``insert`` on this connection waits for ``flush`` (which the caller promises to call)."""
    conn.info[_HELD] = {}


def insert(conn: Connection, statement: Any, row: dict[str, Any]) -> None:
    """Execute ``statement`` with ``row`` now, or at the transaction's next ``flush`` when it holds inserts."""
    held: dict[int, tuple[Any, list[dict[str, Any]]]] | None = conn.info.get(_HELD)
    if held is None:
        conn.execute(statement, row)
    else:
        held.setdefault(id(statement), (statement, []))[1].append(row)


def flush(conn: Connection) -> None:
    """Write every insert held back, one statement per kind, and keep holding later ones."""
    held: dict[int, tuple[Any, list[dict[str, Any]]]] | None = conn.info.get(_HELD)
    if not held:
        return
    conn.info[_HELD] = {}
    for statement, rows in held.values():
        execute_rows(conn, statement, rows)


def release(conn: Connection) -> None:
    """Stop holding (end of the transaction: ``conn.info`` outlives it in the pool); unflushed rows are dropped,
    as the rollback they belong to drops the rest."""
    conn.info.pop(_HELD, None)
