"""Writes held back to the end of a worker's transaction (hub.persistence.deferred): checked, never lost."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from hub.errors import TransientError
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow
from hub.persistence.tables import prescriptions
from hub.persistence.transaction_state import TransactionState
from hub.persistence.unit_of_work import units_of_work


def _row(n: int) -> PrescriptionRow:
    return PrescriptionRow(
        f"rx-{n}", f"corr-{n}", f"{1000 + n}", f"PL-{n}", "EHR", "hl7", "received", "retail", f'{{"n": {n}}}', 1
    )


def _stored(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        return {r.id: (r.state, r.version) for r in conn.execute(select(prescriptions))}


def test_a_stale_save_fails_its_transaction_when_the_held_writes_are_made(engine: Engine) -> None:
    """Two saves of one version: the second loses the optimistic lock at the end, and nothing of its
    transaction is written (the batch is then retried one message at a time)."""
    with units_of_work(engine) as tx:
        tx.begin().prescriptions.add(_row(1))
        tx.begin().prescriptions.add(_row(2))
    with engine.connect() as conn:
        stale = PrescriptionRepository(conn).get("rx-1")
    assert stale is not None
    with units_of_work(engine) as tx:
        fresh = tx.begin().prescriptions.get("rx-1")
        assert fresh is not None
        fresh.state = "claim_pending"
        tx.begin().prescriptions.save(fresh)
    with pytest.raises(TransientError, match="changed concurrently"), units_of_work(engine) as tx:
        other = tx.begin().prescriptions.get("rx-2")
        assert other is not None
        other.state = "claim_pending"
        tx.begin().prescriptions.save(other)
        stale.state = "cancelled"
        tx.begin().prescriptions.save(stale)
    assert _stored(engine) == {"rx-1": ("claim_pending", 2), "rx-2": ("received", 1)}


def test_a_read_in_the_transaction_sees_what_it_holds_back(engine: Engine) -> None:
    with units_of_work(engine) as tx:
        repo = tx.begin().prescriptions
        repo.add(_row(3))
        found = repo.by_correlation("corr-3")
        assert found is not None and found.version == 1
        found.state = "claim_pending"
        repo.save(found)
        again = repo.get("rx-3")
        assert again is not None and (again.state, again.version) == ("claim_pending", 2)
    assert _stored(engine) == {"rx-3": ("claim_pending", 2)}


def test_outside_a_worker_transaction_nothing_is_held(engine: Engine) -> None:
    """A connection that never promised to flush writes at once: a plain transaction cannot drop a row."""
    with engine.begin() as conn:
        PrescriptionRepository(conn).add(_row(4))
    assert _stored(engine) == {"rx-4": ("received", 1)}
    with engine.connect() as conn:
        stale = PrescriptionRepository(conn).get("rx-4")
    assert stale is not None
    stale.version = 7
    with pytest.raises(TransientError), engine.begin() as conn:
        PrescriptionRepository(conn).save(stale)


def test_a_rolled_back_transaction_leaves_nothing_held_or_read_ahead(engine: Engine) -> None:
    """What a transaction held back or read ahead lives in its own state, emptied whichever way it ends, and a
    plain transaction on the same pooled connection afterwards writes at once."""
    with units_of_work(engine) as tx:
        tx.begin().prescriptions.add(_row(7))
    with pytest.raises(RuntimeError), units_of_work(engine) as tx:
        tx.prefetch(ids=["rx-7"], correlation_ids=["corr-5"])
        assert tx.state.prefetched is not None
        tx.begin().prescriptions.add(_row(5))
        assert tx.state.held
        raise RuntimeError("handler failed")
    assert tx.state == TransactionState()
    with engine.begin() as conn:  # the same pooled connection: a plain transaction again
        PrescriptionRepository(conn).add(_row(6))
    assert _stored(engine) == {"rx-6": ("received", 1), "rx-7": ("received", 1)}


def test_no_persistence_module_keeps_state_on_the_pooled_connection() -> None:
    """Per-transaction state lives in ``TransactionState``: ``conn.info`` would outlive the transaction."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "hub" / "persistence"
    users = [p.name for p in folder.glob("*.py") if "conn.info" in p.read_text().replace("``conn.info``", "")]
    assert users == []
