"""lxml stays inside the two modules that parse and write XML; the SCRIPT adapter imports no sibling."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "adapters" / "ncpdp" / "script"


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_parser_and_the_writer_touch_lxml() -> None:
    users = {p.name for p in PACKAGE.glob("*.py") if any(n.split(".")[0] == "lxml" for n in imports(p))}
    assert users == {"safe_xml.py", "xml_writer.py"}


def test_no_other_ncpdp_adapter_is_imported() -> None:
    for path in PACKAGE.glob("*.py"):
        foreign = {n for n in imports(path) if n.startswith("adapters.") and not n.startswith("adapters.ncpdp.script")}
        assert foreign == set(), path.name
