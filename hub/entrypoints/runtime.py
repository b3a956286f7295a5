"""The composition root: builds the hub's parts from Settings and runs them.

Only ``hub.entrypoints`` may import adapters (it wires them to the hub); everything else in ``hub``
stays ignorant of HL7, FHIR and NCPDP.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Engine

from hub.config import Settings
from hub.domain.catalogue import Catalogue
from hub.domain.commands import Command
from hub.domain.dur import InteractionTable
from hub.domain.label import PharmacyInfo
from hub.domain.order_parts import CoverageInfo
from hub.domain.payer_sheet import PayerSheets
from hub.messaging.blocking_publisher import connect
from hub.messaging.consumer import ConsumerOptions, ConsumerRunner, run_in_thread, wait_ready
from hub.messaging.outbox_relay import OutboxRelay
from hub.messaging.pipelined_publisher import PipelinedPublisher
from hub.messaging.topology import PAYER_RESPONSES, Topology, declare
from hub.persistence.audit import AuditTrail
from hub.persistence.audit_reseal import head_anchor
from hub.persistence.command_outcomes import DeadLetterOutcomes
from hub.persistence.database import create_schema, make_engine, wait_until_reachable
from hub.persistence.inbound import InboundStore
from hub.persistence.maintenance import Vacuumer
from hub.persistence.outbound_state import OutboundStateStore
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.queries import SqlPrescriptionQueries
from hub.persistence.unit_of_work import with_event_identifiers, with_event_source
from hub.security.audit_anchors import AnchorWriter
from hub.security.audit_anchors import target as anchor_target
from hub.security.audit_keys import AuditKeys, with_audit_keys
from hub.security.command_signing import command_keys
from hub.service.bus import CommandHandler, MessageBus
from hub.service.handlers import STEPS, step_handlers
from hub.service.workflow.claim_sweeper import ClaimSweeper
from hub.service.workflow.context import WorkflowContext
from hub.service.workflow.return_sweeper import ReturnSweeper

log = logging.getLogger(__name__)

#: every worker step and the handlers it runs
STEP_HANDLERS: dict[str, Callable[[WorkflowContext], dict[type[Command], CommandHandler]]] = {
    step: partial(step_handlers, step) for step in STEPS
}
#: steps whose queue holds an adapter's messages rather than commands (payer answers, applied by claim-responses)
ADAPTER_STEPS = (PAYER_RESPONSES,)


def workflow_context(settings: Settings) -> WorkflowContext:
    """Reference data and the payer codec, loaded once per process."""
    # lazy: the adapters load when workers start, not in every one-shot CLI command
    from adapters.ncpdp.payer_link import D0ClaimCodec

    coverage = None
    if settings.default_bin:
        coverage = CoverageInfo(bin=settings.default_bin, pcn=settings.default_pcn, group_id=settings.default_group)
    return WorkflowContext(
        catalogue=Catalogue.from_json_text(settings.catalogue_path.read_text()),
        interactions=InteractionTable.from_json_text(settings.interactions_path.read_text()),
        pharmacy=PharmacyInfo(
            name=settings.pharmacy_name, address=settings.pharmacy_address, phone=settings.pharmacy_phone
        ),
        pharmacy_npi=settings.pharmacy_npi,
        topology=topology_for(settings),
        claim_codec=D0ClaimCodec(),
        default_coverage=coverage,
        payer_sheets=PayerSheets.from_json_text(settings.payer_sheets_path.read_text()),
        renewal_at_last_refill=settings.renewal_at_last_refill,
        compound_approved_ingredients_only=settings.compound_approved_ingredients_only,
        return_to_stock_days=settings.return_to_stock_days,
        reversal_retry_base_ms=settings.reversal_retry_base_ms,
        reversal_retry_cap_ms=settings.reversal_retry_cap_ms,
    )


ALL_STEPS = [*STEP_HANDLERS, *ADAPTER_STEPS]


def topology_for(settings: Settings) -> Topology:
    """The topology named by the settings' prefix."""
    return Topology(prefix=settings.broker_prefix, retry_delay_ms=settings.retry_delay_ms)


def declare_topology(settings: Settings) -> Topology:
    """Declare every exchange and queue (idempotent); skipped when the settings say an operator does it."""
    topology = topology_for(settings)
    if not settings.declare_topology:
        return topology
    connection = connect(settings.amqp_url.get_secret_value(), attempts=10)
    try:
        channel = connection.channel()
        declare(channel, topology)
        # the SCRIPT responder's queue must exist before the doors open, or early events miss it
        # lazy: the adapters load when workers start, not in every one-shot CLI command
        from adapters.ncpdp.script.outbound_topology import ScriptOutTopology

        declare(channel, ScriptOutTopology.of(topology))
        if settings.fhir_renewals is not None:  # likewise the FHIR renewal sender's
            # lazy: the adapters load when workers start, not in every one-shot CLI command
            from adapters.fhir.renewal_sender import FhirRenewalTopology

            declare(channel, FhirRenewalTopology.of(topology))
    finally:
        connection.close()
    return topology


