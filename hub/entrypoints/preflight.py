"""Every setting and every file a setting names, checked before a door opens or a worker starts.

A door that answers AA while the worker behind it died on its configuration breaks the house rule; so the
processes load what they will need first, and a bad value stops them with one line naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pydantic import ValidationError

from hub.config import Settings
from hub.domain.catalogue import Catalogue
from hub.domain.dur import InteractionTable
from hub.domain.payer_sheet import PayerSheets
from hub.errors import ConfigurationError, RxHubError
from hub.security import posture, tls
from hub.security.audit_keys import AuditKeys
from hub.security.data_key import RawCipher

log = logging.getLogger(__name__)


def check(settings: Settings, *, doors: bool, workers: bool) -> None:
    """Raise :class:`ConfigurationError` (or the posture's refusal) for the first setting that cannot be used."""
    if doors:
        # lazy: the doors' module loads FastAPI, uvicorn and the adapters; the CLI's one-shot commands do not
        from hub.entrypoints.doors import check_posture

        check_posture(settings)
        posture.check_audit_key(settings.audit_key is not None, (settings.mllp_host, settings.http_host))
    else:
        posture.check_broker_url(settings.amqp_url.get_secret_value(), allow_plaintext=settings.allow_plaintext)
    _files(settings)
    _keys(settings)
    if doors:
        _tls(settings)
    if workers:
        _reference_data(settings)
        _outbound(settings)


def one_line(exc: BaseException) -> str:
    """The error as one line: pydantic's report folded into ``field: problem; ...``."""
    cause = exc if isinstance(exc, ValidationError) else exc.__cause__
    if isinstance(cause, ValidationError):
        return "; ".join(_located(e["loc"], e["msg"].removeprefix("Value error, ")) for e in cause.errors())
    return " ".join(str(exc).split())


def _located(loc: tuple[int | str, ...], message: str) -> str:
    return f"{'.'.join(str(p) for p in loc)}: {message}" if loc else message


def _files(s: Settings) -> None:
    """Every path setting that is set names a readable file."""
    named = {
        "catalogue_path": s.catalogue_path,
        "interactions_path": s.interactions_path,
        "payer_sheets_path": s.payer_sheets_path,
        "outbound_destinations": s.outbound_destinations,
        "mllp_tls_cert": s.mllp_tls_cert,
        "mllp_tls_key": s.mllp_tls_key,
        "mllp_tls_client_ca": s.mllp_tls_client_ca,
        "http_tls_cert": s.http_tls_cert,
        "http_tls_key": s.http_tls_key,
        "amqp_ca_file": s.amqp_ca_file,
    }
    for name, path in named.items():
        if path is not None and not Path(path).is_file():
            raise ConfigurationError(f"RXHUB_{name.upper()}: {path} is not a readable file")
    if (s.http_tls_cert is None) != (s.http_tls_key is None) or (s.mllp_tls_cert is None) != (s.mllp_tls_key is None):
        raise ConfigurationError("a TLS certificate needs its key and a key its certificate (RXHUB_*_TLS_CERT/KEY)")


def _keys(s: Settings) -> None:
    """The data key is a Fernet key list and the command keys are not empty."""
    if (data_key := s.data_key) is not None:
        _load("RXHUB_DATA_KEY", lambda: RawCipher(data_key.get_secret_value()))
    if s.command_key is not None and not all(k.strip() for k in s.command_key.get_secret_value().split(",")):
        raise ConfigurationError("RXHUB_COMMAND_KEY: an empty key in the list")
    if (audit_key := s.audit_key) is None:
        log.warning(
            "RXHUB_AUDIT_KEY is unset: the audit trail is chained with plain SHA-256, which anyone able "
            'to write the database can recompute (docs/security.md, "Audit trail")'
        )
    else:
        _load("RXHUB_AUDIT_KEY", lambda: AuditKeys.parse(audit_key.get_secret_value()))


def _tls(s: Settings) -> None:
    """The doors' certificates and keys load (a wrong key or a PEM that is not one fails here, not on a peer)."""
    for name, cert, key in (("MLLP", s.mllp_tls_cert, s.mllp_tls_key), ("HTTP", s.http_tls_cert, s.http_tls_key)):
        if cert is not None and key is not None:
            client_ca = s.mllp_tls_client_ca if name == "MLLP" else None
            _load(f"{name} TLS", partial(tls.server_context, cert, key, client_ca=client_ca))


def _reference_data(s: Settings) -> None:
    """The drug catalogue, the interaction table and the payer sheets parse (the workers load them at start)."""
    _load(f"RXHUB_CATALOGUE_PATH {s.catalogue_path}", lambda: Catalogue.from_json_text(s.catalogue_path.read_text()))
    _load(
        f"RXHUB_INTERACTIONS_PATH {s.interactions_path}",
        lambda: InteractionTable.from_json_text(s.interactions_path.read_text()),
    )
    _load(
        f"RXHUB_PAYER_SHEETS_PATH {s.payer_sheets_path}",
        lambda: PayerSheets.from_json_text(s.payer_sheets_path.read_text()),
    )


def _outbound(s: Settings) -> None:
    """The outbound destinations file names known event types, valid hosts, unique names."""
    if s.script_network is not None:
        # lazy: the adapters load only when their settings are given
        from adapters.ncpdp.script.network_config import load_script_network

        network = s.script_network
        _load(f"RXHUB_SCRIPT_NETWORK {network}", lambda: load_script_network(network))
    if s.fhir_renewals is not None:
        # lazy: the adapters load only when their settings are given
        from adapters.fhir.renewal_sender import load_fhir_renewals

        renewals = s.fhir_renewals
        _load(f"RXHUB_FHIR_RENEWALS {renewals}", lambda: load_fhir_renewals(renewals))
    if s.switch_routes is not None:
        # lazy: the adapters load only when their settings are given
        from adapters.ncpdp.switch.routing import load_routing_table

        routes = s.switch_routes
        _load(f"RXHUB_SWITCH_ROUTES {routes}", lambda: load_routing_table(routes))
        if (wait := load_routing_table(routes).longest_wait_ms()) >= s.payer_timeout_ms:
            # the hub would call the claim unanswered (and reverse it) while the connector still waits
            raise ConfigurationError(
                f"RXHUB_SWITCH_ROUTES {routes}: a claim may wait {wait} ms for its switches, "
                f"not less than RXHUB_PAYER_TIMEOUT_MS ({s.payer_timeout_ms})"
            )
    if s.outbound_destinations is None:
        return
    # lazy: the adapters load only when their settings are given
    from adapters.hl7.outbound.destinations import load_destinations

    path = s.outbound_destinations
    _load(f"RXHUB_OUTBOUND_DESTINATIONS {path}", lambda: load_destinations(path))


def _load(what: str, load: Callable[[], object]) -> None:
    """Run ``load``; any failure becomes one ConfigurationError naming ``what``."""
    try:
        load()
    except (OSError, ValueError, RxHubError) as exc:  # a loader's ConfigurationError too: it needs the setting
        raise ConfigurationError(f"{what}: {one_line(exc)}") from exc
