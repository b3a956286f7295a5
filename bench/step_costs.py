"""SQL statements and CPU per order for each workflow step, measured on the real handlers in this process.

``python -m bench.step_costs --database sqlite|postgres --orders N [--verbose]`` builds N synthetic HL7 orders
(the benchmark's sample, a fresh placer number and patient each), then drives them through the workflow's
own ``MessageBus`` handlers one step at a time, feeding each step the commands the previous one left in the
outbox: intake, claim (B1 to the payer), claim-responses (a paid answer, as the payer adapter would turn it
into a command), data verification (a pharmacist), fill, product verification. ``--batch 16`` hands each
step its commands 16 at a time, as a worker holding that many deliveries does under load. No broker is involved: it
measures the handlers and the database, not RabbitMQ. Statements are counted with a SQLAlchemy
``before_cursor_execute`` listener, CPU with ``time.thread_time``/``time.process_time`` (this process only: the
PostgreSQL server's own work shows in ``wall``). The audit chain's seal is counted apart, as ``seal``, whether
it runs in each commit (``hub.persistence.audit.seal``) or on a sealer thread (statements and CPU of any other
thread of this process).

The database is private (a SQLite file in a temporary folder, or PostgreSQL ``rxhub_bench_<random>``, dropped
at the end ``WITH (FORCE)``). A measurement tool, not a test: it only checks that every order reached READY.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, event, select, update

STEPS = ("intake", "claim", "claim-responses", "data-verification", "fill", "product-verification")
_NUMBERS = re.compile(r"\b\d+\b")
_COLUMNS = re.compile(r"\bSELECT (?!count)((?:(?!UNION).){80,}?) FROM ")


@dataclass
class StepCost:
    """What one step cost for the batch."""

    step: str
    orders: int = 0
    statements: int = 0
    seal_statements: int = 0
    cpu_s: float = 0.0
    seal_cpu_s: float = 0.0
    wall_s: float = 0.0
    #: CPU seconds of each order (its handler call, less any audit seal inside it)
    samples: list[float] = field(default_factory=list)
    texts: Counter[str] = field(default_factory=Counter)

    def row(self) -> str:
        """One line of the table."""
        n = max(self.orders, 1)
        median = statistics.median(self.samples) if self.samples else self.cpu_s / n
        return (
            f"{self.step:<22} {self.orders:>6} {(self.statements - self.seal_statements) / n:>9.2f} "
            f"{self.seal_statements / n:>6.2f} {1000 * median:>10.2f} {1000 * self.cpu_s / n:>8.2f} "
            f"{1000 * self.seal_cpu_s / n:>7.2f} {1000 * self.wall_s / n:>8.2f}"
        )


class Meter:
    """Counts statements on one engine and CPU time, charged to the step being measured.

    Statements and CPU of this thread are the step's; the audit seal, whether it runs inside the commit (an
    ``audit.seal`` module function, wrapped here) or on a sealer thread of its own, is counted apart.
    """

    def __init__(self, engine: Engine) -> None:
        self.current: StepCost | None = None
        self._in_seal = 0
        self._inline_seal = 0.0
        self._thread = threading.get_ident()
        event.listen(engine, "before_cursor_execute", self._statement)
        from hub.persistence import audit

        original = getattr(audit, "seal", None)
        if original is None:
            return

        def timed_seal(conn: Any) -> int:
            started = time.thread_time()
            self._in_seal += 1
            try:
                return original(conn)  # type: ignore[no-any-return]
            finally:
                self._in_seal -= 1
                if self.current is not None:
                    spent = time.thread_time() - started
                    self.current.seal_cpu_s += spent
                    self.current.cpu_s -= spent  # charged to the seal, not the step
                    self._inline_seal += spent

        setattr(audit, "seal", timed_seal)  # noqa: B010  (module global: the commit hook looks it up at call time)

    def _statement(
        self, _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool
    ) -> None:
        if self.current is None:
            return
        self.current.statements += 1
        sealing = self._in_seal > 0 or threading.get_ident() != self._thread
        if sealing:
            self.current.seal_statements += 1
        text = _COLUMNS.sub("SELECT ... FROM ", " ".join(statement.split()))
        self.current.texts[("[seal] " if sealing else "") + _NUMBERS.sub("N", text)[:400]] += 1

    def handle(self, cost: StepCost, call: Callable[[], None], orders: int = 1) -> None:
        """Run the handler of one order (or of a batch of ``orders``), keeping the CPU time of each as a sample."""
        self._inline_seal = 0.0
        started = time.thread_time()
        call()
        cost.samples.extend([(time.thread_time() - started - self._inline_seal) / orders] * orders)

    @contextmanager
    def step(self, cost: StepCost) -> Iterator[None]:
        """Charge everything inside to ``cost``."""
        self.current = cost
        cpu, process, wall = time.thread_time(), time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            mine = time.thread_time() - cpu
            cost.cpu_s += mine
            cost.seal_cpu_s += max(time.process_time() - process - mine, 0.0)  # other threads: the sealer
            cost.wall_s += time.perf_counter() - wall
            self.current = None


@contextmanager
def private_database(kind: str) -> Iterator[str]:
    """A SQLite file in a temporary folder, or a private PostgreSQL database; gone afterwards."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="rxhub-steps-"))
        try:
            yield f"sqlite:///{folder / 'rxhub.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from bench.environment import postgres_database

    with postgres_database() as url:
        yield url


