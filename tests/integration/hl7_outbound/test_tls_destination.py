"""Outbound MLLP over TLS: the destination's certificate is verified; a stranger's is refused."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.mllp_link import DestinationUnavailable, MllpLink
from hub.security.certs import write_dev_certificates
from hub.security.tls import client_context


class TlsReceiver(threading.Thread):
    """A destination's MLLP port over TLS that ACKs each message with AA."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(daemon=True)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []

    def run(self) -> None:
        while True:
            try:
                raw, _ = self.server.accept()
                conn = self.context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                if self.server.fileno() == -1:
                    return
                continue
            data = b""
            while b"\x1c\r" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            if data:
                self.received.append(data)
                control = data.split(b"\r")[0].split(b"|")[9]
                conn.sendall(b"\x0bMSH|^~\\&|EHR|X|RXHUB|P|20261126||ACK|A1|P|2.5.1\rMSA|AA|" + control + b"\r\x1c\r")
            conn.close()


@pytest.fixture
def pki(tmp_path: Path):  # type: ignore[no-untyped-def]
    return write_dev_certificates(tmp_path / "pki")


MESSAGE = b"MSH|^~\\&|RXHUB|PHARMACY|EHR|X|20261126||ORM^O01|CTRL1|P|2.5.1\rORC|SC|P1\r"


def test_a_message_goes_over_tls_to_a_verified_destination(pki) -> None:  # type: ignore[no-untyped-def]
    receiver = TlsReceiver(pki.server_cert, pki.server_key)
    receiver.start()
    link = MllpLink(
        "127.0.0.1",
        receiver.port,
        connect_timeout_s=5,
        max_frame_bytes=65536,
        ssl_context=client_context(pki.ca),
        server_name="localhost",
    )
    link.send(MESSAGE)
    ack = link.next_frame(time.monotonic() + 5)
    link.close()
    assert ack is not None and b"MSA|AA|CTRL1" in ack
    assert receiver.received and b"CTRL1" in receiver.received[0]


def test_a_destination_with_a_certificate_from_another_ca_is_refused(pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    receiver = TlsReceiver(pki.server_cert, pki.server_key)
    receiver.start()
    stranger = write_dev_certificates(tmp_path / "other")
    link = MllpLink(
        "127.0.0.1",
        receiver.port,
        connect_timeout_s=5,
        max_frame_bytes=65536,
        ssl_context=client_context(stranger.ca),
        server_name="localhost",
    )
    with pytest.raises(DestinationUnavailable):
        link.send(MESSAGE)
    assert receiver.received == []


def test_destination_config_accepts_tls_settings_and_false() -> None:
    base = {"host": "h", "port": 1, "events": ["prescription.received"]}
    plain = DestinationConfig.model_validate({**base, "name": "a", "tls": False})
    secure = DestinationConfig.model_validate(
        {**base, "name": "b", "tls": {"ca_file": "/etc/rxhub/ca.pem", "server_name": "ehr"}}
    )
    assert plain.tls is None and secure.tls is not None and secure.tls.server_name == "ehr"
