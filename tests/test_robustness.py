"""Damaged surroundings: corrupt, locked, read-only or full storage, bad config.

Each gives a clear error with its code and leaves existing data untouched.
"""

import gc
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

CALL = ["log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "10",
        "--completion-tokens", "5", "--json"]  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def active(git_repo: Path, run_cs) -> Path:
    assert run_cs("start", "robust", "--json", cwd=git_repo).exit_code == 0
    assert run_cs(*CALL, cwd=git_repo).exit_code == 0
    return git_repo


def test_corrupt_database_is_a_database_error(git_repo, run_cs, cs_home) -> None:
    cs_home.mkdir()
    db = cs_home / "sessions.db"
    db.write_bytes(b"this is not a database at all" * 100)
    before = digest(db)

    result = run_cs("status", "--json", cwd=git_repo)

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "database_error"
    assert "corrupt or not a SQLite file" in result.json["error"]["message"]
    assert digest(db) == before


def test_corrupt_database_without_json_is_one_line(git_repo, run_cs, cs_home) -> None:
    cs_home.mkdir()
    (cs_home / "sessions.db").write_bytes(b"\x00garbage" * 512)

    result = run_cs("stats", cwd=git_repo)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: database")
    assert "Traceback" not in result.stderr


def _hold_lock(db: Path, ready: threading.Event, release: threading.Event) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    release.wait(30)
    conn.execute("ROLLBACK")
    conn.close()


def test_database_locked_beyond_the_timeout(
    active, run_cs, cs_home, monkeypatch
) -> None:
    monkeypatch.setenv("CODESESSION_BUSY_TIMEOUT_MS", "100")
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_lock, args=(cs_home / "sessions.db", ready, release)
    )
    holder.start()
    ready.wait(10)
    try:
        result = run_cs(*CALL, cwd=active)
    finally:
        release.set()
        holder.join()

    assert result.json["error"]["code"] == "database_error"
    assert "locked" in result.json["error"]["message"]
    assert len(run_cs("status", "--json", cwd=active).json["aiUsage"]) == 1


def test_corrupt_pricing_json_is_a_config_error(active, run_cs, cs_home) -> None:
    (cs_home / "pricing.json").write_text("{not json", encoding="utf-8")

    result = run_cs(*CALL, cwd=active)

    assert result.json["error"]["code"] == "config_error"
    assert "pricing.json is not valid JSON" in result.json["error"]["message"]
    assert len(run_cs("status", "--json", cwd=active).json["aiUsage"]) == 1


def test_pricing_reset_repairs_a_corrupt_pricing_json(run_cs, cs_home) -> None:
    cs_home.mkdir()
    (cs_home / "pricing.json").write_text("[1, 2", encoding="utf-8")

    result = run_cs("pricing", "reset", "--json")

    assert result.exit_code == 0
    assert not (cs_home / "pricing.json").exists()


def test_data_folder_and_files_are_private(active, cs_home) -> None:
    assert stat.S_IMODE(cs_home.stat().st_mode) == 0o700
    assert stat.S_IMODE((cs_home / "sessions.db").stat().st_mode) == 0o600


def test_pricing_json_is_private(run_cs, cs_home) -> None:
    run_cs("pricing", "set", "my-model", "1", "2")

    assert stat.S_IMODE((cs_home / "pricing.json").stat().st_mode) == 0o600


def test_version_and_help_create_nothing(run_cs, cs_home) -> None:
    assert run_cs("--version").stdout.strip() == "3.0.0"
    assert run_cs("--help").exit_code == 0
    assert not cs_home.exists()


