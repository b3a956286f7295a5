"""audit_log: keyed entries (writer's tag, sealing key id), actions uncut, append-only on PostgreSQL

A row inserted straight into the table was sealed as if the hub had written it, and an edit with recomputed
hashes passed. Each entry now carries the writer's HMAC tag (the sealer chains only entries whose tag holds)
and the id of the key that sealed it; on PostgreSQL a trigger refuses UPDATE and DELETE of sealed entries
(and any change to an entry's content), and TRUNCATE. Actions were cut at 60 characters: now text.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

#: the content columns no UPDATE may change, sealed or not (sealing sets seq, prev_hash, hash, key_id only)
_CONTENT = ("id", "at", "actor", "role", "action", "prescription_id", "patient_id", "outcome", "detail", "tag")

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION rxhub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit_log is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit_log is append-only: % of sealed entry % refused', TG_OP, OLD.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF ({", ".join(f"NEW.{c}" for c in _CONTENT)}) IS DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _CONTENT)}) THEN
        RAISE EXCEPTION 'audit_log is append-only: the content of entry id % cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tag", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.alter_column("action", existing_type=sa.String(length=60), type_=sa.Text(), existing_nullable=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION rxhub_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION rxhub_audit_append_only()"
    )
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS rxhub_audit_append_only()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("action", existing_type=sa.Text(), type_=sa.String(length=60), existing_nullable=False)
        batch_op.drop_column("key_id")
        batch_op.drop_column("tag")