def hl7_orders(count: int, tag: str, patients: int = 0) -> list[Any]:
    """``count`` order envelopes as the HL7 door makes them (fresh placer number, and a fresh patient each, or
    one of ``patients`` returning patients in turn)."""
    from adapters.hl7.mapping import to_commands
    from adapters.hl7.parsing import parse_message
    from bench.hl7_load import SAMPLE, OrderTemplate
    from hub.domain.commands import ReceivePrescription
    from hub.domain.order_parts import Source
    from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id

    template = OrderTemplate(SAMPLE.read_bytes())
    envelopes = []
    for n in range(count):
        placer = f"{tag}{n:06d}"
        message = parse_message(template.render(f"C{placer}", placer))
        for i, command in enumerate(to_commands(message)):
            assert isinstance(command, ReceivePrescription)
            update: dict[str, Any] = {"raw_message_ref": f"hl7:{uuid.uuid4()}"}
            if patients:
                twin = parse_message(template.render("X", f"{tag}P{n % patients:06d}"))
                update["patient"] = to_commands(twin)[0].patient  # type: ignore[attr-defined]
            command = command.model_copy(update=update)
            envelopes.append(
                Envelope.wrap(
                    command,
                    correlation_id=order_correlation_id(command.placer_system, command.placer_order_number),
                    source=Source.HL7,
                    message_id=derived_message_id("hl7", tag, placer, i),
                )
            )
    return envelopes


def take_commands(engine: Engine, message_type: str) -> list[Any]:
    """Unpublished command rows of one type from the outbox, marked published (the relay's part)."""
    from hub.messaging.envelope import Envelope
    from hub.persistence.tables import outbox

    with engine.begin() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.body)
            .where(outbox.c.published_at.is_(None), outbox.c.message_type == message_type)
            .order_by(outbox.c.seq)
        ).all()
        _mark_all_published(conn)
    return [Envelope.from_bytes(bytes(r.body)) for r in rows]


def _mark_all_published(conn: Any) -> None:
    from datetime import UTC, datetime

    from hub.persistence.tables import outbox

    conn.execute(update(outbox).where(outbox.c.published_at.is_(None)).values(published_at=datetime.now(UTC)))


