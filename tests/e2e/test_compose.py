"""docker-compose.yml as a user runs it, without a Docker daemon: its hardening read from the file, and every
RxHub service's command run here with the service's environment (secrets from files made by
``scripts/compose-secrets.sh``, hosts pointed at this machine's broker and database, free ports), taking a
retail order to READY together."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from hub.config import Settings
from hub.entrypoints import preflight
from hub.security.posture import check_broker_url
from tests.conftest import make_settings
from tests.support.processes import HOUSE_PLAN, ROOT, consumers, free_port, retail_order_to_ready, stop, wait_for

COMPOSE = ROOT / "docker-compose.yml"
SECRETS_SCRIPT = ROOT / "scripts" / "compose-secrets.sh"
#: the services built from this tree (the others are RabbitMQ's and PostgreSQL's images)
HUB_SERVICES = ("init", "hub", "workers", "payer-sim")
LONG_RUNNING = ("rabbitmq", "postgres", "hub", "workers", "payer-sim")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def test_published_ports_are_this_machines_only() -> None:
    published = {name: service.get("ports", []) for name, service in _services().items()}
    assert published["hub"] and not published["postgres"]
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    hub = _services()["hub"]
    for door in ("MLLP", "HTTP"):  # the published container port is the one the door listens on
        assert any(str(p).endswith(f":{hub['environment'][f'RXHUB_{door}_PORT']}") for p in hub["ports"]), door


def test_services_restart_and_say_when_they_are_healthy() -> None:
    services = _services()
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
    assert services["init"]["restart"] == "no"
    for name in ("rabbitmq", "postgres", "hub", "workers"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert "ping" in services["rabbitmq"]["healthcheck"]["test"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "/readyz" in " ".join(services["hub"]["healthcheck"]["test"])


def test_data_lives_on_named_volumes_and_the_broker_keeps_its_node_name() -> None:
    services, volumes = _services(), _compose()["volumes"]
    mounts = {name: [v.split(":") for v in service.get("volumes", [])] for name, service in services.items()}
    assert ["postgres-data", "/var/lib/postgresql/data"] in mounts["postgres"]
    assert ["rabbitmq-data", "/var/lib/rabbitmq"] in mounts["rabbitmq"]
    assert {"postgres-data", "rabbitmq-data"} <= set(volumes)
    assert services["rabbitmq"]["hostname"] == "rabbitmq"  # its data folder is named after rabbit@<hostname>


def test_everything_waits_for_what_it_needs() -> None:
    services = _services()
    for name in ("hub", "workers"):
        needs = services[name]["depends_on"]
        assert needs["init"] == {"condition": "service_completed_successfully"}, name
        assert needs["rabbitmq"] == needs["postgres"] == {"condition": "service_healthy"}, name
    assert services["init"]["depends_on"] == {
        "rabbitmq": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert services["payer-sim"]["profiles"] == ["simulator"]


def test_no_secret_is_written_in_the_file() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert ":guest@" not in text and "_USER: guest" not in text
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "a URL with a password"
    secrets = _compose()["secrets"]
    for name, service in _services().items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"PASS|PASSWORD|_URL|_KEY", variable):
                assert variable.endswith("_FILE") and str(value).startswith("/run/secrets/"), (name, variable)
                assert str(value).removeprefix("/run/secrets/") in service["secrets"], (name, variable)
        for secret in service.get("secrets", []):
            assert (secret if isinstance(secret, str) else secret["source"]) in secrets, (name, secret)
    rabbitmq_secret = _services()["rabbitmq"]["secrets"][0]
    assert rabbitmq_secret["target"].startswith("/etc/rabbitmq/conf.d/")


def test_the_secrets_script_makes_every_secret_once(tmp_path: Path) -> None:
    folder = _make_secrets(tmp_path)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    read = {path.name: path.read_text().strip() for path in folder.iterdir()}
    amqp = urlsplit(read["amqp_url"])
    assert amqp.username == "rxhub" and amqp.password and len(amqp.password) >= 32
    assert f"default_user = rxhub\ndefault_pass = {amqp.password}" == read["rabbitmq.conf"]
    check_broker_url(read["amqp_url"], allow_plaintext=True)  # the hub takes it (no guest on a remote broker)
    database = urlsplit(read["database_url"])
    assert database.password == read["postgres_password"] and len(read["postgres_password"]) >= 32
    assert (database.hostname, database.username, database.path) == ("postgres", "rxhub", "/rxhub")
    again = subprocess.run(["sh", str(SECRETS_SCRIPT), str(folder)], capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "created" not in again.stdout
    assert read == {path.name: path.read_text().strip() for path in folder.iterdir()}  # kept, never replaced


def test_the_image_is_built_for_running_not_for_editing() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install -e" not in dockerfile and "--editable" not in dockerfile
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*/readyz", dockerfile, re.M)
    for label in ("title", "version", "licenses", "source", "revision"):
        assert f"org.opencontainers.image.{label}=" in dockerfile, label
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored[ignored.index("*") + 1 :][:5] == ["!pyproject.toml", "!README.md", "!LICENSE", "!hub/", "!adapters/"]


@pytest.mark.parametrize("name", HUB_SERVICES)
def test_each_service_passes_the_hubs_checks_as_the_container_sees_it(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its settings as written (the doors on 0.0.0.0, the broker at rabbitmq:5672) pass the start-up checks
    that refuse plain TCP off loopback and guest on a remote broker, with the secrets the script makes."""
    service, folder = _services()[name], _make_secrets(tmp_path)
    for variable in [v for v in os.environ if v.startswith("RXHUB_")]:
        monkeypatch.delenv(variable)
    for variable, value in service["environment"].items():
        monkeypatch.setenv(variable, str(value).replace("/run/secrets/", f"{folder}/"))
    settings = Settings()
    assert urlsplit(settings.amqp_url.get_secret_value()).hostname == "rabbitmq"
    preflight.check(settings, doors=name == "hub", workers=name == "workers")


