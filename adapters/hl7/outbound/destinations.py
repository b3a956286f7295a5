"""Outbound destinations: who gets which events, over which connection, in which HL7 version.

The file (path in ``RXHUB_OUTBOUND_DESTINATIONS``) is JSON: ``{"destinations": [{...}, ...]}``, one object
per :class:`DestinationConfig`; ``hub/data/outbound-destinations.example.json`` shows every field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from hub.domain.order_parts import Frozen, Setting
from hub.errors import ConfigurationError

#: versions we write (hl7apy knows 2.7 and 2.8 but not 2.7.1, which shares 2.7's segments)
SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")
#: event types an outbound destination can subscribe to (see event_mapping for the message each yields)
SUPPORTED_EVENTS = (
    "prescription.received",
    "prescription.verified",
    "prescription.rejected",
    "prescription.cancelled",
    "prescription.dispensed",
    "order.refused",
    "renewal.requested",
)
#: what an ``application_acks`` destination gets whether listed or not: the placer asked for the answer
APPLICATION_ACK_EVENTS = ("order.refused",)
#: what an ``encoded_orders`` destination gets whether listed or not: a cabinet must stop what is stopped
ENCODED_ORDER_EVENTS = ("prescription.cancelled",)
Hl7Version = Literal["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"]


class DestinationConfigError(ConfigurationError):
    """The destinations file is missing, unreadable or invalid: the hub must not start half-configured."""


class DestinationTls(Frozen):
    """TLS towards one destination: the CA that signed its certificate, and ours when it wants mutual TLS."""

    #: CA bundle for the receiver's certificate; absent: the system store
    ca_file: Path | None = None
    #: our client certificate and key, for receivers that require one
    cert_file: Path | None = None
    key_file: Path | None = None
    #: the name in the receiver's certificate when it differs from ``host``
    server_name: str | None = None


class DestinationConfig(Frozen):
    """One receiver: its address, the events and orders it wants, and how patient to be with it."""

    #: short name used in queue names (``<prefix>.outbound.<name>``), logs and ``rxhub outbound status``
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    version: Hl7Version = "2.5.1"
    events: tuple[str, ...] = Field(min_length=1)
    #: placer systems (the ordering EHR's id, ``placer_system`` on events) whose orders go here; empty: all
    facilities: tuple[str, ...] = ()
    #: inpatient, outpatient or both
    settings: tuple[Setting, ...] = (Setting.OUTPATIENT, Setting.INPATIENT)
    #: send an RDE^O11 encoded order for verified inpatient orders (MAR, dispensing cabinet) instead of a
    #: status update
    encoded_orders: bool = False
    #: ORC-1 of the RDE that stops an order at an ``encoded_orders`` destination: the placer's own CA or DC
    #: (DC when the pharmacy stopped it), or always DC, or always CA
    stop_control: Literal["as_requested", "DC", "CA"] = "as_requested"
    #: send the patient's allergies (AL1) with every message
    allergies: bool = False
    #: answer orders that asked for an application acknowledgement (MSH-16) with RRE/ORP/ORR here; the
    #: destination is then the placer's own receiving port
    application_acks: bool = False
    receiving_application: str = ""
    receiving_facility: str = ""
    sending_application: str = "RXHUB"
    sending_facility: str = "PHARMACY"
    processing_id: Literal["P", "T", "D"] = "P"
    ack_timeout_s: float = Field(default=30.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)
    max_frame_bytes: int = Field(default=1_048_576, ge=1024)
    #: a message the destination received but did not accept (AR/CR, no ACK in time, connection dropped
    #: after sending, garbage) is sent at most this many times, then dead-lettered with the receiver's text
    #: and the next one goes; failing to connect at all does not count (an outage waits, visibly stuck)
    max_attempts: int = Field(default=10, ge=1)
    #: nor resent for longer than this after its first failure (whichever limit comes first)
    max_retry_s: float = Field(default=3600.0, gt=0)
    #: a message failing this long makes the destination ``stuck`` (status, metrics, alert) instead of retrying
    stuck_after_s: float = Field(default=300.0, gt=0)
    #: MLLP over TLS: the receiver's certificate is verified (hostname and chain); ``false``/absent: plain TCP
    tls: DestinationTls | None = None

    @field_validator("tls", mode="before")
    @classmethod
    def _tls_off(cls, value: object) -> object:
        return None if value is False else value

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(events) - set(SUPPORTED_EVENTS))
        if unknown:
            raise ValueError(f"unsupported event types {unknown}; supported: {list(SUPPORTED_EVENTS)}")
        return events

    @model_validator(mode="after")
    def _backoff_order(self) -> DestinationConfig:
        if self.backoff_initial_s > self.backoff_max_s:
            raise ValueError("backoff_initial_s must not exceed backoff_max_s")
        return self

    @property
    def subscribed(self) -> tuple[str, ...]:
        """The events it is bound to: ``events``, and refusals' application rejects when it sends those."""
        wanted = (APPLICATION_ACK_EVENTS if self.application_acks else ()) + (
            ENCODED_ORDER_EVENTS if self.encoded_orders else ()
        )
        return self.events + tuple(e for e in wanted if e not in self.events)

    def wants(self, setting: str | None, placer_system: str | None) -> bool:
        """Whether an order of this setting from this placer belongs to this destination."""
        if setting is not None and setting not in self.settings:
            return False
        return not self.facilities or placer_system in self.facilities


def load_destinations(path: Path | str) -> tuple[DestinationConfig, ...]:
    """Read and check the destinations file; any problem is one DestinationConfigError naming it."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DestinationConfigError(f"cannot read outbound destinations from {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("destinations"), list):
        raise DestinationConfigError(f"{path}: expected an object with a 'destinations' list")
    try:
        found = tuple(DestinationConfig.model_validate(item) for item in raw["destinations"])
    except ValidationError as exc:
        raise DestinationConfigError(f"{path}: invalid destination: {exc}") from exc
    names = [d.name for d in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DestinationConfigError(f"{path}: destination names must be unique, repeated: {duplicates}")
    return found
