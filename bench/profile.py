"""Where the hub's time goes during a scenario: ``py-spy record`` on every hub process, summarized.

``--profile`` samples each hub process (forked workers included) at 50 Hz for the length of a scenario,
with py-spy's defaults: only threads that are running (or waiting in a system call that py-spy does not
count as idle), so the shares are of busy samples.  Each sample is charged to the leaf-most frame that
belongs to a known library ("self time by library"); the hub's own functions are also counted inclusively,
which is what a recommendation needs ("a third of the intake worker's samples are inside X").
The raw collapsed stacks are kept beside the JSON (``bench/results/profiles/``) for flame graphs.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict

PY_SPY = Path(sys.executable).parent / "py-spy"
PROFILES = Path(__file__).resolve().parent / "results" / "profiles"
#: (label, substrings of a frame's "function (file:line)"); the first label whose pattern a frame shows wins
LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sqlite3 driver", ("sqlite3/", "sqlite3.")),
    ("psycopg driver", ("psycopg/", "psycopg_pool", "psycopg_binary")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("pika (AMQP)", ("pika/",)),
    ("fhir.resources/fhir_core", ("fhir/resources", "fhir_core")),
    ("pydantic", ("pydantic/", "pydantic_core")),
    ("json", ("json/",)),
    ("HTTP stack (uvicorn/starlette/fastapi/h11/anyio)", ("uvicorn/", "starlette/", "fastapi/", "h11/", "anyio/")),
    ("cryptography (Fernet)", ("cryptography/",)),
    ("logging", ("logging/",)),
    ("asyncio/selectors/socket", ("asyncio/", "selectors.py", "socket.py", "ssl.py")),
    ("threading/queue", ("threading.py", "queue.py", "concurrent/")),
    ("adapters.hl7", ("adapters/hl7/",)),
    ("adapters.fhir", ("adapters/fhir/",)),
    ("adapters.ncpdp", ("adapters/ncpdp/",)),
    ("hub code", ("hub/",)),
)


class ProcessProfile(BaseModel):
    """One process's busy samples by library, and the hub/adapter functions most often on the stack."""

    model_config = ConfigDict(frozen=True)

    samples: int
    by_library: dict[str, float]
    top_functions: list[tuple[str, float]]
    raw_file: str


def summarize_collapsed(text: str, raw_file: str = "", top: int = 15) -> ProcessProfile:
    """Shares (percent of samples) from py-spy's raw collapsed-stack output."""
    total, libraries, functions = 0, Counter[str](), Counter[str]()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        libraries[_library(frames)] += count
        for name in {_function(f) for f in frames if "hub/" in f or "adapters/" in f}:
            functions[name] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return ProcessProfile(
        samples=total, by_library={k: share(v) for k, v in libraries.most_common()},
        top_functions=[(k, share(v)) for k, v in functions.most_common(top)], raw_file=raw_file,
    )


def _library(frames: list[str]) -> str:
    for frame in reversed(frames):
        for label, patterns in LIBRARIES:
            if any(p in frame for p in patterns):
                return label
    return "other"


def _function(frame: str) -> str:
    """``name (path/to/file.py:12)`` -> ``module.path:name``."""
    name, _, where = frame.partition(" (")
    path = where.split(":")[0]
    for root in ("hub/", "adapters/"):
        if root in path:
            path = root + path.split(root, 1)[1]
            break
    return f"{path.removesuffix('.py').replace('/', '.')}:{name}"


@contextmanager
def profiled(pids: dict[str, int], scenario: str, seconds: float, stamp: str,
             into: dict[str, dict[str, ProcessProfile]]) -> Iterator[None]:
    """Record every process for ``seconds`` while the body runs; summaries land in ``into[scenario]``."""
    folder = PROFILES / stamp
    folder.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name, pid in pids.items():
        out = folder / f"{scenario.replace(' ', '_')}-{name.replace('/', '_')}.txt"
        runs[name] = (out, subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "50",
             "--format", "raw", "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    try:
        yield
    finally:
        found: dict[str, ProcessProfile] = {}
        for name, (out, process) in runs.items():
            try:
                process.wait(seconds + 30)
            except subprocess.TimeoutExpired:
                process.kill()
            if out.exists():
                found[name] = summarize_collapsed(out.read_text(), str(out.relative_to(PROFILES.parents[1])))
        into[scenario] = found


def profile_table(profiles: dict[str, dict[str, ProcessProfile]], libraries: int = 8, functions: int = 8) -> str:
    """Per scenario and process: the biggest libraries and hub functions, in percent of busy samples."""
    lines = []
    for scenario, processes in profiles.items():
        for name, p in processes.items():
            lines.append(f"{scenario} / {name}: {p.samples} busy samples ({p.raw_file})")
            lines.append("  self time: " + ", ".join(f"{k} {v:.0f}%" for k, v in
                                                     list(p.by_library.items())[:libraries]))
            lines.append("  on stack:  " + ", ".join(f"{k} {v:.0f}%" for k, v in p.top_functions[:functions]))
    return "\n".join(lines)