@pytest.fixture
def shared_tmp():
    """A folder an unprivileged user can enter (pytest's tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="cs-unpriv-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def as_nobody(argv: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run cs as an unprivileged user (root ignores file modes)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop privileges")
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if subprocess.run([*drop, sys.executable, "-c", "pass"]).returncode != 0:
        pytest.skip("this Python is not reachable by an unprivileged user")
    env = {**os.environ, "CODESESSION_HOME": str(home), "HOME": str(cwd)}
    return subprocess.run(
        [*drop, sys.executable, "-m", "cs_core", *argv],
        cwd=cwd, env=env, capture_output=True, timeout=60,
    )  # fmt: skip


def test_read_only_data_folder_as_unprivileged_user(shared_tmp: Path) -> None:
    home = shared_tmp / "home"
    work = shared_tmp / "work"
    work.mkdir(mode=0o777)
    work.chmod(0o777)
    home.mkdir(mode=0o755)  # owned by root: read-only for nobody

    result = as_nobody(["start", "ro", "--json"], home, work)

    assert result.returncode == 1, result.stdout
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "database_error"
    assert b"Traceback" not in result.stderr


@pytest.fixture
def read_only_home(shared_tmp: Path, git_repo: Path, run_cs, monkeypatch):
    """A data folder with one session and call, then remounted read-only: even
    root cannot write it, so no privileges need dropping."""
    home = shared_tmp / "ro-home"
    home.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(home)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    monkeypatch.setenv("CODESESSION_HOME", str(home))
    run_cs("start", "mine", "--json", cwd=git_repo)
    run_cs(*CALL, cwd=git_repo)
    gc.collect()  # close the in-process commands' connections, or the remount waits
    subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
    yield home
    subprocess.run(["umount", "-l", str(home)], check=False)


def test_read_only_database_keeps_its_rows(read_only_home, git_repo, run_cs) -> None:
    before = digest(read_only_home / "sessions.db")

    logged = run_cs(*CALL, cwd=git_repo)
    noted = run_cs("note", "x", "--json", cwd=git_repo)
    status = run_cs("status", "--json", cwd=git_repo)
    exported = run_cs("export", "--format", "csv", cwd=git_repo)

    assert logged.json["error"]["code"] == "database_error"
    assert noted.json["error"]["code"] == "database_error"
    assert digest(read_only_home / "sessions.db") == before
    # Reading still works from a folder that cannot be written.
    assert status.json.get("aiTokens") == 15, status.stdout
    assert exported.stdout.startswith("id,name,status")


@pytest.fixture
def tiny_disk(shared_tmp: Path):
    mount = shared_tmp / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_is_a_database_error_and_keeps_rows(
    tiny_disk, git_repo, run_cs, monkeypatch
) -> None:
    monkeypatch.setenv("CODESESSION_HOME", str(tiny_disk / "home"))
    run_cs("start", "full", "--json", cwd=git_repo)
    assert run_cs(*CALL, cwd=git_repo).exit_code == 0
    with open(tiny_disk / "filler", "ab", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError:
            pass  # the disk is full: exactly what this test wants

    results = [
        run_cs(*CALL[:-1], "--agent", "x" * 200, "--json", cwd=git_repo)
        for _ in range(80)
    ]

    failed = [r for r in results if r.exit_code != 0]
    assert failed, "the disk never filled up"
    assert {r.json["error"]["code"] for r in failed} == {"database_error"}
    (tiny_disk / "filler").unlink()
    stored = run_cs("status", "--json", cwd=git_repo).json["aiUsage"]
    assert len(stored) == 1 + len(results) - len(failed)
    check = sqlite3.connect(tiny_disk / "home" / "sessions.db")
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_human_output_shows_control_characters_as_escapes(git_repo, run_cs) -> None:
    run_cs("start", "evil\x1b[2Jname [red]x", "--json", cwd=git_repo)
    run_cs(*CALL[:-1], "--agent", "\x1b]0;PWNED\x07", cwd=git_repo)

    shown = (
        run_cs("list", cwd=git_repo).stdout + run_cs("stats", "--by", "agent").stdout
    )

    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]0;PWNED\\x07" in shown
    assert "[red]x" in shown  # markup in a name is text, not a colour
    listed = run_cs("list", "--json", cwd=git_repo).json
    assert listed[0]["name"] == "evil\x1b[2Jname [red]x"  # JSON keeps it intact


def test_export_paths_that_cannot_be_written(tmp_path, run_cs) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()

    to_a_folder = run_cs(
        "export", "--format", "csv", "--output", str(tmp_path), "--json"
    )
    to_nowhere = run_cs("export", "--output", str(tmp_path / "no" / "x.csv"), "--json")
    human = run_cs("export", "--output", str(tmp_path / "no" / "x.csv"))

    assert to_a_folder.json["error"]["code"] == "invalid_input"
    assert to_nowhere.json["error"]["code"] == "invalid_input"
    assert human.stderr.count("\n") == 1  # one line, the hint included
    assert human.stderr.startswith("Error: cannot write ")
