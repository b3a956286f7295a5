"""Where the hub's time goes during a scenario: ``py-spy record`` on every hub process, summarized.

``--profile`` samples each hub process (forked workers included) at 200 Hz for the length of a scenario,
with ``--gil``: only the thread holding the interpreter lock, so the shares are of the Python CPU a process
spends (a thread waiting on a socket or a lock is not in them; wall-clock waits show in the latencies).
Each sample is charged to the leaf-most frame that belongs to a known library ("self time by library");
the hub's own functions are also counted inclusively, which is what a recommendation needs ("a third of the
intake worker's samples are inside X").  The raw collapsed stacks are kept beside the JSON
(``bench/results/profiles/``) for flame graphs.
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
#: (label, path prefixes of a frame's file as py-spy prints it); the first label that matches wins
LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("psycopg driver", ("psycopg/", "psycopg_pool/")),
    ("SQLAlchemy (+ sqlite3 C calls)", ("sqlalchemy/", "sqlite3/")),
    ("pika (AMQP)", ("pika/",)),
    ("fhir.resources/fhir_core", ("fhir/resources/", "fhir_core/")),
    ("pydantic", ("pydantic/", "pydantic_core/")),
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
#: a leaf frame (outside our code) with one of these names is a thread waiting, not working: py-spy's idle
#: filter misses waits in poll(), Condition.wait() and queue.get() when their C call holds no Python frame
WAITING = "waiting (poll, lock, queue)"
_WAIT_LEAVES = frozenset(
    {"poll", "select", "wait", "get", "acquire", "sleep", "_wait_for_tstate_lock", "join", "_worker", "run_forever"}
)
#: SQLite's BEGIN IMMEDIATE (hub.persistence.database): a writer waiting here waits for the one write lock
SQLITE_LOCK = "SQLite BEGIN IMMEDIATE (write lock)"
_OURS = ("hub/", "adapters/")
#: frames on every stack of their thread (entry points and consumer loops): they say nothing about cost
_PLUMBING = frozenset(
    {
        "hub.entrypoints.cli:<module>",
        "hub.entrypoints.cli:main",
        "hub.entrypoints.cli:_run",
        "hub.entrypoints.cli:_worker",
        "hub.messaging.consumer:ConsumerRunner.run",
        "hub.messaging.consumer:ConsumerRunner._consume",
        "hub.entrypoints.cli:_serve_until_signal",
    }
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
        frames = [_split(f) for f in stack.split(";")]
        libraries[_library(frames)] += count
        for name in {
            f"{path.removesuffix('.py').replace('/', '.')}:{fn}" for fn, path in frames if path.startswith(_OURS)
        } - _PLUMBING:
            functions[name] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return ProcessProfile(
        samples=total,
        by_library={k: share(v) for k, v in libraries.most_common()},
        top_functions=[(k, share(v)) for k, v in functions.most_common(top)],
        raw_file=raw_file,
    )


def _split(frame: str) -> tuple[str, str]:
    """``name (path/to/file.py:12)`` -> (name, path/to/file.py)."""
    name, _, where = frame.partition(" (")
    return name, where.rsplit(":", 1)[0]


def _library(frames: list[tuple[str, str]]) -> str:
    if any(name == "_sqlite_begin" for name, _ in frames):
        return SQLITE_LOCK
    leaf_name, leaf_path = frames[-1]
    if leaf_name.rsplit(".", 1)[-1] in _WAIT_LEAVES and not leaf_path.startswith(_OURS):
        return WAITING
    for _name, path in reversed(frames):
        for label, prefixes in LIBRARIES:
            if path.startswith(prefixes):
                return label
    return "other"


@contextmanager
def profiled(
    pids: dict[str, int], scenario: str, seconds: float, stamp: str, into: dict[str, dict[str, ProcessProfile]]
) -> Iterator[None]:
    """Record every process for ``seconds`` while the body runs; summaries land in ``into[scenario]``."""
    folder = PROFILES / stamp
    folder.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name, pid in pids.items():
        out = folder / f"{scenario.replace(' ', '_')}-{name.replace('/', '_')}.txt"
        runs[name] = (
            out,
            subprocess.Popen(
                [
                    str(PY_SPY),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(max(1, int(seconds))),
                    "--rate",
                    "200",
                    "--gil",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            ),
        )
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
    """Per scenario and process: the biggest libraries and hub functions, in percent of samples."""
    lines = []
    for scenario, processes in profiles.items():
        for name, p in processes.items():
            lines.append(f"{scenario} / {name}: {p.samples} busy samples ({p.raw_file})")
            lines.append(
                "  self time: " + ", ".join(f"{k} {v:.0f}%" for k, v in list(p.by_library.items())[:libraries])
            )
            lines.append("  on stack:  " + ", ".join(f"{k} {v:.0f}%" for k, v in p.top_functions[:functions]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.profile FOLDER``: summarize the raw files of an earlier --profile run again."""
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    found = {f.stem: {"": summarize_collapsed(f.read_text(), str(f))} for f in sorted(folder.glob("*.txt"))}
    print(profile_table(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