def payer_answers(engine: Engine) -> list[Any]:
    """A paid answer to every claim left for the payer, as the payer-responses adapter wraps it."""
    from hub.domain.commands import RecordClaimResponse
    from hub.domain.order_parts import Source
    from hub.messaging.envelope import Envelope, derived_message_id
    from hub.persistence.tables import outbox

    with engine.begin() as conn:
        rows = conn.execute(
            select(outbox.c.correlation_id, outbox.c.message_type, outbox.c.headers)
            .where(outbox.c.published_at.is_(None), outbox.c.target == "payer")
            .order_by(outbox.c.seq)
        ).all()
        _mark_all_published(conn)
    answers = []
    for exchange, transaction, headers in rows:
        prescription_id, fill_number, attempt, _ = exchange.rsplit(":", 3)
        command = RecordClaimResponse(
            exchange_id=exchange,
            prescription_id=prescription_id,
            fill_number=int(fill_number),
            attempt=int(attempt),
            transaction=transaction,
            status="P",
            authorization_number="AUTH1",
            total_paid=Decimal("4.15"),
            patient_pay=Decimal("4.15"),
        )
        answers.append(
            Envelope.wrap(
                command,
                correlation_id=uuid.UUID(headers["x-rxhub-order-correlation"]),
                source=Source.HUB,
                message_id=derived_message_id("payer-response", exchange),
            )
        )
    return answers


def decisions(engine: Engine, state: str, stage: str, pharmacist: str) -> list[Any]:
    """A pharmacist's approval, through the staff API's envelope, for every prescription in ``state``."""
    from hub.domain.order_parts import Source
    from hub.domain.workflow_commands import RecordVerification
    from hub.messaging.envelope import Envelope
    from hub.persistence.tables import prescriptions

    with engine.connect() as conn:
        rows = conn.execute(
            select(prescriptions.c.id, prescriptions.c.correlation_id)
            .where(prescriptions.c.state == state)
            .order_by(prescriptions.c.created_at)
        ).all()
    return [
        Envelope.wrap(
            RecordVerification(prescription_id=pid, stage=stage, approve=True),
            correlation_id=uuid.UUID(corr),
            source=Source.API,
            actor=pharmacist,
        )
        for pid, corr in rows
    ]


def run(database: str, orders: int, warmup: int, verbose: bool, patients: int = 0, batch: int = 1) -> list[StepCost]:
    """Drive the batch through every step; the costs per step (warm-up orders not counted)."""
    from hub.config import Settings
    from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
    from hub.persistence.database import create_schema, make_engine
    from hub.persistence.stock import StockRepository
    from hub.persistence.tables import prescriptions
    from hub.persistence.users import UserStore
    from hub.service.bus import MessageBus

    with private_database(database) as url:
        engine = make_engine(url)
        try:
            create_schema(engine)
            settings = Settings(
                database_url=SecretStr(url),
                default_bin="999001",
                default_pcn="RXHUB",
                default_group="GRP1",
                log_json=False,
            )
            ctx = workflow_context(settings)
            buses = {step: MessageBus(engine, make(ctx), consumer=step) for step, make in STEP_HANDLERS.items()}
            pharmacist, _ = UserStore(engine).add("steps.pharmacist", "pharmacist", "RPH-STEPS-1")
            with engine.begin() as conn:
                StockRepository(conn).receive(
                    "00093005801", "STEPS1", date(2030, 12, 31), Decimal((orders + warmup) * 40)
                )
            meter = Meter(engine)
            costs = {step: StepCost(step) for step in STEPS}
            tag = uuid.uuid4().hex[:6].upper()
            for part, size in (("warm-up", warmup), ("measured", orders)):
                if size == 0:
                    continue
                envelopes = hl7_orders(size, f"{tag}{part[0]}", patients)
                _batch(engine, buses, meter, costs if part == "measured" else None, envelopes, pharmacist.id, batch)
            with engine.connect() as conn:
                ready = conn.execute(select(prescriptions.c.state)).scalars().all()
            if Counter(ready) != {"ready": orders + warmup}:
                raise SystemExit(f"step_costs: not every order reached READY: {Counter(ready)}")
        finally:
            engine.dispose()
    return list(costs.values())


