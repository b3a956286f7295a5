"""Each ORDER group is its own prescription, even when several groups share one placer number (ORC-2).

National profiles send one prescription as several ORDER groups under one ORC-2, one drug each: JAHIS
(Japan's HL7 v2.5 prescription profile, which SS-MIX2 stores) tells them apart by ORC-4, the placer group
number (the "Rp": drugs taken the same way), and by RXE-2, the drug.  The hub knows an order by its placer
number, so when ORC-2 repeats within a message each group gets an item identity as its placer number:

    <ORC-2.1>/<ORC-4.1>/<drug>[/<n>]

``drug`` is RXE-2.1, else RXO-1.1, else the drug's text; ``/<n>`` (n = 2, 3...) marks the second and later
groups that repeat ORC-2, ORC-4 and drug all three (the same drug twice in one Rp), in message order.  ORC-2
"repeats" among the message's new orders, and apart among its cancels (ORC-1 CA/DC), so a message that
cancels X and orders X anew keeps X for both.  A group whose ORC-2 is not repeated keeps ORC-2.1 as it is.

The identity is the same on every resend of the message, and a cancel that names items the way their order
did (ORC-1 CA/DC, the same ORC-2, ORC-4 and RXE-2, several groups under one ORC-2) derives the same identity
for each, whichever of the items it names.  Content rather than the group's position on purpose: a cancel of
items 2 and 3 would number them 1 and 2 and cancel the wrong drugs.  A cancel of one item alone in its
message names the bare ORC-2, which no item holds: it is answered AE 204 (unknown order), not guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from adapters.hl7.drug_fields import ordered_drug_key
from adapters.hl7.order_groups import CANCEL_CODES, OrderGroup
from hub.errors import Problem

#: the longest placer number the hub stores (prescriptions.placer_order_number); longer is refused at the door
PLACER_NUMBER_MAX = 100


def placer_numbers(groups: Sequence[OrderGroup], problems: list[Problem]) -> list[str]:
    """Each group's placer number: ORC-2.1, or its item identity when ORC-2 repeats in the message."""
    # raw ORC-1 and ORC-2 (all components, ORC-2.2 included) are enough to see a repeat, and cheap: this runs on
    # every message before its ACK, and most carry one group
    keys = [(g.orc.raw(1).upper() in CANCEL_CODES, g.orc.raw(2)) for g in groups]
    repeated = {key for key, count in Counter(keys).items() if count > 1} if len(keys) > 1 else set()
    seen: Counter[tuple[str, str, str]] = Counter()
    numbers = []
    for group, key in zip(groups, keys, strict=True):
        number = group.orc.get(2)
        if number and key in repeated:
            number = _item_number(group, seen, problems)
        if len(number) > PLACER_NUMBER_MAX:
            text = f"placer number {number[:40]}... is longer than the {PLACER_NUMBER_MAX} characters the hub keeps"
            problems.append(Problem("104", text, group.orc.location(2)))
        numbers.append(number)
    return numbers


def _item_number(group: OrderGroup, seen: Counter[tuple[str, str, str]], problems: list[Problem]) -> str:
    number, drug = group.orc.get(2), ordered_drug_key(group)
    if not drug:
        # a new order without a drug is refused by the mapping already (RXE-2 / RXO-1, or no RXE/RXO at all)
        if group.is_cancel:
            text = (
                f"ORC-2 {number} is shared by several ORDER groups: a cancel of one of its items must carry "
                "that item's RXE (or RXO) so the hub can tell which"
            )
            problems.append(Problem("101", text, group.orc.location()))
        return number
    parts = (number, group.orc.get(4), drug)
    seen[parts] += 1
    return "/".join(parts) + (f"/{seen[parts]}" if seen[parts] > 1 else "")
