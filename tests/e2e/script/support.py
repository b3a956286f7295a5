"""A running pharmacy with a SCRIPT feed user, and helpers to post SCRIPT over HTTP and read the answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from lxml import etree

from hub.config import Settings
from tests.support.pharmacy import Pharmacy, pharmacy

NS = {"s": "http://www.ncpdp.org/schema/SCRIPT"}


@dataclass
class ScriptFeed:
    """The pharmacy plus an HTTP client authenticated as an e-prescribing feed."""

    ph: Pharmacy
    http: httpx.Client

    def post(self, body: bytes, content_type: str = "application/xml") -> httpx.Response:
        """POST one SCRIPT message to /script."""
        return self.http.post("/script", content=body, headers={"Content-Type": content_type})


@contextmanager
def script_feed(settings: Settings) -> Iterator[ScriptFeed]:
    """Start the whole hub (payer simulator included) and add a ``feed`` user."""
    from hub.persistence.users import UserStore

    with pharmacy(settings) as ph:
        token = UserStore(ph.engine).add("erx-feed", "feed")[1]
        with httpx.Client(
            base_url=f"http://127.0.0.1:{ph.hub.http_port}", timeout=20, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            yield ScriptFeed(ph, http)


@dataclass(frozen=True)
class Answer:
    """The parts of a SCRIPT answer a test checks (read with lxml, namespace or not)."""

    kind: str
    code: str | None
    description: str | None
    relates_to: str | None
    to: str | None
    from_: str | None
    message_id: str | None
    response: str | None

    @classmethod
    def of(cls, body: bytes) -> Answer:
        root = etree.fromstring(body)
        header = _child(root, "Header")
        body_element = _child(root, "Body")
        assert body_element is not None, body
        transaction = next(iter(body_element))
        response = _child(transaction, "Response")
        return cls(
            kind=etree.QName(transaction).localname,
            code=_text(transaction, "Code"),
            description=_text(transaction, "Description"),
            relates_to=_text(header, "RelatesToMessageID"),
            to=_text(header, "To"),
            from_=_text(header, "From"),
            message_id=_text(header, "MessageID"),
            response=etree.QName(next(iter(response))).localname if response is not None else None,
        )


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name), None)


def _text(element: etree._Element | None, name: str) -> str | None:
    found = _child(element, name) if element is not None else None
    return found.text if found is not None else None


@contextmanager
def script_responder(ph: Pharmacy) -> Iterator[ScriptOutReader]:
    """Run the SCRIPT outbound responder beside the hub (as the runtime would) and read script-out."""
    import threading

    from adapters.ncpdp.script.outbound_responder import script_outbound_runner
    from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
    from hub.entrypoints.runtime import topology_for
    from hub.messaging.consumer import run_in_thread
    from hub.persistence.inbound import InboundStore
    from hub.persistence.queries import SqlPrescriptionQueries

    settings = ph.hub.settings
    url = settings.amqp_url.get_secret_value()
    runner, publisher = script_outbound_runner(
        url, topology_for(settings), SqlPrescriptionQueries(ph.engine), inbound=InboundStore(ph.engine)
    )
    stop = threading.Event()
    thread = run_in_thread(runner, stop, name="script-outbound")
    assert runner.ready.wait(20), "the SCRIPT responder did not start"
    reader = ScriptOutReader(url, ScriptOutTopology.of(topology_for(settings)).script_out_queue)
    try:
        yield reader
    finally:
        reader.close()
        stop.set()
        thread.join(10)
        publisher.close()


@dataclass
class OutboundMessage:
    """One message a prescriber connector would deliver."""

    kind: str | None
    to: str | None
    message_id: str | None
    body: bytes


class ScriptOutReader:
    """Reads the script-out queue the way a prescriber connector would."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        import pika

        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.queue = queue

    def next(self, timeout_s: float = 20.0) -> OutboundMessage:
        """The next message, or AssertionError when none comes in time."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            method, props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is not None:
                headers = props.headers or {}
                return OutboundMessage(props.type, headers.get("x-rxhub-script-to"), props.message_id, body)
            self.connection.sleep(0.05)
        raise AssertionError(f"nothing on {self.queue}")

    def pending(self) -> int:
        """How many messages wait on the queue."""
        return int(self.channel.queue_declare(self.queue, passive=True).method.message_count)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()