def _batch(
    engine: Engine,
    buses: dict[str, Any],
    meter: Meter,
    costs: dict[str, StepCost] | None,
    intake: list[Any],
    pharmacist: str,
    batch: int = 1,
) -> None:
    def drive(step: str, bus: str, envelopes: list[Any]) -> None:
        # as a worker does: one message at a time, or as many as it holds (up to RXHUB_CONSUMER_BATCH) at once
        chunks = [envelopes[i : i + batch] for i in range(0, len(envelopes), batch)]
        if costs is None:
            for chunk in chunks:
                _apply(buses[bus], chunk)
            return
        cost = costs[step]
        cost.orders += len(envelopes)
        with meter.step(cost):
            for chunk in chunks:
                meter.handle(cost, functools.partial(_apply, buses[bus], chunk), len(chunk))

    feeds: list[tuple[str, str, Callable[[], list[Any]]]] = [
        ("intake", "intake", lambda: intake),
        ("claim", "claim", lambda: take_commands(engine, "SendClaim")),
        ("claim-responses", "claim-responses", lambda: payer_answers(engine)),
        ("data-verification", "verification", lambda: decisions(engine, "data_verification", "data", pharmacist)),
        ("fill", "fill", lambda: take_commands(engine, "FillPrescription")),
        (
            "product-verification",
            "verification",
            lambda: decisions(engine, "product_verification", "product", pharmacist),
        ),
    ]
    for step, bus, feed in feeds:
        envelopes = feed()
        if len(envelopes) != len(intake):
            raise SystemExit(f"step_costs: {step} got {len(envelopes)} commands for {len(intake)} orders")
        drive(step, bus, envelopes)


def _apply(bus: Any, chunk: list[Any]) -> None:
    failed = [outcome for outcome in bus.handle_batch(chunk) if outcome is not None]
    if failed:
        raise failed[0]


def report(costs: list[StepCost], database: str, verbose: bool) -> None:
    """The table, and with ``verbose`` each step's statements (numbers replaced by N) per order."""
    print(
        f"\nstep costs per order, {database} (SQL = statements excluding the audit seal; CPU = this process's "
        "handler thread, the median order and the mean; seal = the audit seal's statements and CPU; wall "
        "includes the database server)"
    )
    print(
        f"{'step':<22} {'orders':>6} {'SQL/order':>9} {'seal':>6} {'CPU ms p50':>10} {'CPU mean':>8} {'seal ms':>7} "
        f"{'wall ms':>8}"
    )
    total = StepCost("total")
    for cost in costs:
        print(cost.row())
        total.samples = [sum(order) for order in zip(*(c.samples for c in costs), strict=True)]
        total.orders = cost.orders
        total.statements += cost.statements
        total.seal_statements += cost.seal_statements
        total.cpu_s += cost.cpu_s
        total.seal_cpu_s += cost.seal_cpu_s
        total.wall_s += cost.wall_s
    print(total.row())
    if not verbose:
        return
    for cost in costs:
        print(f"\n{cost.step}: statements per order")
        for text, count in sorted(cost.texts.items(), key=lambda kv: (kv[0].startswith("[seal]"), -kv[1])):
            print(f"  {count / max(cost.orders, 1):5.2f}  {text}")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20, help="orders run first and not counted (imports, caches)")
    parser.add_argument("--verbose", action="store_true", help="print each step's statements")
    parser.add_argument(
        "--patients",
        type=int,
        default=0,
        help="spread the orders over this many returning patients (0: a new patient per order), "
        "so intake matches known patients and screens their profiles",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="messages handled together, as a worker holding that many deliveries does "
        "(its RXHUB_CONSUMER_BATCH, 16, under load; 1: one at a time)",
    )
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    costs = run(args.database, args.orders, args.warmup, args.verbose, args.patients, args.batch)
    report(costs, args.database, args.verbose)


if __name__ == "__main__":
    main()
