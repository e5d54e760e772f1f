"""Case B23: a big repository with an ignored node_modules, a submodule, stale stat
information and someone else's index.lock. `cs end` reports exactly the real
changes, never rewrites `.git/index`, and never puts paths into argv in bulk.
(The full-size fixture is timed in benchmarks/large_history.py.)"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git

TRACKED_PER_DIR = 10  # 200 folders x 10 = 2,000 tracked files
IGNORED = 5_000


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture
def logged_git(tmp_path: Path) -> tuple[Path, Path]:
    """A `git` on PATH that records the length of every command line it gets."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "git-argv.log"
    real = shutil.which("git")
    shim = bin_dir / "git"
    shim.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$(printf "%s " "$@" | wc -c)" >> "{log}"\n'
        f'exec "{real}" "$@"\n'
    )
    shim.chmod(0o755)
    return bin_dir, log


@pytest.fixture
def big_repo(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    (lib / "x.txt").write_text("lib\n")
    git(lib, "add", ".")
    git(lib, "commit", "-qm", "lib")
    repo = tmp_path / "b23"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for d in range(200):
        folder = repo / f"dir{d:03d}"
        folder.mkdir()
        for f in range(TRACKED_PER_DIR):
            (folder / f"file{d * TRACKED_PER_DIR + f:04d}.txt").write_text(f"{d}/{f}\n")
    for n in range(IGNORED):
        pkg = repo / "node_modules" / f"pkg{n // 500:02d}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"m{n}.js").write_text("x")
    (repo / ".gitignore").write_text("node_modules/\n")
    git(repo, "add", ".")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib),
        "vendor/lib")  # fmt: skip
    git(repo, "commit", "-qm", "fixture")
    return repo.resolve()


def cs(repo: Path, *argv: str, path_prefix: Path | None = None) -> dict:
    env = dict(os.environ)
    if path_prefix:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    done = subprocess.run([sys.executable, "-m", "cs_core", *argv], cwd=repo, env=env,
                          capture_output=True, check=True, timeout=120)  # fmt: skip
    return json.loads(done.stdout)


def test_b23_big_repository(big_repo: Path, logged_git) -> None:
    bin_dir, argv_log = logged_git
    cs(big_repo, "start", "b23", "--json")
    first = big_repo / "dir001" / "file0010.txt"
    second = big_repo / "dir002" / "file0020.txt"
    first.write_text(first.read_text() + "change\n")
    second.write_text(second.read_text() + "change\n")
    (big_repo / "notes.txt").write_text("new\n")
    (big_repo / "node_modules" / "pkg00" / "late.js").write_text("ignored\n")
    git(big_repo, "add", "dir001/file0010.txt")
    git(big_repo, "commit", "-qm", "one")
    for path in big_repo.glob("dir1*/file*.txt"):
        os.utime(path)  # stale stat information, content unchanged
    index = big_repo / ".git" / "index"
    before = sha1(index)
    (big_repo / ".git" / "index.lock").write_text("")

    ended = cs(big_repo, "end", "--json", path_prefix=bin_dir)

    assert [c["message"] for c in ended["commits"]] == ["one"]
    assert sorted((f["filePath"], f["changeType"]) for f in ended["files"]) == [
        ("dir001/file0010.txt", "modified"),
        ("dir002/file0020.txt", "modified"),
        ("notes.txt", "created"),
    ]
    assert ended["filesChanged"] == 3
    assert sha1(index) == before
    assert (big_repo / ".git" / "index.lock").exists()
    lengths = [int(line) for line in argv_log.read_text().split()]
    assert lengths and max(lengths) < 4096


def test_b23_submodule_bump_is_one_path(big_repo: Path, tmp_path: Path) -> None:
    cs(big_repo, "start", "bump", "--json")
    sub = big_repo / "vendor" / "lib"
    (sub / "y.txt").write_text("more\n")
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "lib 2")
    git(big_repo, "add", "vendor/lib")
    git(big_repo, "commit", "-qm", "bump lib")

    ended = cs(big_repo, "end", "--json")

    assert [(f["filePath"], f["changeType"]) for f in ended["files"]] == [
        ("vendor/lib", "modified")
    ]
