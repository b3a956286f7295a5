"""Candidate rows for the doors' searches: narrowed by indexed columns, in a stable order for paging."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, or_, select

from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.persistence.tables import patient_identifiers, patients, prescriptions
from hub.service.record_criteria import OrderCriteria, PatientCriteria


def orders(conn: Connection, criteria: OrderCriteria) -> list[Prescription]:
    """The prescriptions meeting ``criteria``, oldest first."""
    table = prescriptions.c
    conds: list[ColumnElement[bool]] = []
    if criteria.owner is not None:
        conds.append(table.owner == criteria.owner)
    if criteria.patient_id is not None:
        conds.append(table.patient_id == criteria.patient_id)
    if criteria.placer_order_number is not None:
        conds.append(table.placer_order_number == criteria.placer_order_number)
    if criteria.order_id is not None:
        conds.append(or_(table.correlation_id == criteria.order_id, table.id == criteria.order_id))
    query = (
        select(table.document)
        .where(*conds)
        .order_by(table.created_at, table.id)
        .limit(criteria.limit)
        .offset(criteria.offset)
    )
    return [Prescription.model_validate_json(row[0]) for row in conn.execute(query)]


def patients_matching(conn: Connection, criteria: PatientCriteria) -> list[Patient]:
    """The patient profiles (not merged into another) meeting ``criteria``, oldest first."""
    table = patients.c
    conds: list[ColumnElement[bool]] = [table.merged_into.is_(None)]
    if criteria.owner is not None:
        conds.append(table.id.in_(select(prescriptions.c.patient_id).where(prescriptions.c.owner == criteria.owner)))
    if criteria.patient_id is not None:
        conds.append(table.id == criteria.patient_id)
    if criteria.identifier_value is not None:
        conds.append(
            table.id.in_(
                select(patient_identifiers.c.patient_id).where(patient_identifiers.c.value == criteria.identifier_value)
            )
        )
    if criteria.family_prefix:
        conds.append(table.family_name.startswith(criteria.family_prefix.casefold(), autoescape=True))
    if criteria.birth_date is not None:
        conds.append(table.birth_date == criteria.birth_date)
    query = (
        select(table.document)
        .where(*conds)
        .order_by(table.created_at, table.id)
        .limit(criteria.limit)
        .offset(criteria.offset)
    )
    return [Patient.model_validate(row[0]) for row in conn.execute(query)]
