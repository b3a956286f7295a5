"""The staff commands on the rest of a partial fill: dispense it (its completion, 343-HD C), or close the fill."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from hub.domain.messages import Command


class CompletePartialFill(Command):
    """A pharmacist or technician starts the completion of the partial fill the patient picked up."""

    name: ClassVar[str] = "CompletePartialFill"
    prescription_id: str
    #: the partial fill's number: a completion started already (or a later fill) makes the command a no-op
    fill_number: int
    #: 21 CFR 1306.13(b) patients only: dispense this portion of the rest now (None: the whole rest)
    portion: Decimal | None = Field(default=None, gt=0)


class ClosePartialFill(Command):
    """A pharmacist or technician closes a picked-up partial fill whose rest will never be dispensed."""

    name: ClassVar[str] = "ClosePartialFill"
    prescription_id: str
    #: the partial fill's number: once closed (or superseded by a completion or refill) the command is a no-op
    fill_number: int
    #: why (the patient declined the rest, the deadline passed...): kept on the fill and in its event
    reason: str = Field(min_length=1, max_length=200)
