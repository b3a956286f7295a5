"""The staff command that starts dispensing the rest of a partial fill (its completion, 343-HD C)."""

from __future__ import annotations

from typing import ClassVar

from hub.domain.messages import Command


class CompletePartialFill(Command):
    """A pharmacist or technician starts the completion of the partial fill the patient picked up."""

    name: ClassVar[str] = "CompletePartialFill"
    prescription_id: str
    #: the partial fill's number: a completion started already (or a later fill) makes the command a no-op
    fill_number: int
