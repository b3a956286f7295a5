"""Per-message cost of the ACK path (parse + validate + map + build ACK) on the corpus RDE messages.

Run: ``.venv/bin/python -m tests.unit.hl7.bench_ack_path`` (not collected by pytest; the target is <= 2 ms).
"""

from __future__ import annotations

import time

from adapters.hl7.acks import build_ack
from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from adapters.hl7.validation import validate_header
from hub.errors import InboundMessageError
from tests.unit.hl7.corpus import sample, sample_names

ROUNDS = 1000


def ack_path(raw: bytes) -> bytes:
    """Everything the listener does for one message except publishing."""
    msg = parse_message(raw)
    validate_header(msg.header)
    try:
        to_commands(msg)
    except InboundMessageError as refused:  # the IV samples are refused (issue 26): their AE is the path
        return build_ack(
            msg.header, "AE", refused.problems, sending_application="RXHUB", sending_facility="PHARM", control_id="A1"
        )
    return build_ack(msg.header, "AA", sending_application="RXHUB", sending_facility="PHARM", control_id="A1")


def main() -> None:
    """Print the mean milliseconds per message for each RDE sample."""
    for name in (n for n in sample_names() if "_rde_o11_" in n):
        raw = sample(name)
        start = time.perf_counter()
        for _ in range(ROUNDS):
            ack_path(raw)
        per_message = (time.perf_counter() - start) / ROUNDS * 1000
        print(f"{name:64} {len(raw):6} bytes {per_message:7.3f} ms")


if __name__ == "__main__":
    main()
