"""Read-only queries for the doors: implements ``hub.service.ports.PrescriptionQueries``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from hub.domain.parties import Patient
from hub.domain.prescription import Prescription
from hub.domain.refused_orders import RefusedOrder
from hub.errors import DatabaseUnavailable
from hub.persistence import record_search
from hub.persistence.database import read_connection
from hub.persistence.parties import PartyRepository
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.refused_orders import RefusedOrders
from hub.service.record_criteria import OrderCriteria, PatientCriteria

T = TypeVar("T")


def _translated(fn: Callable[..., T]) -> Callable[..., T]:
    """Database trouble surfaces as DatabaseUnavailable, so doors answer "try later", not "internal error"."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable(f"database unavailable: {type(exc.orig).__name__}") from exc

    return wrapper


class SqlPrescriptionQueries:
    """Each call is its own short read transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @_translated
    def prescription(self, prescription_id: str) -> Prescription | None:
        """One prescription aggregate."""
        with read_connection(self._engine) as conn:
            row = PrescriptionRepository(conn).get(prescription_id)
        return load_aggregate(row) if row else None

    @_translated
    def prescription_by_placer(
        self, placer_system: str | None, placer_order_number: str, owner: str | None = None
    ) -> Prescription | None:
        """The order a prescriber knows by its placer number; with ``owner``, among that principal's only."""
        with read_connection(self._engine) as conn:
            row = PrescriptionRepository(conn).by_placer(placer_system, placer_order_number, owner)
        return load_aggregate(row) if row else None

    @_translated
    def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        """The order with this correlation id."""
        with read_connection(self._engine) as conn:
            row = PrescriptionRepository(conn).by_correlation(correlation_id)
        return load_aggregate(row) if row else None

    @_translated
    def patient(self, patient_id: str, owner: str | None = None) -> Patient | None:
        """A patient profile; with ``owner``, only when one of that principal's orders is theirs."""
        with read_connection(self._engine) as conn:
            if owner is not None and not PrescriptionRepository(conn).owner_has_patient(owner, patient_id):
                return None
            return PartyRepository(conn).patient(patient_id)

    @_translated
    def refused_orders(self, correlation_id: str, owner: str | None = None) -> list[RefusedOrder]:
        """The refusals of the order with this correlation id, oldest first; with ``owner``, that principal's."""
        with read_connection(self._engine) as conn:
            return RefusedOrders(conn).of_order(correlation_id, owner)

    @_translated
    def orders_matching(self, criteria: OrderCriteria) -> list[Prescription]:
        """The prescriptions a search may match, oldest first."""
        with read_connection(self._engine) as conn:
            return record_search.orders(conn, criteria)

    @_translated
    def patients_matching(self, criteria: PatientCriteria) -> list[Patient]:
        """The patient profiles a search may match, oldest first."""
        with read_connection(self._engine) as conn:
            return record_search.patients_matching(conn, criteria)
