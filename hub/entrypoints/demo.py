"""``make demo``: the hub's main job end to end, narrated.

Starts the whole hub and the simulated payer in this process (on a private broker prefix and a fresh
SQLite file), sends the synthetic HL7 orders in samples/hl7 over MLLP, lets a scripted technician and
pharmacist work through the real HTTP API, and prints each prescription's journey and the events a
subscriber saw.  Cleans its queues up at the end.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.payer_link import PayerSimProcess, sim_queue
from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
from hub.config import Settings
from hub.entrypoints import logs
from hub.entrypoints.inprocess import RunningHub, running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.entrypoints.runtime import topology_for
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import delete
from hub.persistence.prescriptions import PrescriptionRepository, load_aggregate
from hub.persistence.users import UserStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "hl7").glob("*.hl7"))
STOCK = [
    ("00093005801", "AMX2611", "2028-03-31", "300"),
    ("00378020801", "LIS2609", "2027-12-31", "500"),
    ("00002821501", "INS2602", "2027-06-30", "50"),
    ("00071015523", "ATV2612", "2028-01-31", "400"),
    ("00143978501", "MET2605", "2027-09-30", "600"),
]


def say(text: str = "") -> None:
    """Print a line at once (the demo narrates)."""
    print(text, flush=True)


class Subscriber(threading.Thread):
    """A pharmacy system bound to the public events exchange."""

    def __init__(self, url: str, exchange: str) -> None:
        super().__init__(daemon=True)
        self.connection = connect(url)
        self.channel = self.connection.channel()
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, "#")
        self.events: list[dict[str, Any]] = []

    def poll(self) -> None:
        """Fetch what has arrived (called from the main thread between steps)."""
        while True:
            method, _props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return
            self.events.append(json.loads(body))


def _port(variable: str, preferred: int) -> int:
    """The configured or usual port, or any free one when it is taken (a hub may already run there)."""
    port = int(os.environ.get(variable, preferred))
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def main() -> int:
    """Run the demo; exit 1 if any order did not reach READY."""
    prefix = f"rxhub-demo-{uuid.uuid4().hex[:6]}"
    db = ROOT / "var" / "demo.sqlite3"
    db.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = Settings(
        broker_prefix=prefix,
        database_url=f"sqlite:///{db}",
        mllp_port=_port("RXHUB_MLLP_PORT", 2575),
        http_port=_port("RXHUB_HTTP_PORT", 8080),
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="DEMO",
        log_level="WARNING",
        payer_timeout_ms=5000,
    )
    logs.configure("WARNING", json_lines=False)
    say(f"RxHub demo: broker prefix {prefix}, database {db.relative_to(ROOT)}")
    try:
        return _run(settings)
    finally:
        conn = connect(settings.amqp_url.get_secret_value())
        channel = conn.channel()
        topology = topology_for(settings)
        delete(channel, ScriptOutTopology.of(topology))  # the hub's queues and the SCRIPT responder's
        channel.queue_delete(sim_queue(topology).name)
        conn.close()


def _run(settings: Settings) -> int:
    stop = threading.Event()
    sim = PayerSimProcess(
        settings.amqp_url.get_secret_value(), topology_for(settings), load_payer_config(settings.payer_sim_config)
    )
    with running_hub(settings) as hub:
        threading.Thread(target=sim.run, args=(stop,), daemon=True).start()
        sim.ready.wait(15)
        sub = Subscriber(settings.amqp_url.get_secret_value(), topology_for(settings).events_exchange)
        staff = _staff(hub)
        say(f"hub up: MLLP 127.0.0.1:{hub.mllp_port}, HTTP http://127.0.0.1:{hub.http_port} (docs at /docs)")
        for ndc, lot, expiry, qty in STOCK:
            staff["technician"].post(
                "/api/inventory", json={"ndc": ndc, "lot": lot, "expiry": expiry, "quantity": qty}
            ).raise_for_status()
        say(f"technician received {len(STOCK)} lots into inventory\n")
        _send_orders(hub)
        ok = _work(hub, staff)
        time.sleep(1.0)
        sub.poll()
        _journeys(hub, sub.events)
        _console(hub, staff)
        if sys.stdin.isatty() or os.environ.get("RXHUB_DEMO_KEEP"):
            say("The hub keeps running for the console; Ctrl-C stops it and cleans up.")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                say("stopping")
        stop.set()
        return 0 if ok else 1


def _staff(hub: RunningHub) -> dict[str, httpx.Client]:
    users = UserStore(hub.engine)
    clients = {}
    for role, name, licence in (
        ("technician", "tina.tech", None),
        ("pharmacist", "paul.pharm", "RPH-12345"),
        ("admin", "ada.admin", None),
    ):
        _user, token = users.add(name, role, licence)
        clients[role] = httpx.Client(
            base_url=f"http://127.0.0.1:{hub.http_port}",
            timeout=30,
            headers={"Authorization": f"Bearer {token}", "X-Demo-User": name},
        )
    return clients


def _console(hub: RunningHub, staff: dict[str, httpx.Client]) -> None:
    say(f"\nConsole: http://127.0.0.1:{hub.http_port}/console/  (sign in by pasting a token)")
    for role, client in staff.items():
        token = client.headers["Authorization"].removeprefix("Bearer ")
        say(f"  {role:11} {client.headers['X-Demo-User']:11} {token}")


def _send_orders(hub: RunningHub) -> None:
    say("EHR sends orders over MLLP:")
    with MllpClient("127.0.0.1", hub.mllp_port) as client:
        for path in SAMPLES:
            ack = client.send(path.read_bytes()).decode()
            msa = next(s for s in ack.split("\r") if s.startswith("MSA"))
            say(f"  {path.name:45} -> {msa}")
    say()


def _states(hub: RunningHub) -> dict[str, tuple[str, str, Any]]:
    with hub.engine.connect() as conn:
        rows = PrescriptionRepository(conn).in_states(
            [
                "received",
                "needs_product",
                "claim_pending",
                "claim_rejected",
                "data_verification",
                "filling",
                "product_verification",
                "ready",
            ],
            limit=100,
        )
    return {r.id: (r.rx_number, r.state, load_aggregate(r)) for r in rows}


def _work(hub: RunningHub, staff: dict[str, httpx.Client]) -> bool:
    """Technician and pharmacist clear their queues until every order is READY (or time runs out)."""
    deadline, done_actions = time.monotonic() + 90, set()
    while time.monotonic() < deadline:
        states = _states(hub)
        waiting = {pid: s for pid, s in states.items() if s[1] != "ready"}
        if states and not waiting and len(states) >= 5:
            say("every order is READY")
            return True
        for pid, (rx_number, state, rx) in waiting.items():
            key = (pid, state, rx.current_fill.claim.attempt if rx.current_fill.claim else 0)
            if key in done_actions:
                continue
            if state == "claim_rejected":
                codes = rx.current_fill.claim.reject_codes if rx.current_fill.claim else []
                if "75" in codes:
                    say(f"  Rx {rx_number}: payer says 75 prior authorization required -> technician resubmits with PA")
                    body: dict[str, Any] = {"action": "resubmit", "prior_auth_number": "PA-2026-0042"}
                else:
                    say(f"  Rx {rx_number}: payer rejected {','.join(codes)} -> technician bills it as cash")
                    body = {"action": "cash"}
                staff["technician"].post(f"/api/prescriptions/{pid}/claim-resolution", json=body).raise_for_status()
            elif state in ("data_verification", "product_verification"):
                stage = state.split("_")[0]
                alerts = [a for a in rx.alerts_for(rx.current_fill) if a.blocking and a.override is None]
                overrides = [[a.alert_id, "reviewed with prescriber"] for a in alerts]
                say(
                    f"  Rx {rx_number}: pharmacist approves {stage} verification"
                    + (f" (overriding {len(overrides)} alert(s))" if overrides else "")
                )
                staff["pharmacist"].post(
                    f"/api/prescriptions/{pid}/{stage}-verification", json={"approve": True, "overrides": overrides}
                ).raise_for_status()
            else:
                continue
            done_actions.add(key)
        time.sleep(0.3)
    say("some orders did not reach READY in time")
    return False


def _journeys(hub: RunningHub, events: list[dict[str, Any]]) -> None:
    say("\nEach prescription's journey (events a subscriber on rxhub.events received):")
    by_subject: dict[str, list[str]] = {}
    for event in events:
        by_subject.setdefault(event["subject"], []).append(event["type"])
    for pid, (rx_number, state, rx) in sorted(_states(hub).items(), key=lambda x: x[1][0]):
        drug = rx.product.display_name if rx.product else rx.drug.text
        say(f"  Rx {rx_number} {drug} [{rx.setting.value}] -> {state.upper()}")
        say(f"      {' > '.join(by_subject.get(pid, []))}")
    say(f"\n{len(events)} events published; every one carries its order's correlation id.")


if __name__ == "__main__":
    sys.exit(main())
