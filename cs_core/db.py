"""The SQLite store: where it lives, how it is opened, and safe transactions.

Every connection runs in WAL mode with a busy timeout and enforced foreign keys. The
hot path (`cs log-ai`) uses the standard `sqlite3` module directly: importing
sqlite-utils costs about 120 ms, more than the whole budget of that command, so
sqlite-utils is loaded only to migrate the schema (see `migrations.py`).
"""

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import DatabaseError

HOME_ENV = "CODESESSION_HOME"
DB_ENV = "CODESESSION_DB_PATH"
BUSY_TIMEOUT_ENV = "CODESESSION_BUSY_TIMEOUT_MS"
BUSY_TIMEOUT_MS = 5000


def data_home() -> Path:
    """Return the data folder: `CODESESSION_HOME`, else `~/.codesession`."""
    home = os.environ.get(HOME_ENV)
    return Path(home).expanduser() if home else Path.home() / ".codesession"


def db_path() -> Path:
    """Return the database file: `CODESESSION_DB_PATH`, else in the data folder."""
    path = os.environ.get(DB_ENV)
    return Path(path).expanduser() if path else data_home() / "sessions.db"


def ensure_private_dir(path: Path) -> None:
    """Create a folder readable by its owner only (0700), if it is missing.

    Raises:
        DatabaseError: The folder cannot be created.
    """
    if path.is_dir():
        return
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"cannot create data folder {path}: {exc.strerror or exc}",
            hint=f"Set {HOME_ENV} to a writable folder.",
        ) from None


def busy_timeout_ms() -> int:
    """Return how long a connection waits for a lock: 5 s unless configured."""
    value = os.environ.get(BUSY_TIMEOUT_ENV, "")
    return int(value) if value.isdigit() else BUSY_TIMEOUT_MS


def connect(path: Path | None = None, *, migrate: bool = True) -> sqlite3.Connection:
    """Open the database, creating and migrating it as needed.

    Args:
        path: The database file; `db_path()` when None.
        migrate: Bring the schema up to date first.

    Returns:
        A connection in autocommit mode; use `transaction()` to write.

    Raises:
        DatabaseError: The file cannot be opened, is not a database, or is
            locked beyond the timeout.
    """
    path = path or db_path()
    try:
        ensure_private_dir(path.parent)
        new = not path.exists()
        conn = sqlite3.connect(
            path, timeout=busy_timeout_ms() / 1000, isolation_level=None
        )
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from None
    if new:
        _make_private(path)
    try:
        _configure(conn)
        if migrate:
            from .migrations import ensure_schema

            ensure_schema(conn)
    except sqlite3.Error as exc:
        conn.close()
        unwritable = any(word in str(exc) for word in ("readonly", "unable to open"))
        readable = _read_only(path) if unwritable else None
        if readable is None:
            raise database_error(exc, path) from None
        return readable
    return conn


def _read_only(path: Path) -> sqlite3.Connection | None:
    """Open a database that may not be written (a read-only folder) for reading.

    Reports and exports still work; any write then fails as `database_error`.
    `immutable` lets SQLite read a WAL database without creating its shared
    memory file, which a read-only folder cannot hold.
    """
    from .migrations import MIGRATIONS

    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        current = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error:
        return None
    if current < len(MIGRATIONS):  # it would need a migration it cannot get
        conn.close()
        return None
    return conn


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":
        _switch_to_wal(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Turn on WAL, waiting out other processes doing the same on a new file.

    The switch needs the database to itself and SQLite's busy handler does not
    wait for it, so parallel first runs retry here within the busy timeout.
    """
    deadline = time.monotonic() + busy_timeout_ms() / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _make_private(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def database_error(exc: sqlite3.Error, path: Path | None = None) -> DatabaseError:
    """Turn an sqlite3 exception into a `DatabaseError` the user can act on."""
    where = f" {path}" if path else ""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return DatabaseError(
            f"database{where} is locked by another process: {text}",
            hint="Wait for the other cs or sqlite process to finish, then retry.",
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseError(
            f"database{where} is read-only: {text}",
            hint=f"Make the data folder writable or set {HOME_ENV}.",
        )
    if "not a database" in text or "malformed" in text:
        return DatabaseError(
            f"database{where} is corrupt or not a SQLite file: {text}",
            hint="Move the file away (cs starts a new one) or restore a backup.",
        )
    if "disk" in text and "full" in text:
        return DatabaseError(f"no space left for database{where}: {text}")
    return DatabaseError(f"database{where} error: {text}")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True) -> Iterator[None]:
    """Run a block in one transaction; roll everything back if it raises.

    `BEGIN IMMEDIATE` takes the write lock up front, so two writers never deadlock
    half-way; a lock that outlasts the busy timeout is retried a few times.

    Raises:
        DatabaseError: The database failed or stayed locked.
    """
    _begin(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise database_error(exc) from None


def _begin(conn: sqlite3.Connection, statement: str) -> None:
    """Start a transaction, waiting for the write lock at most the busy timeout.

    SQLite's busy handler does the waiting; a lock refused at once (it happens
    in WAL mode) is retried until the same deadline.
    """
    deadline = time.monotonic() + busy_timeout_ms() / 1000
    while True:
        try:
            conn.execute(statement)
            return
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or time.monotonic() >= deadline:
                raise database_error(exc) from None
            time.sleep(0.02)
