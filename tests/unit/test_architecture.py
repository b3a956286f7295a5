"""The layout is the architecture: imports point inward, checked here rather than by review."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = {
    "pika",
    "sqlalchemy",
    "hl7",
    "hl7apy",
    "fhir",
    "lxml",
    "fastapi",
    "httpx",
    "psycopg",
    "adapters",
    "hub.messaging",
    "hub.persistence",
    "hub.service",
    "hub.entrypoints",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(folder: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_domain_does_no_io_and_knows_no_standard() -> None:
    assert _violations("hub/domain", FORBIDDEN_IN_DOMAIN) == []


def test_hub_never_imports_adapters_except_the_composition_root() -> None:
    found = [v for v in _violations("hub", {"adapters"}) if not v.startswith(("hub/entrypoints/", "hub/bootstrap/"))]
    assert found == []


def test_adapters_never_import_each_other() -> None:
    for std in ("hl7", "fhir", "ncpdp"):
        others = {f"adapters.{o}" for o in ("hl7", "fhir", "ncpdp") if o != std}
        assert _violations(f"adapters/{std}", others) == []


def test_adapters_never_reach_into_the_composition_root() -> None:
    assert _violations("adapters", {"hub.entrypoints", "hub.bootstrap"}) == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import pika\nfrom sqlalchemy import select\n")
    assert _imports(bad) == {"pika", "sqlalchemy"}


def test_a_worker_process_loads_no_door() -> None:
    """``rxhub worker`` builds from ``hub.bootstrap``; the doors' web stack and FHIR models would cost it ~20 MB."""
    probe = (
        "import sys; import hub.entrypoints.cli, hub.bootstrap; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'starlette', 'fhir', 'uvicorn'} "
        "or m.startswith(('adapters.fhir', 'adapters.ncpdp.script', 'hub.entrypoints.http'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
