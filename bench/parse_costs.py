"""CPU cost per message of each adapter's inbound path, measured in this process with nothing else running.

HL7 is measured the way the listener runs it (parse, header check, mapping, ACK), beside hl7apy and
python-hl7 parsing the same bytes, to show what our own splitter saves.  Inputs are the synthetic
samples and the non-``odd`` public corpus; an input the path refuses is listed as refused, not timed.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("RXHUB_CORPUS", "/work/shared/corpus"))
HL7_PATH = "HL7 ACK path (parse+validate+map+ACK)"


class ParseCost(BaseModel):
    """Median and worst per-message milliseconds of one path over its inputs."""

    model_config = ConfigDict(frozen=True)

    path: str
    inputs: int
    refused: int
    median_ms: float
    max_ms: float
    per_input_ms: dict[str, float]

    @property
    def per_core_rate(self) -> float:
        """Messages a second one core could do at the median cost."""
        return 1000 / self.median_ms if self.median_ms else 0.0


def _files(folder: str, *suffixes: str) -> list[Path]:
    return sorted(p for p in (CORPUS / folder).glob("*") if p.suffix in suffixes and "_odd_" not in p.name)


def _hl7_inputs() -> list[Path]:
    return sorted((REPO / "samples" / "hl7").glob("*.hl7")) + _files("hl7v2", ".hl7")


def _hl7_ack_path(raw: bytes) -> object:
    from adapters.hl7.acks import build_ack
    from adapters.hl7.mapping import to_commands
    from adapters.hl7.parsing import parse_message
    from adapters.hl7.validation import validate_header

    message = parse_message(raw)
    validate_header(message.header)
    to_commands(message)
    return build_ack(
        message.header, "AA", sending_application="RXHUB", sending_facility="PHARMACY", control_id="BENCH1"
    )


def _hl7_text(raw: bytes) -> str:
    return raw.lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace").replace("\r\n", "\r").replace("\n", "\r")


def _hl7apy(raw: bytes) -> object:
    from hl7apy.parser import parse_message

    return parse_message(_hl7_text(raw))


def _python_hl7(raw: bytes) -> object:
    import hl7

    return hl7.parse(_hl7_text(raw))


def _fhir(body: bytes) -> object:
    from adapters.fhir.bundles import bundle_commands
    from adapters.fhir.mapping import medication_request_commands
    from adapters.fhir.parsing import ResourceKind, classify, parse_resource

    resource = parse_resource(body)
    if classify(resource) is ResourceKind.MEDICATION_REQUEST:
        return medication_request_commands(resource)
    return bundle_commands(resource).commands()


def _script(body: bytes) -> object:
    from adapters.ncpdp.script.message import read_message

    return read_message(body)


@dataclass(frozen=True)
class MeasuredPath:
    """One path to time; ``like`` names a path whose accepted inputs this one reuses, for a fair comparison."""

    name: str
    function: Callable[[bytes], object]
    inputs: list[Path]
    like: str | None = None


def _d0_paths() -> list[MeasuredPath]:
    from adapters.ncpdp.d0.parser import parse_request, parse_response

    singles = [p for p in _files("d0", ".ncpdp") if "batch" not in p.name]
    return [
        MeasuredPath("NCPDP D.0 parse_request", parse_request, [p for p in singles if "request" in p.name]),
        MeasuredPath("NCPDP D.0 parse_response", parse_response, [p for p in singles if "response" in p.name]),
    ]


def paths() -> list[MeasuredPath]:
    """Every measured path with its inputs."""
    hl7_inputs = _hl7_inputs()
    return [
        MeasuredPath(HL7_PATH, _hl7_ack_path, hl7_inputs),
        MeasuredPath("HL7 python-hl7 parse only (same inputs)", _python_hl7, hl7_inputs, like=HL7_PATH),
        MeasuredPath("HL7 hl7apy parse only (same inputs)", _hl7apy, hl7_inputs, like=HL7_PATH),
        MeasuredPath("FHIR parse+map", _fhir, _files("fhir", ".json")),
        *_d0_paths(),
        MeasuredPath("SCRIPT read_message", _script, _files("script", ".xml")),
    ]


def _time_one(function: Callable[[bytes], object], body: bytes, budget_s: float) -> float:
    """Median milliseconds of repeated calls within the time budget (after one warm-up call)."""
    function(body)
    samples: list[float] = []
    stop = time.perf_counter() + budget_s
    while time.perf_counter() < stop or len(samples) < 3:
        start = time.perf_counter()
        function(body)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(budget_s: float) -> list[ParseCost]:
    """Every path over its inputs, ``budget_s`` of repeats per input."""
    results: dict[str, ParseCost] = {}
    for spec in paths():
        inputs = spec.inputs
        if spec.like is not None:
            accepted = results[spec.like].per_input_ms
            inputs = [p for p in inputs if p.name in accepted]
        results[spec.name] = _measure_path(spec.name, spec.function, inputs, budget_s)
    return list(results.values())


def _measure_path(name: str, function: Callable[[bytes], object], inputs: list[Path], budget_s: float) -> ParseCost:
    timings: dict[str, float] = {}
    refused = 0
    for path in inputs:
        try:
            timings[path.name] = round(_time_one(function, path.read_bytes(), budget_s), 4)
        except Exception:  # refused by our path (RxHubError) or by a library (hl7apy's own errors)
            refused += 1
    values = sorted(timings.values())
    return ParseCost(
        path=name,
        inputs=len(timings),
        refused=refused,
        median_ms=round(statistics.median(values), 4) if values else 0.0,
        max_ms=values[-1] if values else 0.0,
        per_input_ms=timings,
    )
