"""AMQPS: the hub's publishers verify the broker's certificate (real TLS handshakes through a TLS front).

The shared RabbitMQ on this machine listens in plain AMQP, and reconfiguring it would disturb everyone, so a
small TLS terminator in front of it plays the broker's TLS port, as stunnel or a load balancer would.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from pathlib import Path

import pytest

from hub.config import Settings
from hub.errors import BrokerUnavailable
from hub.messaging.amqp_properties import command_properties
from hub.messaging.async_publisher import AsyncConfirmingPublisher, OutgoingMessage
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import Topology, declare
from hub.security.certs import write_dev_certificates
from hub.security.tls import client_context
from tests.integration.test_messaging import _envelope


class TlsFront(threading.Thread):
    """Accepts TLS on a free port and relays the bytes to the plain broker port."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(daemon=True)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                raw, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(raw,), daemon=True).start()

    def _relay(self, raw: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        upstream = socket.create_connection(("127.0.0.1", 5672))
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def close(self) -> None:
        self.server.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def front(tmp_path: Path):  # type: ignore[no-untyped-def]
    certs = write_dev_certificates(tmp_path / "pki")
    proxy = TlsFront(certs.server_cert, certs.server_key)
    proxy.start()
    yield proxy, certs
    proxy.close()


def _amqps(settings: Settings, port: int) -> str:
    return settings.amqp_url.get_secret_value().replace("amqp://", "amqps://").replace(":5672/", f":{port}/")


def test_publisher_confirms_over_amqps_with_the_right_ca(settings: Settings, front) -> None:  # type: ignore[no-untyped-def]
    proxy, certs = front
    topology = Topology(settings.broker_prefix)
    plain = connect(settings.amqp_url.get_secret_value())
    declare(plain.channel(), topology)
    plain.close()
    url = _amqps(settings, proxy.port)

    async def go() -> None:
        publisher = AsyncConfirmingPublisher(url, ssl_context=client_context(certs.ca))
        await publisher.start()
        env = _envelope("TLS-1")
        await publisher.publish_all(
            [OutgoingMessage(topology.commands_exchange, env.type, env.to_bytes(), command_properties(env))]
        )
        await publisher.close()

    asyncio.run(go())
    blocking = connect(url, ssl_context=client_context(certs.ca))
    assert blocking.channel().queue_declare(topology.work_queue("intake"), passive=True).method.message_count == 1
    blocking.close()


def test_a_broker_certificate_from_another_ca_is_refused(settings: Settings, front, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proxy, _ = front
    stranger = write_dev_certificates(tmp_path / "other-pki")
    with pytest.raises(BrokerUnavailable):
        connect(_amqps(settings, proxy.port), ssl_context=client_context(stranger.ca))

    async def go() -> None:
        publisher = AsyncConfirmingPublisher(
            _amqps(settings, proxy.port), ssl_context=client_context(stranger.ca), connect_timeout_s=3
        )
        with pytest.raises(BrokerUnavailable):
            await publisher.start()
        await publisher.close()

    asyncio.run(go())
