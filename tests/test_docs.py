"""The documentation keeps up with the code: every command, error code, warning
code and database column is documented."""

import importlib
import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from cyclopts import App

from cs_core.cli import BUILTIN_COMMANDS
from cs_core.db import connect
from cs_core.errors import ERROR_CLASSES
from cs_core.plugins import plugin_commands

ROOT = Path(__file__).parent.parent
GUIDE = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
ERRORS = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")


def _target(import_string: str) -> object:
    module, _, attr = import_string.partition(":")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name", sorted(BUILTIN_COMMANDS))
def test_builtin_summary_is_the_docstring_first_line(name: str) -> None:
    target, summary = BUILTIN_COMMANDS[name]
    obj = _target(target)
    doc = obj.help if isinstance(obj, App) else obj.__doc__

    assert summary == " ".join(doc.strip().splitlines()[0].split())


def all_commands() -> list[str]:
    return sorted(set(BUILTIN_COMMANDS) | set(plugin_commands().items))


@pytest.mark.parametrize("name", all_commands())
def test_every_command_is_in_the_user_guide(name: str) -> None:
    assert re.search(rf"^### `cs {re.escape(name)}`", GUIDE, re.M)


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help(name: str, run_cs) -> None:
    result = run_cs(name, "--help")

    assert result.exit_code == 0
    assert f"Usage: cs {name}" in result.stdout


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda e: e.code)
def test_every_error_code_is_documented(error) -> None:
    assert f"| `{error.code}` |" in ERRORS


def warning_codes() -> list[str]:
    codes = set()
    for path in [*ROOT.glob("cs_core/**/*.py"), *ROOT.glob("plugins/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'"code": "([a-z_]+)"', text))
    return sorted(codes - {e.code for e in ERROR_CLASSES} | {"budget_exceeded"})


@pytest.mark.parametrize("code", warning_codes())
def test_every_warning_code_is_documented(code: str) -> None:
    assert f"| `{code}` |" in ERRORS


def schema_columns() -> list[tuple[str, str]]:
    return [(t, c) for t, cols in _schema().items() for c in cols]


def _schema() -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        conn = connect(Path(folder) / "schema.db")
        return _tables(conn)


def _tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT LIKE 'sqlite_%' ORDER BY name")]  # fmt: skip
    return {
        t: [r[1] for r in conn.execute(f"PRAGMA table_info([{t}])")] for t in tables
    }


@pytest.mark.parametrize(("table", "column"), schema_columns(), ids=lambda v: str(v))
def test_every_table_and_column_is_in_the_schema_docs(table: str, column: str) -> None:
    schema = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    section = re.search(rf"^### `{table}`\n(.*?)(?=^### |\Z)", schema, re.M | re.S)

    assert section, f"no section for {table}"
    assert f"`{column}`" in section.group(1)
