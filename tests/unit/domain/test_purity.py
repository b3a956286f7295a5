"""hub.domain stays pure: only the standard library, pydantic, hub.domain and hub.errors (style.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[3] / "hub" / "domain"
ALLOWED_PREFIXES = ("hub.domain", "hub.errors", "pydantic")
IO_MODULES = {"os", "io", "pathlib", "socket", "subprocess", "shutil", "sqlite3", "urllib", "http", "time"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_only_allowed_modules(path: Path) -> None:
    for name in imported_modules(path):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names:
            assert top not in IO_MODULES, f"{path.name} imports {name}: the domain does no I/O"
            continue
        assert name.startswith(ALLOWED_PREFIXES), f"{path.name} imports {name}"
