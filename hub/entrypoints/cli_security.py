"""``rxhub certs``, ``rxhub audit``, ``rxhub broker-users`` and ``rxhub retention``: the security subcommands.

``register(subparsers)`` adds them to the main parser; each handler takes (args, settings) like the others.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.config import Settings
from hub.entrypoints.runtime import audit_keys, open_database
from hub.messaging.broker_nodes import vhost as broker_vhost
from hub.persistence.audit import AuditTrail
from hub.persistence.audit_reseal import head_anchor, rekey
from hub.security import audit_anchors, broker_users
from hub.security.audit_chain import utc_text
from hub.security.audit_export import audit_bundle
from hub.security.audit_keys import new_key as new_audit_key
from hub.security.certs import LOCAL_NAMES, write_dev_certificates
from hub.security.command_signing import new_key as new_command_key
from hub.security.data_key import new_key as new_data_key
from hub.security.retention import purge_expired


def register(sub: Any) -> None:
    """Add the security subcommands to ``rxhub``'s subparsers."""
    certs = sub.add_parser("certs", help="certificates and keys for trying TLS locally").add_subparsers(
        required=True, metavar="ACTION"
    )
    dev = certs.add_parser("dev", help="a local CA, a server certificate for localhost and client certificates")
    dev.add_argument("--out", type=Path, default=Path("var/certs"))
    dev.add_argument("--client", action="append", default=[], help="client certificate subject CN (repeatable)")
    dev.add_argument("--name", action="append", default=[], help="server name or IP (default localhost, 127.0.0.1)")
    dev.set_defaults(func=_certs_dev)
    certs.add_parser("data-key", help="print a new RXHUB_DATA_KEY").set_defaults(func=_data_key)
    certs.add_parser("command-key", help="print a new RXHUB_COMMAND_KEY").set_defaults(func=_command_key)
    certs.add_parser("audit-key", help="print a new RXHUB_AUDIT_KEY").set_defaults(func=_audit_key)

    audit = sub.add_parser("audit", help="the audit trail: query, verify, export").add_subparsers(
        required=True, metavar="ACTION"
    )
    query = audit.add_parser("query", help="entries by patient, prescription, user and time range")
    for flag in ("--patient", "--prescription", "--user"):
        query.add_argument(flag)
    query.add_argument("--since", type=datetime.fromisoformat)
    query.add_argument("--until", type=datetime.fromisoformat)
    query.add_argument("--limit", type=int, default=500)
    query.add_argument("--fhir", action="store_true", help="a Bundle of FHIR AuditEvents")
    query.set_defaults(func=_audit_query)
    verify = audit.add_parser("verify", help="check the chain (reads only); exit 1 when anything was altered")
    verify.add_argument("--anchor", help="a head hash noted earlier: it must still be in the chain")
    verify.add_argument("--anchors", type=Path, help="a file of signed anchors (rxhub audit anchor): each must hold")
    verify.set_defaults(func=_audit_verify)
    anchor = audit.add_parser("anchor", help="write a signed anchor of the chain's head to a file or syslog")
    anchor.add_argument("--to", help="a file, or syslog (default: RXHUB_AUDIT_ANCHOR_TARGET)")
    anchor.set_defaults(func=_audit_anchor)
    rekey = audit.add_parser("rekey", help="check the chain, then re-seal it with RXHUB_AUDIT_KEY (table owner)")
    rekey.add_argument("--anchor", help="a head hash noted earlier: it must still be in the chain")
    rekey.set_defaults(func=_audit_rekey)

    broker = sub.add_parser("broker-users", help="least-privilege RabbitMQ users: print (default) or --apply")
    broker.add_argument("--apply", action="store_true", help="run rabbitmqctl (passwords printed once)")
    broker.add_argument("--vhost", help="default: the vhost of RXHUB_AMQP_URL")
    broker.add_argument("--subscriber", action="append", default=[], help="an external subscriber (repeatable)")
    broker.set_defaults(func=_broker_users)

    retention = sub.add_parser("retention", help="purge what is past the retention period").add_subparsers(
        required=True, metavar="ACTION"
    )
    purge = retention.add_parser(
        "purge", help="drop raw message and outbox bodies, and idempotency records, older than RXHUB_RAW_RETENTION_DAYS"
    )
    purge.add_argument("--days", type=int, help="override the retention setting")
    purge.set_defaults(func=_retention_purge)


def _certs_dev(args: argparse.Namespace, _settings: Settings) -> int:
    made = write_dev_certificates(args.out, tuple(args.client) or ("ehr-feed",), tuple(args.name) or LOCAL_NAMES)
    print(f"dev CA and certificates in {made.folder} (not for production: the CA key is beside them)")
    print(f"RXHUB_MLLP_TLS_CERT={made.server_cert}\nRXHUB_MLLP_TLS_KEY={made.server_key}")
    print(f"RXHUB_MLLP_TLS_CLIENT_CA={made.ca}\nRXHUB_MLLP_TLS_REQUIRE_CLIENT_CERT=true")
    print(f"RXHUB_MLLP_TLS_ALLOWED_SUBJECTS={json.dumps(list(made.clients))}")
    print(f"RXHUB_HTTP_TLS_CERT={made.server_cert}\nRXHUB_HTTP_TLS_KEY={made.server_key}")
    for cn, (cert, key) in made.clients.items():
        print(f"client {cn}: {cert} {key}")
    return 0


