"""Dev certificates for the TLS tests: one CA with a server and client certificates, a stranger CA, expired ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.security.certs import DevCertificates, KeyPair, issue, make_ca, write_dev_certificates


@dataclass(frozen=True)
class Pki:
    dev: DevCertificates
    stranger_client: tuple[Path, Path]
    stranger_ca: Path
    expired_client: tuple[Path, Path]
    expired_server: tuple[Path, Path]

    def client(self, cn: str) -> tuple[Path, Path]:
        return self.dev.clients[cn]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    dev = write_dev_certificates(folder, clients=("ehr-north", "ehr-south"))

    ca = KeyPair(cert_pem=dev.ca.read_bytes(), key_pem=(folder / "ca.key").read_bytes(), subject_cn="RxHub dev CA")
    stranger = make_ca("Somebody else's CA")
    stranger_ca, _ = stranger.write(folder / "stranger", "ca")
    long_ago = datetime.now(UTC) - timedelta(days=30)
    return Pki(
        dev=dev,
        stranger_client=issue(stranger, "ehr-north", server=False).write(folder / "stranger", "client"),
        stranger_ca=stranger_ca,
        expired_client=issue(ca, "ehr-north", server=False, not_before=long_ago, days=1).write(
            folder, "expired-client"
        ),
        expired_server=issue(ca, "rxhub-server", server=True, not_before=long_ago, days=1).write(
            folder, "expired-server"
        ),
    )
