"""Streaming sessions and calls out of the database for `cs export`.

Rows come one at a time from open cursors, so an export of any size runs in
constant memory; the output-format plugin writes each as it arrives.
"""

import contextlib
import io
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from . import output
from .errors import InvalidInputError
from .sessions import session_detail
from .stats import Period


def session_filter(period: Period, project: str | None) -> tuple[str, list[Any]]:
    """Return the WHERE clause selecting sessions started in a period and project."""
    where, params = period.calls_where("start_time")
    if project:
        root = os.path.realpath(project)
        where += " AND (project_root = ? OR scope = ? OR git_root = ?)"
        params += [root, root, root]
    return where, params


def iter_sessions(
    conn: sqlite3.Connection, where: str, params: list[Any], limit: int | None
) -> Iterator[dict[str, Any]]:
    """Yield session documents, newest first, each with calls, files and commits."""
    sql = f"SELECT * FROM sessions WHERE {where} ORDER BY start_time DESC, id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    reader = _reader(conn)
    for row in reader.execute(sql, params):
        yield output.session_document(row, session_detail(conn, row["id"]))


def iter_calls(
    conn: sqlite3.Connection, where: str, params: list[Any], limit: int | None
) -> Iterator[dict[str, Any]]:
    """Yield one document per AI call of the selected sessions, newest first."""
    sql = f"""SELECT u.*, s.name AS session_name,
            COALESCE(s.project_root, s.git_root, s.working_directory) AS project
        FROM ai_usage u JOIN sessions s ON s.id = u.session_id
        WHERE u.session_id IN (SELECT id FROM sessions WHERE {where})
        ORDER BY u.timestamp DESC, u.id DESC"""
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for row in _reader(conn).execute(sql, params):
        document = output.call_object(row)
        document["sessionName"] = row["session_name"]
        document["project"] = row["project"]
        yield document


def _reader(conn: sqlite3.Connection) -> sqlite3.Connection:
    """A second connection to the same file, so the main one stays free for lookups."""
    path = conn.execute("PRAGMA database_list").fetchone()["file"]
    reader = sqlite3.connect(path, isolation_level=None)
    reader.row_factory = sqlite3.Row
    return reader


@contextlib.contextmanager
def open_target(path: str | None) -> Iterator[IO[str]]:
    """Open the export's destination: a file written atomically, or stdout.

    A file is written next to its final name and moved into place only when the
    export succeeded, so a failure never leaves half a file.
    """
    if path is None:
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stream
        finally:
            stream.flush()
            stream.detach()
        return
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with temp.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temp, target)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="Name a file in a folder that exists and is writable.",
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
