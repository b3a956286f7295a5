"""``rxhub``: the command line. Every subcommand builds Settings once from RXHUB_* variables."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hub.config import Settings
from hub.entrypoints import cli_claims, cli_db, cli_security, event_catalogue, exit_codes, logs, preflight
from hub.entrypoints.mllp_client import MllpClient, split_messages
from hub.entrypoints.runtime import ALL_STEPS, declare_topology, open_database, topology_for
from hub.entrypoints.supervisor import Supervisor
from hub.errors import RxHubError
from hub.messaging.consumer import FailureKind
from hub.messaging.dead_letters import DeadLetterQueue
from hub.observability import metrics
from hub.persistence.audit import AuditTrail
from hub.persistence.chain_sealer import sealer_for
from hub.persistence.feeds import FeedError, FeedStore
from hub.persistence.users import UserStore

#: the workers' failure kinds, and ``superseded``: an outbound HL7 message its order had moved past
DEAD_LETTER_KINDS = [*(str(k) for k in FailureKind), "superseded"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen subcommand; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()  # pydantic's one line names the variable, never the value (it may be a secret)
        logs.configure(settings.log_level, settings.log_json)
        if args.func not in (_run, _serve, _worker, _payer_sim, cli_claims.switch_connector, cli_claims.switch_sim):
            # a one-shot command reports a broker failure in its one line; pika's own log of it is noise there
            logging.getLogger("pika").setLevel(logging.CRITICAL)
        sys.setswitchinterval(settings.thread_switch_interval_ms / 1000)
        handler: Callable[[argparse.Namespace, Settings], int] = args.func
        return handler(args, settings)
    except (Exception, KeyboardInterrupt) as exc:  # one line and a distinct code (hub.entrypoints.exit_codes)
        if args.debug:
            raise
        code, what = exit_codes.classify(exc)
        print(f"rxhub: {what}: {exit_codes.one_line(exc)}", file=sys.stderr)
        return int(code)


def _version() -> str:
    try:
        return version("rxhub")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxhub", description="RxHub pharmacy messaging hub", epilog="Exit codes: README.md, 'Exit codes'."
    )
    parser.add_argument("--version", action="version", version=f"rxhub {_version()}")
    parser.add_argument("--debug", action="store_true", help="a failure prints its traceback, not one line")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    copies_help = "consumer threads per step (default: RXHUB_WORKER_COPIES)"
    run = sub.add_parser("run", help="listeners and every worker (the main job)")
    run.add_argument("--copies", type=int, default=None, help=copies_help)
    run.add_argument(
        "--worker-processes",
        type=int,
        default=None,
        metavar="N",
        help="run the workers in N child processes, 0 on threads beside the listeners (default: 1 "
        "on a machine with two or more cores; more scale out on more cores, PostgreSQL advised)",
    )
    run.set_defaults(func=_run)
    sub.add_parser("serve", help="listeners only").set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run the named workers")
    worker.add_argument("steps", nargs="+", choices=list(ALL_STEPS))
    worker.add_argument("--copies", type=int, default=None, help=copies_help)
    worker.set_defaults(func=_worker)
    sub.add_parser("topology", help="declare exchanges and queues (idempotent)").set_defaults(func=_topology)
    send = sub.add_parser("send", help="send HL7 files over MLLP and print each ACK")
    send.add_argument("files", nargs="+", type=Path)
    send.add_argument("--host")
    send.add_argument("--port", type=int)
    send.set_defaults(func=_send)
    users = sub.add_parser("users", help="staff and client identities").add_subparsers(required=True, metavar="ACTION")
    add = users.add_parser("add", help="create a user and print its API token (shown once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["technician", "pharmacist", "admin", "feed"])
    add.add_argument("--licence", help="pharmacist licence number (required to verify)")
    add.add_argument("--expires-days", type=int, help="token lifetime in days (default: by role, docs/security.md)")
    add.set_defaults(func=_users_add)
    users.add_parser("list", help="list users").set_defaults(func=_users_list)
    revoke = users.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("name")
    revoke.set_defaults(func=_users_revoke)
    _register_feeds(sub)
    sim = sub.add_parser("payer-sim", help="run the simulated payer (speaks NCPDP D.0 over RabbitMQ)")
    sim.add_argument("--config", type=Path, help="payer plan data file (default: hub/data/payer-sim.json)")
    sim.set_defaults(func=_payer_sim)
    dlq = sub.add_parser("dlq", help="dead letters: list, replay, purge").add_subparsers(
        required=True, metavar="ACTION"
    )
    dlq_list = dlq.add_parser("list", help="what failed, why and when (no message bodies)")
    dlq_list.add_argument("--json", action="store_true")
    dlq_list.add_argument(
        "--kind", dest="failure_kind", choices=DEAD_LETTER_KINDS, help="only dead letters of this kind"
    )
    dlq_list.set_defaults(func=_dlq_list)
    replay = dlq.add_parser("replay", help="send dead letters back through the normal path (idempotent)")
    replay.add_argument("--all", action="store_true", help="replay every dead letter")
    replay.add_argument("--message-id")
    replay.add_argument("--correlation-id")
    replay.add_argument("--kind", dest="failure_kind", choices=DEAD_LETTER_KINDS)
    replay.add_argument("--type", dest="message_type")
    replay.add_argument("--queue")
    replay.set_defaults(func=_dlq_replay)
    purge = dlq.add_parser("purge", help="drop every dead letter")
    purge.add_argument("--yes", action="store_true", help="confirm")
    purge.set_defaults(func=_dlq_purge)
    outbound = sub.add_parser("outbound", help="outbound HL7 destinations").add_subparsers(
        required=True, metavar="ACTION"
    )
    outbound.add_parser("status", help="each destination's state, backlog and last error").set_defaults(
        func=_outbound_status
    )
    cli_security.register(sub)
    cli_db.register(sub)
    cli_claims.register(sub)
    events = sub.add_parser("events", help="print the public events catalogue (AsyncAPI JSON or a table)")
    events.add_argument("--table", action="store_true", help="a markdown table instead of AsyncAPI JSON")
    events.set_defaults(func=_events)
    return parser


def _dead_letters(settings: Settings) -> DeadLetterQueue:
    return DeadLetterQueue(settings.amqp_url.get_secret_value(), topology_for(settings))


def _dlq_list(args: argparse.Namespace, settings: Settings) -> int:
    letters = [x for x in _dead_letters(settings).list() if x.matches(failure_kind=args.failure_kind)]
    if args.json:
        print(json.dumps([dataclasses.asdict(x) for x in letters], indent=2))
        return 0
    print(f"{len(letters)} dead letter(s)")
    for x in letters:
        print(
            f"{x.message_id}  {x.message_type:22} {x.queue:28} {x.failure_kind:20} retries={x.retries} "
            f"first={x.first_failure} last={x.last_failure} order={x.correlation_id}\n    {x.error}"
        )
    return 0


def _dlq_replay(args: argparse.Namespace, settings: Settings) -> int:
    filters = {k: getattr(args, k) for k in ("message_id", "correlation_id", "failure_kind", "message_type", "queue")}
    if not args.all and not any(filters.values()):
        print("rxhub: say which dead letters to replay (--all, or a filter)", file=sys.stderr)
        return 2
    audit = AuditTrail(open_database(settings))
    operator = os.environ.get("USER", "operator")
    replayed = _dead_letters(settings).replay(
        on_replay=lambda x: audit.record(
            actor=operator,
            role="admin",
            action="dlq replay",
            detail={"message_id": x.message_id, "type": x.message_type},
        ),
        **filters,
    )
    print(f"replayed {len(replayed)} dead letter(s)")
    return 0


def _dlq_purge(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        print("rxhub: purging deletes every dead letter for good; run again with --yes", file=sys.stderr)
        return 2
    print(f"purged {_dead_letters(settings).purge()} dead letter(s)")
    return 0


def _outbound_status(_args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the adapters load only for the commands that run them
    # lazy: the adapters load only for the commands that use them
    from hub.entrypoints.outbound_view import print_outbound_status

    return print_outbound_status(settings)


def _events(args: argparse.Namespace, _settings: Settings) -> int:
    print(
        event_catalogue.markdown_table() if args.table else event_catalogue.render(), end="" if not args.table else "\n"
    )
    return 0


def _users_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.role == "pharmacist" and not args.licence:
        print("rxhub: a pharmacist needs --licence to verify prescriptions", file=sys.stderr)
    user, token = UserStore(open_database(settings)).add(args.name, args.role, args.licence, args.expires_days)
    print(f"user {user.name} ({user.role}) id={user.id}")
    print(f"token: {token}")
    print("Keep the token: it is stored hashed and cannot be shown again.")
    return 0


def _users_list(_args: argparse.Namespace, settings: Settings) -> int:
    for user, active in UserStore(open_database(settings)).list():
        print(f"{user.name:20} {user.role:12} {'active' if active else 'revoked'}")
    return 0


def _users_revoke(args: argparse.Namespace, settings: Settings) -> int:
    ok = UserStore(open_database(settings)).revoke(args.name)
    print("revoked" if ok else "no active user of that name")
    return 0 if ok else 1


def _register_feeds(sub: Any) -> None:
    feeds = sub.add_parser(
        "feeds", help="the systems that send orders, and what each may present or claim"
    ).add_subparsers(required=True, metavar="ACTION")
    add = feeds.add_parser("add", help="a new feed with its bindings; prints its bearer token once")
    add.add_argument("name")
    bind = feeds.add_parser("bind", help="more bindings for a feed")
    bind.add_argument("name")
    for parser in (add, bind):
        parser.add_argument(
            "--cert-subject",
            action="append",
            default=[],
            metavar="CN",
            help="an MLLP client certificate subject CN this feed connects with (repeatable)",
        )
        parser.add_argument(
            "--hl7-sender",
            action="append",
            default=[],
            metavar="APP^FACILITY",
            help="an MSH-3^MSH-4 this feed may send as (repeatable); on a plain connection from "
            "loopback or a TLS-terminating proxy it identifies the feed",
        )
        parser.add_argument(
            "--script-from",
            action="append",
            default=[],
            metavar="[QUALIFIER:]ID",
            help="a SCRIPT Header/From this feed may send as, e.g. D:1234567 (repeatable)",
        )
    add.add_argument("--no-token", action="store_true", help="no bearer token (an MLLP-only feed)")
    add.add_argument("--expires-days", type=int, help="token lifetime in days (default RXHUB_FEED_TOKEN_MAX_AGE_DAYS)")
    add.set_defaults(func=_feeds_add)
    bind.set_defaults(func=_feeds_bind)
    unbind = feeds.add_parser("unbind", help="drop one binding")
    unbind.add_argument("name")
    unbind.add_argument("kind", choices=["cert", "hl7", "script"])
    unbind.add_argument("value")
    unbind.set_defaults(func=_feeds_unbind)
    feeds.add_parser("list", help="every feed and its bindings").set_defaults(func=_feeds_list)
    remove = feeds.add_parser("remove", help="stop a feed: its bindings go and its token is revoked")
    remove.add_argument("name")
    remove.set_defaults(func=_feeds_remove)


def _bindings(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The bindings named on the command line, HL7 senders written as the doors read them (APP|FACILITY)."""
    hl7 = [value.replace("^", "|", 1) if "|" not in value else value for value in args.hl7_sender]
    return (
        [("cert", v) for v in args.cert_subject] + [("hl7", v) for v in hl7] + [("script", v) for v in args.script_from]
    )