@pytest.mark.slow
@pytest.mark.postgres
def test_the_services_take_an_order_to_ready(amqp_url: str, postgres_url: str, tmp_path: Path) -> None:
    services = _services()
    folder = _make_secrets(tmp_path)
    (folder / "amqp_url").write_text(amqp_url + "\n")  # the session's vhost, this test's database
    (folder / "database_url").write_text(postgres_url + "\n")
    prefix = make_settings(amqp_url, postgres_url).broker_prefix  # its queues are deleted after the test
    envs = {name: _local_env(services[name], folder, prefix) for name in HUB_SERVICES}

    made = _run(services["init"], envs["init"])
    assert made.returncode == 0 and re.search(r"^token: \S+$", made.stdout, re.M), (made.stdout, made.stderr)
    again = _run(services["init"], envs["init"])
    assert again.returncode == 0 and "token:" not in again.stdout and "exists already" in again.stdout

    replicas = [
        _local_env(services["workers"], folder, prefix)  # each replica its own metrics port
        for _ in range(services["workers"]["deploy"]["replicas"])
    ]
    started: list[subprocess.Popen[str]] = []
    try:
        started.append(_start(services["hub"], envs["hub"]))
        started += [_start(services["workers"], env) for env in replicas]
        started.append(_start(services["payer-sim"], envs["payer-sim"]))
        wait_for(lambda: _healthy(services["hub"], envs["hub"]), "hub healthy (/readyz)")
        wait_for(lambda: consumers(amqp_url, f"{prefix}.payer-sim"), "payer simulator consuming")
        assert all(_healthy(services["workers"], env) for env in replicas), "a worker's healthcheck failed"
        retail_order_to_ready(["rxhub"], envs["hub"], cwd=tmp_path)  # `docker compose exec hub rxhub ...`
        assert all(process.poll() is None for process in started), "a service exited"
    finally:
        stop(*started)
        for process in started:  # nothing the services started lives on
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            raise AssertionError(f"{process.args} left a process behind")
    assert [process.returncode for process in started] == [0] * len(started)


def _make_secrets(tmp_path: Path) -> Path:
    """``scripts/compose-secrets.sh`` into a private folder; every secret the compose file names is there."""
    folder = tmp_path / "secrets"
    made = subprocess.run(["sh", str(SECRETS_SCRIPT), str(folder)], capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    for name, secret in _compose()["secrets"].items():
        assert secret["file"] == f"./secrets/{name}"
        assert (folder / name).is_file(), name
    return folder


def _local_env(service: dict[str, Any], secrets: Path, prefix: str) -> dict[str, str]:
    """The service's environment on this machine: secrets from ``secrets``, its hosts this machine's loopback,
    its ports free ones; no RXHUB_* variable of the test run leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RXHUB_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # this checkout's `rxhub`
    for variable, value in service.get("environment", {}).items():
        value = str(value)
        if value.startswith("/run/secrets/"):
            value = str(secrets / value.removeprefix("/run/secrets/"))
        elif value == "0.0.0.0":
            value = "127.0.0.1"
        elif variable.endswith("_PORT"):
            value = str(free_port())
        env[variable] = value
    return env | HOUSE_PLAN | {"RXHUB_BROKER_PREFIX": prefix, "RXHUB_LOG_LEVEL": "WARNING"}


def _command(service: dict[str, Any]) -> list[str]:
    """The command as the container runs it: compose reads ``$$`` as ``$`` and would fill in any other ``$``."""
    command = [str(part) for part in service["command"]]
    assert not any("$" in part.replace("$$", "") for part in command), "a $ compose would interpolate"
    return [part.replace("$$", "$") for part in command]


def _run(service: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(service), env=env, capture_output=True, text=True, timeout=120)


def _start(service: dict[str, Any], env: dict[str, str]) -> subprocess.Popen[str]:
    """A long-running service in its own process group, as in its container."""
    return subprocess.Popen(_command(service), env=env, text=True, start_new_session=True, stdout=subprocess.DEVNULL)


def _healthy(service: dict[str, Any], env: dict[str, str]) -> bool:
    """The service's healthcheck, run as Docker would (``CMD`` form) with the service's environment."""
    kind, *command = service["healthcheck"]["test"]
    assert kind == "CMD"
    return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
