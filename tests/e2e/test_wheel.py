"""The hub as a user installs it: a wheel built from this tree, installed (not editable) into a fresh venv, run
from another directory, takes an order to READY with ``rxhub run`` and ``rxhub payer-sim``.

The fresh venv has no pip and no copy of the dependencies: a ``.pth`` line puts this environment's
site-packages after its own (so the wheel's ``hub`` wins, and this checkout's editable hook, a ``.pth`` file
in a folder that is only appended, never runs). Fast, no network once pip's cache holds setuptools, and the
hub it runs is the wheel's alone: every file it reads had to be inside the wheel.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import Settings
from tests.support.processes import (
    HOUSE_PLAN,
    ROOT,
    consumers,
    first_line,
    free_port,
    hub_env,
    retail_order_to_ready,
    stop,
    wait_for,
)

pytestmark = pytest.mark.slow


def _wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the tree (no build/ or egg-info left in the checkout others use)."""
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("hub", "adapters"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("rxhub-*.whl")
    return wheel


def _venv(tmp_path: Path, wheel: Path) -> Path:
    """A fresh venv holding the wheel; its dependencies come from this environment's site-packages."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "rxhub-test-dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run(
        [str(python), "-c", "import hub, adapters; print(hub.__file__, adapters.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert str(ROOT) not in where and where.count(purelib) == 2, where
    return venv


def test_an_installed_wheel_takes_an_order_to_ready(settings: Settings, tmp_path: Path) -> None:
    venv = _venv(tmp_path, _wheel(tmp_path))
    rxhub = [str(venv / "bin" / "rxhub")]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in hub_env(settings, free_port(), free_port()).items() if k != "PYTHONPATH"}
    env |= HOUSE_PLAN | {"PATH": f"{venv / 'bin'}:{env['PATH']}"}
    hub = subprocess.Popen([*rxhub, "run"], env=env, cwd=elsewhere, stdout=subprocess.PIPE, text=True)
    payer = subprocess.Popen([*rxhub, "payer-sim"], env=env, cwd=elsewhere, text=True)
    try:
        first_line(hub, "MLLP on")
        amqp = settings.amqp_url.get_secret_value()
        wait_for(lambda: consumers(amqp, f"{settings.broker_prefix}.payer-sim"), "payer simulator consuming")
        wait_for(lambda: consumers(amqp, f"{settings.broker_prefix}.intake"), "intake worker consuming")
        retail_order_to_ready(rxhub, env, cwd=elsewhere)
    finally:
        stop(payer, hub)
    assert hub.returncode == 0 and payer.returncode == 0