@dataclass
class Workers:
    """Worker threads of one process: one consumer per step copy, plus the outbox relay."""

    settings: Settings
    engine: Engine
    steps: list[str]
    copies: int = 1
    stop: threading.Event = field(default_factory=threading.Event)
    runners: list[ConsumerRunner] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    relay: OutboxRelay | None = None
    outbound: Any = None
    #: the SCRIPT connector's live state (None when no SCRIPT network is configured)
    script_connector: Any = None
    #: the FHIR renewal sender's live state (None when no FHIR renewal endpoint is configured)
    fhir_renewals: Any = None
    #: where the consumers record the commands they refuse as unsigned or forged
    audit: AuditTrail | None = None

    def _start_anchors(self) -> None:
        """Signed anchors of the audit chain every ``audit_anchor_interval_s`` (needs ``RXHUB_AUDIT_KEY``)."""
        s = self.settings
        if s.audit_anchor_interval_s <= 0:
            return
        if s.audit_key is None:
            log.warning("RXHUB_AUDIT_ANCHOR_INTERVAL_S is set but RXHUB_AUDIT_KEY is not: no anchors written")
            return
        writer = AnchorWriter(
            partial(head_anchor, self.engine),
            anchor_target(s.audit_anchor_target, s.data_dir),
            s.audit_anchor_interval_s,
        )
        self.threads.append(threading.Thread(target=writer.run, args=(self.stop,), name="audit-anchors", daemon=True))
        self.threads[-1].start()

    def start(self, timeout_s: float = 20.0) -> None:
        """Start consumers and the relay; return once every consumer is consuming."""
        topology = topology_for(self.settings)
        url = self.settings.amqp_url.get_secret_value()
        keys = command_keys(self.settings, self.engine)
        self.audit = AuditTrail(self.engine)
        self.relay = OutboxRelay(
            OutboxStore(self.engine),
            PipelinedPublisher(url),
            topology,
            keys=keys,
            interval_s=1.0,
            orphan_after_s=self.settings.outbox_orphan_after_s,
        )
        self.threads.append(
            threading.Thread(target=self.relay.run, args=(self.stop,), name="outbox-relay", daemon=True)
        )
        self.threads[-1].start()
        context = workflow_context(self.settings)
        outcomes = DeadLetterOutcomes(self.engine)
        for step in self.steps:
            if step in ADAPTER_STEPS:
                self._start_adapter_step(step, url, topology, context)
                continue
            bus = MessageBus(
                self.engine, STEP_HANDLERS[step](context), consumer=step, after_commit=[self.relay.hand_over]
            )
            for copy in range(self.copies):
                runner = ConsumerRunner(
                    amqp_url=url,
                    topology=topology,
                    step=step,
                    keys=keys,
                    audit=self.audit,
                    outcomes=outcomes,
                    declare_topology=self.settings.declare_topology,
                    **self._consuming(bus),
                )
                self.runners.append(runner)
                self.threads.append(run_in_thread(runner, self.stop, name=f"worker-{step}-{copy}"))
        if not wait_ready(self.runners, timeout_s):
            raise RuntimeError("workers did not connect to RabbitMQ in time")
        self._start_outbound(url, topology)
        self._start_script_responder(url, topology)
        self._start_connectors(url, topology)
        if self.settings.vacuum_interval_s > 0 and self.engine.dialect.name == "postgresql":
            vacuumer = Vacuumer(self.engine, self.settings.vacuum_interval_s)
            self.threads.append(threading.Thread(target=vacuumer.run, args=(self.stop,), name="vacuum", daemon=True))
            self.threads[-1].start()
        self._start_anchors()
        self._start_return_sweeper()
        if "claim-responses" in self.steps:
            sweeper = ClaimSweeper(
                self.engine, payer_timeout_ms=self.settings.payer_timeout_ms, after_commit=self.relay.poke
            )
            self.threads.append(
                threading.Thread(target=sweeper.run, args=(self.stop,), name="claim-sweeper", daemon=True)
            )
            self.threads[-1].start()

    def _start_return_sweeper(self) -> None:
        """The fill step's sweep of will-call for paid fills past their plan's return-to-stock window."""
        s = self.settings
        if "fill" not in self.steps or s.return_to_stock_action != "return":
            return
        assert self.relay is not None
        sweeper = ReturnSweeper(
            self.engine,
            sheets=PayerSheets.from_json_text(s.payer_sheets_path.read_text()),
            default_days=s.return_to_stock_days,
            interval_s=s.return_to_stock_sweep_s,
            after_commit=self.relay.poke,
        )
        self.threads.append(threading.Thread(target=sweeper.run, args=(self.stop,), name="return-sweeper", daemon=True))
        self.threads[-1].start()

    def _start_script_responder(self, url: str, topology: Topology) -> None:
        """SCRIPT answers that come later (CancelRxResponse) and renewal requests to prescribers."""
        # lazy: the adapters load when workers start, not in every one-shot CLI command
        from adapters.ncpdp.script.outbound_responder import run_script_outbound
        from adapters.ncpdp.script.renewal_request import PharmacyIdentity

        s = self.settings
        pharmacy = PharmacyIdentity(
            ncpdp_id=s.pharmacy_ncpdp_id,
            npi=s.pharmacy_npi,
            name=s.pharmacy_name,
            address_line=s.pharmacy_address,
            phone=s.pharmacy_phone,
        )
        thread = threading.Thread(
            target=run_script_outbound,
            args=(url, topology, SqlPrescriptionQueries(self.engine), self.stop),
            kwargs={"inbound": InboundStore(self.engine), "pharmacy": pharmacy},
            name="script-outbound",
            daemon=True,
        )
        thread.start()
        self.threads.append(thread)

    def _start_connectors(self, url: str, topology: Topology) -> None:
        """The SCRIPT network connector and the FHIR renewal sender, those configured."""
        # lazy: the adapters load when workers start, not in every one-shot CLI command
        from hub.entrypoints.connectors import start_connectors

        started = start_connectors(self.settings, self.engine, url, topology, self.stop)
        self.script_connector, self.fhir_renewals = started.script, started.fhir_renewals
        self.threads.extend(started.threads)

    def _start_outbound(self, url: str, topology: Topology) -> None:
        """Outbound HL7 senders, one per configured destination (only where workers run)."""
        if self.settings.outbound_destinations is None:
            return
        # lazy: the adapters load when workers start, not in every one-shot CLI command
        from adapters.hl7.outbound.destinations import load_destinations
        from adapters.hl7.outbound.senders import OutboundSenders

        self.outbound = OutboundSenders(
            url,
            topology,
            load_destinations(self.settings.outbound_destinations),
            records=SqlPrescriptionQueries(self.engine),
            store=OutboundStateStore(self.engine),
        )
        self.outbound.start()

    def _start_adapter_step(self, step: str, url: str, topology: Topology, context: WorkflowContext) -> None:
        """Payer answers go straight to the claim-responses handlers, under that step's idempotency marks."""
        # lazy: the adapters load when workers start, not in every one-shot CLI command
        from adapters.ncpdp.payer_link import payer_response_runner

        assert self.relay is not None
        bus = MessageBus(
            self.engine,
            STEP_HANDLERS["claim-responses"](context),
            consumer="claim-responses",
            after_commit=[self.relay.hand_over],
        )
        runner = payer_response_runner(url, topology, **self._consuming(bus))
        self.runners.append(runner)
        self.threads.append(run_in_thread(runner, self.stop, name=f"worker-{step}"))

    def _consuming(self, bus: MessageBus) -> ConsumerOptions:
        """How a step's runner hands its deliveries to ``bus``: the settings' batches, prefetch, retries, linger."""
        batches = self.settings.consumer_batch > 1
        return ConsumerOptions(
            handler=bus.handle,
            batch_handler=bus.handle_batch if batches else None,
            max_batch=self.settings.consumer_batch,
            prefetch=self.settings.consumer_prefetch,
            max_retries=self.settings.max_retries,
            linger_s=self.settings.consumer_linger_ms / 1000,
        )

    def close(self, timeout_s: float = 10.0) -> None:
        """Ask every thread to finish its current message and stop."""
        self.stop.set()
        if self.outbound is not None:
            self.outbound.stop()
        if self.relay:
            self.relay.poke()
        for thread in self.threads:
            thread.join(timeout_s)
        if self.audit:
            self.audit.close(timeout_s)


def open_database(settings: Settings, *, wait: bool = False) -> Engine:
    """Engine with an up-to-date schema, stamped with the deployment's event source (see
    ``hub.persistence.unit_of_work``: every transaction on it builds events from this deployment) and the
    audit trail's keys (hub.security.audit_keys). ``wait``: a long-running process waits up to
    ``database_startup_wait_s`` for an unreachable database; a one-shot command fails at once."""
    engine = with_event_source(make_engine(settings.database_url.get_secret_value()), settings.event_source)
    with_event_identifiers(engine, settings.events_include_identifiers)
    with_audit_keys(engine, audit_keys(settings))
    if wait:
        wait_until_reachable(engine, settings.database_startup_wait_s)
    create_schema(engine)
    return engine


def audit_keys(settings: Settings) -> AuditKeys | None:
    """The audit trail's keys from ``RXHUB_AUDIT_KEY`` (None: unset, plain hashes)."""
    return AuditKeys.parse(settings.audit_key.get_secret_value()) if settings.audit_key is not None else None
