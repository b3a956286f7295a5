"""RabbitMQ least privilege as data: one broker user per kind of client, with the permissions it needs.

RabbitMQ permissions are three regexes per vhost (configure, write, read) over exchange and queue names
(https://www.rabbitmq.com/docs/access-control): publishing needs write on the exchange, consuming read on
the queue, binding write on the queue and read on the exchange, declaring configure.
"""

from __future__ import annotations

import re
import secrets
import subprocess

from pydantic import BaseModel, ConfigDict

NOTHING = "^$"


class BrokerUser(BaseModel):
    """One broker identity and its permissions on the hub's vhost."""

    model_config = ConfigDict(frozen=True)
    name: str
    purpose: str
    configure: str
    write: str
    read: str


def hub_users(prefix: str = "rxhub", subscribers: tuple[str, ...] = ()) -> list[BrokerUser]:
    """The operator, listeners, workers and each external subscriber (which gets its own queue prefix)."""
    p = re.escape(prefix)
    users = [
        BrokerUser(
            name=f"{prefix}-admin",
            purpose="operator: declares the topology, replays and purges dead letters",
            configure=f"^{p}\\.",
            write=f"^({p}\\..*|amq\\.default)$",
            read=f"^{p}\\.",
        ),
        BrokerUser(
            name=f"{prefix}-listener",
            purpose="doors (MLLP, HTTP): publish commands only",
            configure=NOTHING,
            write=f"^{p}\\.commands$",
            read=NOTHING,
        ),
        BrokerUser(
            name=f"{prefix}-worker",
            purpose="workers and outbox relay: consume steps, publish commands/events/claims, park delayed checks",
            configure=NOTHING,
            write=f"^({p}\\.(commands|events|payer|dlx)|amq\\.default)$",
            read=f"^{p}\\.(intake|claim|claim-responses|verification|fill|payer-responses)(\\..*)?$",
        ),
    ]
    for name in subscribers:
        own = re.escape(f"{prefix}-sub-{name}")
        users.append(
            BrokerUser(
                name=f"{prefix}-sub-{name}",
                purpose=f"subscriber {name}: binds its own queues to {prefix}.events and reads them, nothing else",
                configure=f"^{own}\\.",
                write=f"^{own}\\.",
                read=f"^({p}\\.events|{own}\\..*)$",
            )
        )
    return users


def commands(users: list[BrokerUser], vhost: str) -> list[list[str]]:
    """The rabbitmqctl invocations (passwords go on stdin, never in argv or these lines)."""
    out: list[list[str]] = []
    for user in users:
        out.append(["rabbitmqctl", "add_user", user.name])
        out.append(["rabbitmqctl", "set_permissions", "-p", vhost, user.name, user.configure, user.write, user.read])
    return out


def render(users: list[BrokerUser], vhost: str) -> str:
    """A shell script an operator can read and run (it prompts for each password)."""
    lines = [f"# RxHub broker users for vhost {vhost!r}: least privilege per client kind (docs/security.md)"]
    for user in users:
        lines.append(f"# {user.name}: {user.purpose}")
        lines.append(f"rabbitmqctl add_user {user.name}    # prompts for the password")
        lines.append(
            f"rabbitmqctl set_permissions -p '{vhost}' {user.name} '{user.configure}' '{user.write}' '{user.read}'"
        )
    return "\n".join(lines) + "\n"


def apply(users: list[BrokerUser], vhost: str, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Create (or update) the users and their permissions; returns the passwords used (generated when absent)."""
    chosen = {u.name: (passwords or {}).get(u.name) or secrets.token_urlsafe(24) for u in users}
    existing = set(_ctl(["list_users", "--no-table-headers"]).split())
    for user in users:
        if user.name in existing:
            _ctl(["change_password", user.name], stdin=chosen[user.name])
        else:
            _ctl(["add_user", user.name], stdin=chosen[user.name])
        _ctl(["set_permissions", "-p", vhost, user.name, user.configure, user.write, user.read])
    return chosen


def remove(users: list[BrokerUser]) -> None:
    """Delete the users (tests, decommissioning)."""
    for user in users:
        _ctl(["delete_user", user.name])


def _ctl(args: list[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            ["rabbitmqctl", "-q", *args], input=stdin, capture_output=True, text=True, check=True, timeout=60
        )
    except subprocess.CalledProcessError as exc:
        # the error names the command (never the password, which went on stdin)
        raise RuntimeError(f"rabbitmqctl {args[0]} failed: {exc.stderr.strip()[:300]}") from None
    return done.stdout
