"""The switch routing file (``RXHUB_SWITCH_ROUTES``): the switches, and which BIN/PCN goes to which.

A route names its switch and, optionally, a failover switch taken when the first cannot be reached. Every
switch and route says whether it is a test or a production connection and a route may only use switches of
its own kind: the D.0 request header has no test/production indicator (standards.md §4.1; the codec has
none), so a certification claim is kept from production by the connection it travels on.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from adapters.ncpdp.switch.framing import Framing
from hub.domain.order_parts import Frozen


class Environment(StrEnum):
    """A switch connection for certification traffic or for real claims."""

    TEST = "test"
    PRODUCTION = "production"


class SwitchEndpoint(Frozen):
    """One switch's address, framing, TLS and patience."""

    name: str = Field(min_length=1, max_length=60)
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    framing: Framing = Framing.STX_ETX
    environment: Environment = Environment.PRODUCTION
    tls: bool = False
    #: CA bundle the switch's certificate is checked against (system store when unset)
    ca_file: Path | None = None
    #: client certificate and key, for switches that ask for one
    client_cert: Path | None = None
    client_key: Path | None = None
    connect_timeout_ms: int = Field(default=2000, ge=1)
    #: how long to wait for the answer once the claim is sent; then the answer is unknown (a route's switches
    #: together must answer within RXHUB_PAYER_TIMEOUT_MS, which preflight checks)
    answer_timeout_ms: int = Field(default=5000, ge=1)


class Route(Frozen):
    """Claims for a BIN (and PCN, when given) go to ``switch``, or to ``failover`` when it is unreachable."""

    bin: str = Field(pattern=r"^\d{6}$")
    pcn: str | None = None
    switch: str
    failover: str | None = None
    environment: Environment = Environment.PRODUCTION


class RoutingTable(Frozen):
    """The whole routing file."""

    switches: tuple[SwitchEndpoint, ...] = Field(min_length=1)
    routes: tuple[Route, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [s.name for s in self.switches]
        if len(set(names)) != len(names):
            raise ValueError("switch names must be unique")
        by_name = {s.name: s for s in self.switches}
        keys = [(r.bin, r.pcn or "") for r in self.routes]
        if len(set(keys)) != len(keys):
            raise ValueError("each BIN/PCN may be routed only once")
        for route in self.routes:
            for name in filter(None, (route.switch, route.failover)):
                if name not in by_name:
                    raise ValueError(f"route for BIN {route.bin} names unknown switch {name!r}")
                if by_name[name].environment is not route.environment:
                    raise ValueError(f"route for BIN {route.bin} is {route.environment}; switch {name!r} is not")
            if route.failover == route.switch:
                raise ValueError(f"route for BIN {route.bin} fails over to its own switch")
        return self

    def route(self, bin_: str, pcn: str | None) -> Route | None:
        """The route for a BIN and PCN: the exact BIN/PCN route first, then the BIN's route without a PCN."""
        exact = [r for r in self.routes if r.bin == bin_ and (r.pcn or "") == (pcn or "") and r.pcn]
        loose = [r for r in self.routes if r.bin == bin_ and not r.pcn]
        found = exact or loose
        return found[0] if found else None

    def switches_for(self, route: Route) -> list[SwitchEndpoint]:
        """The route's switch, then its failover."""
        by_name = {s.name: s for s in self.switches}
        return [by_name[n] for n in (route.switch, route.failover) if n]

    def longest_wait_ms(self) -> int:
        """The longest a claim can wait for its answer: every switch of its route tried, the last one answering."""
        return max(
            sum(s.connect_timeout_ms + s.answer_timeout_ms for s in self.switches_for(route)) for route in self.routes
        )

    def bindings(self) -> list[str]:
        """The payer-exchange routing keys (``<BIN>.<PCN>`` or ``<BIN>.#``) the connector's queue is bound to."""
        return sorted({f"{r.bin}.{r.pcn.replace('.', '_')}" if r.pcn else f"{r.bin}.#" for r in self.routes})


def load_routing_table(path: Path) -> RoutingTable:
    """Read and validate the routing file (pydantic's ValidationError or OSError when it is wrong)."""
    return RoutingTable.model_validate_json(path.read_text(encoding="utf-8"))
