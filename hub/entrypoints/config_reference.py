"""docs/configuration.md, generated from the settings object: every ``RXHUB_*`` variable with its type, default
and the ``#:`` comment above it in hub/config.py.

``python -m hub.entrypoints.config_reference`` rewrites the file; a test regenerates it and fails when the file is
stale or a setting has no comment, so the reference cannot drift from the code.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hub import config
from hub.config import FILE_SECRETS, Settings

#: where the generated reference is written, relative to the repository
REFERENCE = Path("docs") / "configuration.md"
#: defaults computed when the process starts: shown as the rule, not as this machine's value
COMPUTED_DEFAULTS = {
    "data_dir": "`/var/lib/rxhub` for root, else `$XDG_DATA_HOME/rxhub` (`~/.local/share/rxhub`)",
    "database_url": "SQLite `rxhub.sqlite3` in `RXHUB_DATA_DIR`",
    "event_source": "`urn:rxhub:ncpdp:` followed by `RXHUB_PHARMACY_NCPDP_ID`",
    "catalogue_path": "the catalogue shipped in the package (`hub/data/drug-catalogue.json`)",
    "interactions_path": "the table shipped in the package (`hub/data/interactions.json`)",
    "payer_sim_config": "the plan data shipped in the package (`hub/data/payer-sim.json`)",
    "payer_sheets_path": "the example sheets shipped in the package (`hub/data/payer-sheets.json`)",
}
HEADER = """# Configuration reference

<!-- generated from hub/config.py by `python -m hub.entrypoints.config_reference`; do not edit by hand -->

Every setting is an environment variable with the `RXHUB_` prefix, read once when an `rxhub` command starts
(`hub/config.py`). Lists are JSON (`["a","b"]`); booleans `true`/`false`. A value that cannot be used stops the
command with one line and exit code 2 (README, "Exit codes"). The secrets {secrets} may instead be read from
the file that `RXHUB_<NAME>_FILE` names (Docker and Kubernetes secrets).

| variable | type | default | description |
|---|---|---|---|
"""


def descriptions() -> dict[str, str]:
    """Each setting's ``#:`` comment (the lines right above it in the class body), joined into one line."""
    source = inspect.getsource(config)
    lines = source.splitlines()
    tree = ast.parse(source)
    settings = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    found: dict[str, str] = {}
    for node in settings.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            comment: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                comment.insert(0, lines[row].strip().removeprefix("#:").strip())
                row -= 1
            found[node.target.id] = " ".join(comment)
    return found


def missing() -> list[str]:
    """Settings without a ``#:`` comment."""
    described = descriptions()
    return [name for name in Settings.model_fields if not described.get(name)]


def render() -> str:
    """The whole reference as markdown."""
    described = descriptions()
    secrets = ", ".join(f"`RXHUB_{name.upper()}`" for name in FILE_SECRETS)
    rows = [
        f"| `RXHUB_{name.upper()}` | {_type(field)} | {_default(name, field)} | {_cell(described.get(name, ''))} |"
        for name, field in Settings.model_fields.items()
    ]
    return HEADER.format(secrets=secrets) + "\n".join(rows) + "\n"


def _type(field: FieldInfo) -> str:
    text = re.sub(r"\b(?:pathlib|pydantic\.types|typing)\.", "", str(field.annotation).replace("NoneType", "None"))
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    return f"`{_cell(text)}`"


def _default(name: str, field: FieldInfo) -> str:
    if name in COMPUTED_DEFAULTS:
        return COMPUTED_DEFAULTS[name]
    value: Any = field.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, tuple):
        return "`" + ",".join(str(v) for v in value) + "`" if value else "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    """Markdown table cell: pipes escaped (even in code spans), reST's double backticks made single."""
    return text.replace("``", "`").replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    """Write the reference (or, with ``--check``, exit 1 when the file differs)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[-1]) if args and not args[-1].startswith("--") else REFERENCE
    if "--check" in args:
        return 0 if path.is_file() and path.read_text(encoding="utf-8") == render() else 1
    path.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
