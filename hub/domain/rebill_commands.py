"""The staff command that bills again a fill returned to stock past its plan's window (``hub.domain.return_window``)."""

from __future__ import annotations

from typing import ClassVar

from hub.domain.messages import Command


class RebillReturnedFill(Command):
    """A technician or pharmacist bills the fill again (a fresh B1) for a patient who came after its window."""

    name: ClassVar[str] = "RebillReturnedFill"
    prescription_id: str
    #: the returned fill's number: once it is rebilled (or a later fill exists) the command changes nothing
    fill_number: int
