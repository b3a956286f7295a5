"""Parse+map cost per corpus file and per MedicationRequest: ``python -m tests.unit.fhir.measure_cost``.

Median of repeated runs after a warm-up (the first R4B model use builds pydantic validators).
"""

from __future__ import annotations

import statistics
import time

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.parsing import ResourceKind, classify, parse_resource
from hub.errors import InboundMessageError
from tests.unit.fhir.corpus import corpus_bytes, corpus_names

RUNS = 50


def _once(body: bytes) -> int:
    try:
        resource = parse_resource(body)
        if classify(resource) is ResourceKind.MEDICATION_REQUEST:
            return len(medication_request_commands(resource))
        return len(bundle_commands(resource).commands())
    except InboundMessageError:
        return 0


def _median_ms(body: bytes) -> float:
    _once(body)
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        _once(body)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    """Print one line per corpus file: size, commands, median ms, ms per command."""
    print(f"{'file':<92} {'bytes':>6} {'cmds':>4} {'ms':>7} {'ms/cmd':>7}")
    for name in corpus_names():
        body = corpus_bytes(name)
        count, ms = _once(body), _median_ms(body)
        per = f"{ms / count:7.2f}" if count else "      -"
        print(f"{name:<92} {len(body):>6} {count:>4} {ms:7.2f} {per}")


if __name__ == "__main__":
    main()
