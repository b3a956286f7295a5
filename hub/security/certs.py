"""Certificates for trying TLS locally (``rxhub certs dev``) and for the TLS tests: a CA and what it signs.

Never for production: the CA key sits next to the certificates it signs.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import BaseModel, ConfigDict

#: names a local server certificate answers to
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


class KeyPair(BaseModel):
    """A certificate and its private key, both PEM."""

    model_config = ConfigDict(frozen=True)
    cert_pem: bytes
    key_pem: bytes
    subject_cn: str

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """Write ``stem.pem`` and ``stem.key`` (the key readable by the owner only)."""
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / f"{stem}.pem", folder / f"{stem}.key"
        cert.write_bytes(self.cert_pem)
        key.touch(mode=0o600)
        key.chmod(0o600)  # an existing key file kept its mode, and touch's was narrowed by the umask only
        key.write_bytes(self.key_pem)
        return cert, key


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RxHub dev"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, cn: str) -> KeyPair:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(cert_pem=cert.public_bytes(serialization.Encoding.PEM), key_pem=key_pem, subject_cn=cn)


def make_ca(cn: str = "RxHub dev CA", *, days: int = 825) -> KeyPair:
    """A self-signed certificate authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _pem(cert, key, cn)


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def issue(
    ca: KeyPair,
    cn: str,
    *,
    server: bool,
    names: tuple[str, ...] = LOCAL_NAMES,
    days: int = 397,
    not_before: datetime | None = None,
) -> KeyPair:
    """A leaf certificate signed by ``ca``: a server's (with ``names``) or a client's (subject CN = identity)."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if server:
        builder = builder.add_extension(_san(names), critical=False)
    return _pem(builder.sign(ca_key, hashes.SHA256()), key, cn)


class DevCertificates(BaseModel):
    """What ``rxhub certs dev`` writes: a CA, a server certificate for localhost, and one per client."""

    model_config = ConfigDict(frozen=True)
    folder: Path
    ca: Path
    server_cert: Path
    server_key: Path
    clients: dict[str, tuple[Path, Path]]


def write_dev_certificates(
    folder: Path, clients: tuple[str, ...] = ("ehr-feed",), names: tuple[str, ...] = LOCAL_NAMES
) -> DevCertificates:
    """Make a fresh CA, a server certificate for ``names`` and a client certificate per name in ``clients``."""
    ca = make_ca()
    ca_path, _ = ca.write(folder, "ca")
    server_cert, server_key = issue(ca, "rxhub-server", server=True, names=names).write(folder, "server")
    issued = {cn: issue(ca, cn, server=False).write(folder, f"client-{cn}") for cn in clients}
    return DevCertificates(folder=folder, ca=ca_path, server_cert=server_cert, server_key=server_key, clients=issued)
