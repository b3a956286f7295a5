"""The one settings object, read from ``RXHUB_*`` environment variables once at start-up."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: the reference data shipped inside the package (hub/data: drug catalogue, interaction table, payer simulator
#: plan); pip installs packages unpacked, so the resource is a real folder that settings can name by path
DATA_DIR = Path(str(resources.files("hub.data")))
#: secrets that may instead be read from the file ``RXHUB_<NAME>_FILE`` names (Docker and Kubernetes secrets),
#: so that they are never in the environment ``docker inspect`` or ``/proc/<pid>/environ`` shows
FILE_SECRETS = ("amqp_url", "database_url", "data_key", "command_key", "audit_key")


def default_data_dir() -> Path:
    """Where the hub keeps its state when ``RXHUB_DATA_DIR`` is unset, never the current directory: a service
    run as root uses ``/var/lib/rxhub``, anyone else ``$XDG_DATA_HOME/rxhub`` (``~/.local/share/rxhub``)."""
    if os.geteuid() == 0:
        return Path("/var/lib/rxhub")
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "rxhub"


def _database_in_data_dir(values: dict[str, Any]) -> dict[str, Any]:
    """Unset ``database_url``: SQLite in the data directory, so every command finds the same database wherever
    it is run from (a relative default made a second one in each directory)."""
    if not values.get("database_url"):
        folder = Path(values.get("data_dir") or default_data_dir()).expanduser().absolute()
        values["database_url"] = f"sqlite:///{folder / 'rxhub.sqlite3'}"
    return values


def _event_source_from_pharmacy(values: dict[str, Any]) -> dict[str, Any]:
    """Unset ``event_source``: this pharmacy's NCPDP id, so two pharmacies' hubs publish under different sources
    (and event ids) without anyone having to configure it."""
    if not values.get("event_source"):
        ncpdp_id = values.get("pharmacy_ncpdp_id") or Settings.model_fields["pharmacy_ncpdp_id"].default
        values["event_source"] = f"urn:rxhub:ncpdp:{ncpdp_id}"
    return values


class Settings(BaseSettings):
    """Everything configurable; built in the entrypoint and passed down, never read at import time."""

    model_config = SettingsConfigDict(env_prefix="RXHUB_", extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, values: Any) -> Any:
        """``RXHUB_<NAME>_FILE``: the secret is the file's text (a trailing newline dropped); both set is an error."""
        if not isinstance(values, dict):
            return values
        for name in FILE_SECRETS:
            variable = f"RXHUB_{name.upper()}_FILE"
            if not (path := os.environ.get(variable)):
                continue
            if name in values:
                raise ValueError(f"{variable} and RXHUB_{name.upper()} are both set; keep one")
            try:
                values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ValueError(f"{variable}: cannot read {path}: {exc.strerror}") from None
        return _event_source_from_pharmacy(_database_in_data_dir(values))

    @field_validator("amqp_url")
    @classmethod
    def _broker_nodes(cls, value: SecretStr) -> SecretStr:
        """One full URL or several (a cluster's nodes), never the comma-host form pika cannot read."""
        from hub.messaging.broker_nodes import nodes

        nodes(value.get_secret_value())
        return value

    @field_validator("pharmacy_timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        """A zone this system knows, so a misspelt name stops the hub at start-up rather than misleading staff."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. America/Chicago)") from None
        return value

    #: RabbitMQ, ``amqp://user:password@host:port/vhost`` (``amqps://`` for TLS); a cluster's nodes as several
    #: full URLs separated by commas (same vhost and user), tried in shuffled order
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F")
    #: the hub's state (the default SQLite database): ``/var/lib/rxhub`` for root, else ``~/.local/share/rxhub``
    data_dir: Path = Field(default_factory=default_data_dir)
    #: SQLAlchemy URL of the database; PostgreSQL: ``postgresql+psycopg://user@host/db``; unset: SQLite
    #: ``rxhub.sqlite3`` in ``data_dir``
    database_url: SecretStr
    #: prefix of every exchange and queue name; tests use their own to stay isolated.
    broker_prefix: str = "rxhub"

    #: address the MLLP (HL7 v2) listener binds; off loopback it needs TLS or ``allow_plaintext``
    mllp_host: str = "127.0.0.1"
    #: TCP port of the MLLP listener
    mllp_port: int = 2575
    #: largest MLLP frame accepted; a larger one is answered AR
    mllp_max_frame_bytes: int = 1_048_576
    #: an MLLP connection idle this long is closed
    mllp_idle_timeout_s: float = 300.0
    #: address the HTTP doors (FHIR, SCRIPT, staff API, console, metrics) bind
    http_host: str = "127.0.0.1"
    #: TCP port of the HTTP doors
    http_port: int = 8080
    #: a worker process started on its own (``rxhub worker``) serves its Prometheus metrics on this port of
    #: ``http_host``; unset: none (the workers ``rxhub run`` starts report through its ``/metrics``)
    worker_metrics_port: int | None = None

    #: identity the hub uses in MSH-3/4 of the messages it sends.
    sending_application: str = "RXHUB"
    #: MSH-4 of the messages the hub sends
    sending_facility: str = "PHARMACY"
    #: HL7 processing ids accepted on the order port (MSH-11).
    accepted_processing_ids: tuple[str, ...] = ("P", "T", "D")
    #: MSH-11 to assume for peers that leave it empty (some Cerner feeds); unset keeps it required
    hl7_default_processing_id: str | None = None

    #: how long a door waits for the broker to confirm a command before it answers with an error
    publish_confirm_timeout_s: float = 10.0
    #: how long a busy thread keeps the interpreter lock before a waiting one may take it (Python's default is
    #: 5 ms: a listener waiting behind a worker thread would add that to an ACK several times over)
    thread_switch_interval_ms: float = 0.5
    #: the same in a process of workers only (``rxhub worker``, and those ``rxhub run`` forks): nobody waits
    #: there by the millisecond, and every forced switch between a dozen consumer threads costs CPU
    worker_switch_interval_ms: float = 5.0
    #: niceness added to the worker processes ``rxhub run`` forks: a sender waits on the doors' ACK, nobody waits
    #: on a worker by the millisecond, so under a burst the doors take the CPU first and the durable queue
    #: absorbs the difference (the intake backlog gauge shows it); 0 shares the CPU evenly
    worker_nice: int = 10
    #: deliveries the broker hands each consumer before they are acknowledged
    consumer_prefetch: int = 32
    #: deliveries a worker already holds that it applies in one transaction (1: one transaction per message)
    consumer_batch: int = 16
    #: while deliveries keep coming (one within 50 ms of the last batch), a worker holding fewer than
    #: ``consumer_batch`` waits this long for more: orders a few ms apart then share one transaction instead
    #: of paying one each; a lone message on a quiet queue never waits (0: never wait)
    consumer_linger_ms: float = 10.0
    #: a relay publishes the rows its own process committed from memory; rows older than this that are still
    #: unpublished (their process died, their publish failed) are polled from the table by any relay
    outbox_orphan_after_s: float = 5.0
    #: PostgreSQL: the workers vacuum the tables whose rows they update (outbox, audit, prescriptions, claims)
    #: this often, so that the polls of unpublished, unsealed and waiting rows do not slow down with every row
    #: that went through (hub.persistence.maintenance); 0: leave it to autovacuum
    vacuum_interval_s: float = 60.0
    #: times a failing command is retried before it is dead-lettered
    max_retries: int = 3
    #: delay before each retry of a failing command
    retry_delay_ms: int = 2000
    #: how long a long-running process (run, serve, worker, switch-connector) started while the database is
    #: unreachable waits for it before it exits (a failover, a database starting after the hub); 0: exit at once
    database_startup_wait_s: float = Field(default=120.0, ge=0)
    #: how long a payer may take to answer a claim before it is treated as "status unknown"
    payer_timeout_ms: int = 15000
    #: a status-unknown claim's reversal that goes unanswered (or meets a 92) is sent again until the payer
    #: answers it: first after this long, then twice as long each time...
    reversal_retry_base_ms: int = 500
    #: ...up to this long between tries
    reversal_retry_cap_ms: int = 60000

    #: the pharmacy as printed on labels and sent in claims and SCRIPT messages
    pharmacy_name: str = "RxHub Community Pharmacy"
    #: the pharmacy's street address, printed on labels
    pharmacy_address: str = "1 Main Street, Springfield, IL 62701"
    #: the pharmacy's phone number, printed on labels
    pharmacy_phone: str = "555-0100"
    #: the pharmacy's NPI, the service provider id in claims
    pharmacy_npi: str = "1234567893"
    #: NCPDP provider id (NABP) of the pharmacy, the address SCRIPT messages are sent to and from
    pharmacy_ncpdp_id: str = "9999991"
    #: the pharmacy's time zone (IANA name, e.g. ``America/Chicago``): the console shows every time in it
    pharmacy_timezone: str = "UTC"
    #: CloudEvents ``source`` of every event this deployment publishes, and part of each event id's name, so two
    #: hubs fed the same messages never share an id; unset: ``urn:rxhub:ncpdp:<pharmacy_ncpdp_id>``
    event_source: str = Field(min_length=1)

    #: drug catalogue (JSON): the products the pharmacy dispenses
    catalogue_path: Path = DATA_DIR / "drug-catalogue.json"
    #: drug interaction table (JSON) for the drug utilisation review
    interactions_path: Path = DATA_DIR / "interactions.json"
    #: plan data of the simulated payer (``rxhub payer-sim``)
    payer_sim_config: Path = DATA_DIR / "payer-sim.json"
    #: payer sheets (JSON): per BIN/PCN, the claim fields a plan requires, its cost basis and dispensing fee;
    #: a claim missing a required field is not sent but waits in the technician's claim exceptions (``PS``)
    payer_sheets_path: Path = DATA_DIR / "payer-sheets.json"
    #: the pharmacy's house plan, billed when neither the order nor the patient's profile names a plan
    default_bin: str | None = None
    #: processor control number of the house plan
    default_pcn: str | None = None
    #: group id of the house plan
    default_group: str | None = None
    #: declare exchanges and queues at start-up; turn off when the hub runs as least-privilege broker users
    #: and an operator runs ``rxhub topology`` with a configure-capable account
    declare_topology: bool = True
    #: consumer threads per step in ``rxhub run`` and ``rxhub worker`` (their ``--copies`` wins)
    worker_copies: int = Field(default=1, ge=1)
    #: outbound HL7 destinations (JSON, see hub/data/outbound-destinations.example.json); unset: none
    outbound_destinations: Path | None = None
    #: claim switches and the BIN/PCN routes to them (JSON, see hub/data/switch-routes.example.json); set, the
    #: switch connector (``rxhub switch-connector``) carries the routed BINs' claims; unset: none
    switch_routes: Path | None = None
    #: SCRIPT network endpoints outbound SCRIPT (renewal requests, cancel answers, errors) is POSTed to (JSON, see
    #: hub/data/script-network.example.json); unset: those messages wait on ``<prefix>.script-out``
    script_network: Path | None = None
    #: EHR FHIR servers that renewal requests for FHIR-origin orders are POSTed to as Tasks (JSON, see
    #: hub/data/fhir-renewals.example.json and docs/renewals.md); unset: those renewals are events only
    fhir_renewals: Path | None = None
    #: also ask the prescriber to renew when the last refill is dispensed (before the patient runs out), not only
    #: when a refill is asked for with none left
    renewal_at_last_refill: bool = False
    #: send every compound claim with 420-DK 08 (process for approved ingredients): the plan pays the ingredients
    #: it covers instead of rejecting the claim for one it does not; off: a technician picks 08 on a resubmission
    compound_approved_ingredients_only: bool = False
    #: days a paid fill may wait in will-call before it is returned to stock with its B2 reversal, for plans whose
    #: payer sheet names no ``return_to_stock_days``; a pickup after it is refused
    return_to_stock_days: float = Field(default=14.0, gt=0)
    #: past the window: ``return`` (the fill worker's sweeper returns the fill and reverses its claim) or
    #: ``prompt`` (it waits in will-call, marked past its window, for a technician to return it)
    return_to_stock_action: Literal["return", "prompt"] = "return"
    #: seconds between the fill worker's sweeps of will-call for fills past their window
    return_to_stock_sweep_s: float = Field(default=60.0, gt=0)

    #: least severe log level written (DEBUG, INFO, WARNING, ERROR)
    log_level: str = "INFO"
    #: JSON lines on stderr (for a log shipper); false: plain text for a terminal
    log_json: bool = True

    # --- security (docs/security.md) ---
    #: MLLP over TLS: server certificate and key; with a client CA, client certificates are verified
    mllp_tls_cert: Path | None = None
    #: key of the MLLP server certificate
    mllp_tls_key: Path | None = None
    #: CA that signs the feeds' client certificates; set, MLLP clients are verified
    mllp_tls_client_ca: Path | None = None
    #: refuse an MLLP TLS connection without a client certificate
    mllp_tls_require_client_cert: bool = False
    #: client-certificate subject CNs allowed to send over MLLP, one per feed (empty: any verified certificate)
    mllp_tls_allowed_subjects: tuple[str, ...] = ()
    #: HTTPS for the API, FHIR and SCRIPT doors
    http_tls_cert: Path | None = None
    #: key of the HTTPS certificate
    http_tls_key: Path | None = None
    #: plain TCP off loopback, e.g. behind a TLS-terminating proxy; off by default
    allow_plaintext: bool = False
    #: CA that signed the broker's certificate, for amqps:// (default: the system store)
    amqp_ca_file: Path | None = None
    #: bearer tokens expire this many days after they were issued (staff; feeds and connectors)
    token_max_age_days: int = 90
    #: bearer tokens of feeds and connectors expire this many days after they were issued
    feed_token_max_age_days: int = 365
    #: the console signs its user out after this many minutes without a key press, click or touch in any tab
    console_idle_minutes: float = Field(default=15.0, gt=0)
    #: failed authentications per client address within the window before it gets 429 for the lockout
    auth_failure_limit: int = 10
    #: the window over which failed authentications are counted
    auth_failure_window_s: float = 60.0
    #: how long a client address over the limit gets 429
    auth_lockout_s: float = 300.0
    #: failed authentications with the same token prefix (its first characters after ``rxh_``) within the window,
    #: from any address, before that prefix gets 429 for the lockout (a guess spread over many addresses)
    auth_prefix_failure_limit: int = Field(default=10, ge=1)
    #: events carry the patient's identifiers (MRN...) as the order gave them; off, they carry the hub's patient id
    #: only (extension ``patientid``), and a subscriber that needs an identifier looks it up with its own access
    events_include_identifiers: bool = False
    #: serve the API's documentation pages (Swagger UI at ``/docs``, ReDoc at ``/redoc``); off, they answer 404
    #: (``/openapi.json``, the description itself, stays public: it holds no data)
    api_docs: bool = False
    #: proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed (addresses or CIDR networks, JSON
    #: list); unset: none, the client address is the connection's own
    trusted_proxies: tuple[str, ...] = ()

    # --- limits before work (docs/security.md, "Limits") ---
    #: largest request body of the staff API, the console and every route but the FHIR and SCRIPT doors; larger
    #: is answered 413 while reading, before the token is checked
    http_max_body_bytes: int = Field(default=1_048_576, ge=1)
    #: largest request body of the FHIR and SCRIPT doors (the SCRIPT door refuses above its own 1 MiB in SCRIPT)
    http_fhir_max_body_bytes: int = Field(default=4_194_304, ge=1)
    #: largest HTTP request line plus headers; larger is answered 431 and the connection closed
    http_max_header_bytes: int = Field(default=32_768, ge=1024)
    #: most header fields in one HTTP request; more is answered 431
    http_max_header_count: int = Field(default=100, ge=8)
    #: a connection that has not sent a whole request line and headers this long after it opened (or after its
    #: request began) is closed; over HTTPS its TLS handshake must also end within this long of the connection
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    #: a request body not received in full this long after its headers is answered 408
    http_body_timeout_s: float = Field(default=60.0, gt=0)
    #: most HTTP connections open at once, counted from TCP accept (before any TLS handshake); past it a new
    #: connection is closed at once (over plain HTTP answered 503 first)
    http_max_connections: int = Field(default=4096, ge=1)
    #: most HTTP connections open at once from one client address
    http_max_connections_per_address: int = Field(default=256, ge=1)
    #: an MLLP frame not complete this long after its first byte (or other bytes after the last frame) ends
    #: the connection
    mllp_frame_timeout_s: float = Field(default=60.0, gt=0)
    #: most MLLP connections open at once; past it a new connection is closed at once
    mllp_max_connections: int = Field(default=1024, ge=1)
    #: most MLLP connections open at once from one client address
    mllp_max_connections_per_address: int = Field(default=64, ge=1)
    #: Fernet key for raw messages at rest (``rxhub certs data-key`` makes one); unset keeps them in clear
    data_key: SecretStr | None = None
    #: HMAC keys that sign every command a hub process publishes (docs/security.md, "Signed commands"); several
    #: comma-separated rotate: the first signs, any verifies. Unset: a key the hub generates and keeps in the
    #: database (table hub_secrets), the same for every process that shares it
    command_key: SecretStr | None = None
    #: ``rxhub retention purge`` drops raw inbound and published outbox bodies, and idempotency records, this
    #: many days old
    raw_retention_days: int = 30
    #: messages a door refused (docs/security.md, "Refused messages") are recorded, with their audit entry, at
    #: most this many a minute per sender (bursts of as many); the rest are answered and counted, not recorded
    refused_per_sender_per_minute: int = Field(default=60, ge=1)
    #: the refused-message log keeps at most this many records, the oldest going first
    refused_max_rows: int = Field(default=100_000, ge=1)
    #: HMAC keys of the audit trail (docs/security.md, "Audit trail"; ``rxhub certs audit-key`` makes one), kept
    #: outside the database: each entry is tagged by its writer and sealed with the first, any verifies. Unset:
    #: plain SHA-256 links that a database writer could recompute (a warning at start; refused off loopback)
    audit_key: SecretStr | None = None
    #: ``rxhub run``/``serve`` write a signed anchor of the audit chain's head this often (0: never; ``rxhub audit
    #: anchor`` writes one on demand)
    audit_anchor_interval_s: float = Field(default=0.0, ge=0)
    #: where anchors go: a file (one JSON line appended per anchor) or ``syslog``; unset: ``audit-anchors.jsonl``
    #: in ``data_dir``
    audit_anchor_target: str | None = None
    #: the longest break-glass grant an admin may give (docs/security.md, "Emergency access")
    break_glass_max_minutes: int = Field(default=240, ge=1)