def _data_key(_args: argparse.Namespace, _settings: Settings) -> int:
    print(new_data_key())
    return 0


def _command_key(_args: argparse.Namespace, _settings: Settings) -> int:
    print(new_command_key())
    return 0


def _audit_key(_args: argparse.Namespace, _settings: Settings) -> int:
    print(new_audit_key())
    return 0


def _trail(settings: Settings) -> AuditTrail:
    return AuditTrail(open_database(settings))


def _audit_query(args: argparse.Namespace, settings: Settings) -> int:
    trail = _trail(settings)
    entries = trail.query(
        patient_id=args.patient,
        prescription_id=args.prescription,
        actor=args.user,
        since=args.since,
        until=args.until,
        limit=args.limit,
    )
    trail.record(
        actor=os.environ.get("USER", "operator"),
        role="admin",
        action="read audit trail",
        prescription_id=args.prescription,
        patient_id=args.patient,
    )
    if args.fhir:
        print(json.dumps(audit_bundle(entries), indent=2))
        return 0
    for e in entries:
        print(
            f"{e.seq or '-':>6} {utc_text(e.at)} {e.actor:20} {e.role:11} {e.action:30} {e.outcome:15} "
            f"rx={e.prescription_id or '-'} {json.dumps(e.detail)}"
        )
    return 0


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    trail, keys = _trail(settings), audit_keys(settings)
    anchored, bad = {}, []
    for found in audit_anchors.read(args.anchors) if args.anchors else []:
        if isinstance(found, str) or not audit_anchors.signature_holds(found, keys):
            bad.append(found if isinstance(found, str) else f"anchor of entry {found.seq}: signature does not hold")
        else:
            anchored[found.seq] = found.hash
    report = trail.verify(anchor=args.anchor, anchored_at=anchored)
    print(
        f"checked {report.checked} entries; head {report.head_seq} {report.head_hash}; "
        f"{report.pending} waiting to be sealed; {len(anchored)} anchor(s) held to"
    )
    for problem in report.problems:
        print(f"BROKEN entry {problem.seq if problem.seq is not None else '-'} (row {problem.id}): {problem.reason}")
    for line in bad:
        print(f"BROKEN anchors file: {line}")
    ok = report.ok and not bad
    print("chain intact" if ok else "chain BROKEN")
    return 0 if ok else 1


def _audit_anchor(args: argparse.Namespace, settings: Settings) -> int:
    anchor = head_anchor(open_database(settings))
    if anchor is None:
        print("the audit trail is empty: nothing to anchor")
        return 0
    target = args.to or audit_anchors.target(settings.audit_anchor_target, settings.data_dir)
    audit_anchors.write(anchor, target)
    print(f"anchored entry {anchor.seq} {anchor.hash} (key {anchor.key_id}) to {target}")
    return 0


def _audit_rekey(args: argparse.Namespace, settings: Settings) -> int:
    report, resealed = rekey(open_database(settings), anchor=args.anchor)
    for problem in report.problems:
        print(f"BROKEN entry {problem.seq if problem.seq is not None else '-'} (row {problem.id}): {problem.reason}")
    if not report.ok:
        print("chain BROKEN: nothing re-sealed (restore from a backup you trust, then rekey)")
        return 1
    print(
        f"checked {report.checked} entries; re-sealed {resealed} with RXHUB_AUDIT_KEY; "
        "take an anchor now (rxhub audit anchor)"
    )
    return 0


def _broker_users(args: argparse.Namespace, settings: Settings) -> int:
    vhost = args.vhost or broker_vhost(settings.amqp_url.get_secret_value())
    users = broker_users.hub_users(settings.broker_prefix, tuple(args.subscriber))
    if not args.apply:
        print(broker_users.render(users, vhost), end="")
        return 0
    passwords = broker_users.apply(users, vhost)
    print("broker users applied; passwords (shown once, store them in your secret manager):")
    for name, password in passwords.items():
        print(f"  {name}: {password}")
    return 0


def _retention_purge(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.raw_retention_days if args.days is None else args.days
    purged = purge_expired(open_database(settings), days=days, actor=os.environ.get("USER", "operator"))
    print(
        f"purged what is older than {days} day(s): the raw bodies of {purged.raw_bodies} received message(s), "
        f"the bodies of {purged.outbox_bodies} published outbox message(s), "
        f"{purged.idempotency_records} idempotency record(s), "
        f"the records of {purged.refused_messages} refused message(s), "
        f"the outcomes of {purged.command_outcomes} staff command(s)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one security subcommand on its own (until the main CLI registers them)."""
    parser = argparse.ArgumentParser(prog="rxhub")
    register(parser.add_subparsers(required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return int(args.func(args, Settings()))


if __name__ == "__main__":
    sys.exit(main())
