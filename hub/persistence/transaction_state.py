"""What one worker transaction knows besides its connection: the writes it holds back and the rows it read ahead.

It is made with the transaction (``hub.persistence.unit_of_work.units_of_work``) and handed to the repositories
built for it, and it ends with the transaction. Kept on the connection instead (``conn.info``), it would outlive
the transaction in the pool, every module holding a part of it would have to clear its part on every way out,
and the next user of the pooled connection would inherit what one of them forgot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.persistence.deferred import Held
    from hub.persistence.parties import PatientsAhead
    from hub.persistence.prescriptions import Prefetched


@dataclass
class TransactionState:
    """The per-transaction state of a worker's unit of work (one per transaction, shared by its commands)."""

    #: writes held back to the end of the transaction (``hub.persistence.deferred``), by statement identity;
    #: None: every write executes at once
    held: dict[int, Held] | None = None
    #: the prescriptions (and Rx numbers) the batch read ahead (``hub.persistence.prescriptions.prefetch``)
    prefetched: Prefetched | None = None
    #: the patient candidates of the batch's new orders (``hub.persistence.parties.read_patients_ahead``)
    patients_ahead: PatientsAhead | None = None