def _feeds_add(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings)
    try:
        FeedStore(engine).add(args.name, _bindings(args))
    except FeedError as exc:
        print(f"rxhub: {exc}", file=sys.stderr)
        return 1
    print(f"feed {args.name}: " + (", ".join(f"{k} {v}" for k, v in _bindings(args)) or "no bindings"))
    if not args.no_token:
        _, token = UserStore(engine).add(args.name, "feed", None, args.expires_days)
        print(f"token: {token}")
        print("Keep the token: it is stored hashed and cannot be shown again.")
    return 0


def _feeds_bind(args: argparse.Namespace, settings: Settings) -> int:
    try:
        FeedStore(open_database(settings)).bind(args.name, _bindings(args))
    except FeedError as exc:
        print(f"rxhub: {exc}", file=sys.stderr)
        return 1
    print(f"feed {args.name}: bound (the doors see it within a few seconds)")
    return 0


def _feeds_unbind(args: argparse.Namespace, settings: Settings) -> int:
    ok = FeedStore(open_database(settings)).unbind(args.name, args.kind, args.value)
    print("unbound" if ok else "no such binding")
    return 0 if ok else 1


def _feeds_list(_args: argparse.Namespace, settings: Settings) -> int:
    for feed in FeedStore(open_database(settings)).all():
        bound = ", ".join(f"{k} {v}" for k, v in feed.bindings) or "no bindings"
        print(f"{feed.name:20} {'active' if feed.active else 'removed':8} {bound}")
    return 0


