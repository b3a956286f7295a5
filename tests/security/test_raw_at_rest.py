"""Raw messages are encrypted at rest with RXHUB_DATA_KEY, read back transparently, and purged after retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.inbound import InboundStore
from hub.persistence.tables import inbound_messages
from hub.security import data_key
from hub.security.data_key import DataKeyError, RawCipher
from hub.security.retention import purge_expired
from hub.service.inbound_entry import InboundEntry

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'rxhub.sqlite3'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def keyed() -> Iterator[str]:
    key = data_key.new_key()
    data_key.install(key)
    try:
        yield key
    finally:
        data_key.install(None)


def _stored(engine: Engine) -> bytes:
    with engine.connect() as conn:
        return bytes(conn.execute(select(inbound_messages.c.raw)).scalar_one())


def _record(store: InboundStore, control_id: str = "C1") -> str:
    return store.record(
        InboundEntry(
            door="hl7",
            sender="EHR|GENHOSP",
            control_id=control_id,
            message_type="RDE^O11",
            outcome="AA",
            raw=SAMPLE,
            answer=b"MSA|AA|C1",
            command_ids=["x"],
        )
    )


def test_raw_is_encrypted_in_the_table_and_clear_to_callers(engine: Engine, keyed: str) -> None:
    store = InboundStore(engine)
    _record(store)
    stored = _stored(engine)
    assert stored.startswith(b"rxenc1:") and b"Synthetic" not in stored and b"MRN10001" not in stored
    found = store.find("hl7", "EHR|GENHOSP", "C1")
    assert found is not None and found.raw == SAMPLE


def test_rows_from_before_the_key_still_read_and_a_missing_key_is_loud(engine: Engine) -> None:
    store = InboundStore(engine)
    _record(store, "CLEAR")
    key = data_key.new_key()
    data_key.install(key)
    try:
        _record(store, "SEALED")
        found = store.find("hl7", "EHR|GENHOSP", "CLEAR")
        assert found is not None and found.raw == SAMPLE
    finally:
        data_key.install(None)
    with pytest.raises(DataKeyError, match="RXHUB_DATA_KEY is not set"):
        store.find("hl7", "EHR|GENHOSP", "SEALED")
    data_key.install(data_key.new_key())
    try:
        with pytest.raises(DataKeyError, match="does not decrypt"):
            store.find("hl7", "EHR|GENHOSP", "SEALED")
    finally:
        data_key.install(None)


def test_keys_rotate_the_first_encrypts_any_decrypts() -> None:
    old, new = data_key.new_key(), data_key.new_key()
    sealed_with_old = RawCipher(old).seal(SAMPLE)
    rotated = RawCipher(f"{new},{old}")
    assert rotated.open(sealed_with_old) == SAMPLE
    assert RawCipher(new).open(rotated.seal(SAMPLE)) == SAMPLE


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(DataKeyError) as caught:
        RawCipher("not-a-key-secret-value")
    assert "not-a-key-secret-value" not in str(caught.value) and caught.value.__cause__ is None


def test_retention_purges_old_bodies_keeps_the_dedupe_row_and_is_audited(engine: Engine) -> None:
    store = InboundStore(engine)
    _record(store, "OLD")
    _record(store, "NEW")
    with engine.begin() as conn:
        conn.execute(
            update(inbound_messages)
            .where(inbound_messages.c.control_id == "OLD")
            .values(received_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert purge_expired(engine, days=30).raw_bodies == 1
    old, new = store.find("hl7", "EHR|GENHOSP", "OLD"), store.find("hl7", "EHR|GENHOSP", "NEW")
    assert old is not None and old.raw is None and old.answer == b"MSA|AA|C1"
    assert new is not None and new.raw == SAMPLE
    assert purge_expired(engine, days=30).raw_bodies == 0
    purges = [e.detail["raw_bodies"] for e in AuditTrail(engine).query() if e.action == "retention purge"]
    assert purges == [1, 0]


def test_receipt_of_a_message_is_audited_with_the_store_row(engine: Engine) -> None:
    inbound_id = _record(InboundStore(engine), "C9")
    entries = [(e.actor, e.role, e.action, e.outcome, e.detail) for e in AuditTrail(engine).query()]
    assert entries == [
        (
            "EHR|GENHOSP",
            "feed",
            "receive message",
            "AA",
            {"door": "hl7", "control_id": "C9", "message_type": "RDE^O11", "inbound_id": inbound_id},
        )
    ]