def _feeds_remove(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings)
    removed = FeedStore(engine).disable(args.name)
    revoked = UserStore(engine).revoke(args.name)
    print("removed" + (" and its token revoked" if revoked else "") if removed else "no active feed of that name")
    return 0 if removed else 1


def _payer_sim(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the adapters load only for the commands that use them
    from adapters.ncpdp.payer_link import run_payer_sim

    if failed := _preflight(settings, doors=False, workers=False):  # no guest/guest sent to a remote broker
        return failed
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    declare_topology(settings)
    run_payer_sim(
        settings.amqp_url.get_secret_value(), topology_for(settings), args.config or settings.payer_sim_config, stop
    )
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if failed := _preflight(settings, doors=True, workers=True):
        return failed
    # lazy: the composition root opens the database and the broker, which one-shot commands must not pay for
    from hub import bootstrap

    engine = bootstrap.open_hub(settings)
    if args.worker_processes is None:
        args.worker_processes = default_worker_processes()
    if args.worker_processes > 0:
        return _run_split(args, settings, engine)
    workers = bootstrap.build_workers(settings, engine, copies=copies(args, settings))
    workers.start()
    try:
        _run_doors(settings, engine)
    finally:
        workers.close()
    return 0


def _preflight(settings: Settings, *, doors: bool, workers: bool) -> int:
    """Every setting checked before anything opens (hub.entrypoints.preflight); 0, or 2 after one line on stderr."""
    try:
        preflight.check(settings, doors=doors, workers=workers)
    except RxHubError as exc:
        print(f"rxhub: configuration: {preflight.one_line(exc)}", file=sys.stderr)
        return 2
    return 0


def copies(args: argparse.Namespace, settings: Settings) -> int:
    """Consumer threads per step: ``--copies``, else the settings' ``worker_copies``."""
    return args.copies if args.copies is not None else settings.worker_copies


def default_worker_processes() -> int:
    """One worker process beside the listeners when there is a second core: each gets its own interpreter lock,
    so an ACK never waits for a worker thread to let go of it."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


def _run_split(args: argparse.Namespace, settings: Settings, engine: Engine) -> int:
    """Listeners here, workers in child processes: each has its own interpreter lock and core. A worker process
    that dies is started again, and they all exit when this one does (hub.entrypoints.supervisor)."""
    command = [
        sys.executable,
        "-m",
        "hub.entrypoints.cli",
        "worker",
        *ALL_STEPS,
        "--copies",
        str(copies(args, settings)),
    ]
    env = {**os.environ, **metrics.worker_environment()}  # their counters reach this process's /metrics
    workers = Supervisor(command, env, args.worker_processes, nice=settings.worker_nice)
    workers.start()
    # the workers' sealers, woken by their own commits, chain the doors' entries with theirs: the doors'
    # sealer only sweeps, instead of a second sealer taking the chain's lock after every journal batch
    sealer_for(engine).sweep_only = True
    try:
        _run_doors(settings, engine)
    finally:
        workers.stop()
        metrics.forget_workers()
    return 0


def _serve(_args: argparse.Namespace, settings: Settings) -> int:
    if failed := _preflight(settings, doors=True, workers=False):
        return failed
    # lazy: the composition root opens the database and the broker, which one-shot commands must not pay for
    from hub import bootstrap

    _run_doors(settings, bootstrap.open_hub(settings))
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    if failed := _preflight(settings, doors=False, workers=True):
        return failed
    sys.setswitchinterval(settings.worker_switch_interval_ms / 1000)
    if metrics.serve_worker_metrics(settings.http_host, settings.worker_metrics_port):
        print(
            f"rxhub worker: metrics on http://{settings.http_host}:{settings.worker_metrics_port}/metrics", flush=True
        )
    # lazy: the composition root opens the database and the broker, which one-shot commands must not pay for
    from hub import bootstrap

    workers = bootstrap.build_workers(settings, bootstrap.open_hub(settings), list(args.steps), copies(args, settings))
    workers.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    workers.close()
    return 0


def _run_doors(settings: Settings, engine: Engine) -> None:
    """The doors' event loop: uvloop's when installed (its loop and transports are C, a good part of each ACK's
    CPU on the default loop), asyncio's otherwise."""
    try:
        import uvloop  # lazy: an optional dependency
    except ImportError:
        asyncio.run(_serve_until_signal(settings, engine))
        return
    uvloop.run(_serve_until_signal(settings, engine))


def banner(settings: Settings, mllp_port: int | None, http_port: int) -> str:
    """The line ``rxhub run``/``serve`` print once the doors listen, with the schemes they really speak."""
    mllp = f"{settings.mllp_host}:{mllp_port if mllp_port is not None else '-'}"
    scheme = "https" if settings.http_tls_cert else "http"
    return f"rxhub: MLLP on {mllp}, HTTP on {scheme}://{settings.http_host}:{http_port}"


async def _serve_until_signal(settings: Settings, engine: Engine) -> None:
    # lazy: the doors' half of the composition root loads FastAPI and the adapters, which one-shot commands and
    # worker processes must not pay for
    from hub.bootstrap.doors import build_doors

    doors = build_doors(settings, engine)
    await doors.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(banner(settings, doors.mllp.port if doors.mllp else None, doors.http_port), flush=True)
    await stop.wait()
    await doors.stop()


def _topology(_args: argparse.Namespace, settings: Settings) -> int:
    if failed := _preflight(settings, doors=False, workers=False):  # no guest/guest sent to a remote broker
        return failed
    topology = declare_topology(settings.model_copy(update={"declare_topology": True}))
    for name, kind in topology.exchanges():
        print(f"exchange {name} ({kind})")
    for queue in topology.queues():
        print(f"queue    {queue.name} ({'quorum' if queue.quorum else 'classic'})")
    return 0


def _send(args: argparse.Namespace, settings: Settings) -> int:
    failures = 0
    with MllpClient(args.host or settings.mllp_host, args.port or settings.mllp_port) as client:
        for path in args.files:
            for message in split_messages(path.read_bytes()):
                ack = client.send(message)
                print(f"{path.name}: {ack.decode(errors='replace').replace(chr(13), chr(10))}")
                codes = [line[4:6] for line in ack.split(b"\r") if line.startswith(b"MSA|")]  # a batch: several
                failures += not codes or any(code not in (b"AA", b"CA") for code in codes)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
