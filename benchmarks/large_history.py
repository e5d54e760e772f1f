"""Speed and memory of `cs` on big histories and big repositories.

Run: python benchmarks/large_history.py [--sessions 100000] [--calls 1000000]
     [--commits 10000] [--tracked 20000] [--ignored 100000]
     [--writers 8 --per-writer 500]

Prints a table:
- `cs stats` (plain and with breakdowns) and `cs export` (sessions and calls, CSV)
  over a generated database: median wall time and the command's peak memory;
- `cs end` on a repository with N commits since the session started;
- `cs end` on the B23 fixture (tracked files in 200 folders, an ignored
  node_modules, a submodule, stale stat info, someone else's index.lock), and
  whether `.git/index` stayed byte-identical;
- 8 processes logging 500 calls each into one session at once: wall time, calls
  stored, and whether the session total is exact.
"""

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from dashboard_pages import fill  # the same generated history

CS = [sys.executable, "-m", "cs_core"]
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip
# Report a child's own peak memory: run it under a tiny wrapper that prints
# RUSAGE_CHILDREN's maxrss (KiB on Linux) once the child has exited.
PEAK = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measure(argv: list[str], env: dict, cwd: Path, runs: int) -> tuple[float, float]:
    """Median wall ms and peak RSS MiB of a command over `runs` runs."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PEAK, *argv], env=env, cwd=cwd,
                             capture_output=True, text=True, check=True)  # fmt: skip
        walls.append((time.perf_counter() - start) * 1000)
        code, peak_kib = out.stdout.split()
        assert code == "0", f"{argv} failed"
        peaks.append(int(peak_kib) / 1024)
    return statistics.median(walls), max(peaks)


def git(repo: Path, *args: str, env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                          capture_output=True, **kw)  # fmt: skip


def history_rows(root: Path, env: dict, args: argparse.Namespace) -> list[tuple]:
    db = root / "home" / "sessions.db"
    db.parent.mkdir(parents=True)
    started = time.perf_counter()
    fill(db, args.sessions, args.calls)
    print(f"generated {args.sessions:,} sessions and {args.calls:,} calls "
          f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    rows = []
    for label, argv in (
        ("cs stats --json", ["stats", "--json"]),
        ("cs stats --by day --json", ["stats", "--by", "day", "--json"]),
        ("cs stats --by model --json", ["stats", "--by", "model", "--json"]),
        ("cs stats --today --json", ["stats", "--today", "--json"]),
        ("cs export --format csv", ["export", "--format", "csv"]),
        ("cs export --format csv --calls", ["export", "--format", "csv", "--calls"]),
    ):
        runs = 1 if "export" in label else args.runs
        rows.append(
            (f"{label} ({args.calls:,} calls)", *measure(CS + argv, env, root, runs))
        )
    return rows


def commits_row(root: Path, env: dict, count: int) -> tuple:
    repo = root / "many-commits"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "commit", "-q", "--allow-empty", "-m", "root", env=env)
    subprocess.run([*CS, "start", "many", "--json"], cwd=repo, env=env, check=True,
                   capture_output=True)  # fmt: skip
    stream = []
    for n in range(count):
        stream.append(f"commit refs/heads/main\nmark :{n + 1}\n"
                      f"committer b <b@b> {1700000000 + n} +0000\n"
                      f"data 9\ncommit {n % 9}\n"
                      + ("from refs/heads/main^0\n" if n == 0 else "")
                      + f"M 644 inline f{n % 500}.txt\n"
                      f"data 6\nline{n % 9}\n\n")  # fmt: skip
    git(repo, "fast-import", "--quiet", env=env, input="".join(stream).encode())
    git(repo, "reset", "-q", "--hard", "main", env=env)
    wall, peak = measure([*CS, "end", "--json"], env, repo, 1)
    return (f"cs end, {count:,} commits since start", wall, peak)


def b23_row(root: Path, env: dict, tracked: int, ignored: int) -> tuple:
    repo = root / "b23"
    lib = root / "lib"
    for folder in (repo, lib):
        folder.mkdir()
        git(folder, "init", "-q", "-b", "main", env=env)
    (lib / "x.txt").write_text("lib\n")
    git(lib, "add", ".", env=env)
    git(lib, "commit", "-qm", "lib", env=env)
    per_dir = max(tracked // 200, 1)
    for d in range(200):
        folder = repo / f"dir{d:03d}"
        folder.mkdir()
        for f in range(per_dir):
            (folder / f"file{d * per_dir + f:04d}.txt").write_text(f"{d} {f}\n")
    modules = repo / "node_modules"
    for n in range(ignored):
        sub = modules / f"pkg{n // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"m{n}.js").write_text("x")
    (repo / ".gitignore").write_text("node_modules/\n")
    git(repo, "add", ".", env=env)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib),
        "vendor/lib", env=env)  # fmt: skip
    git(repo, "commit", "-qm", "fixture", env=env)
    subprocess.run([*CS, "start", "b23", "--json"], cwd=repo, env=env, check=True,
                   capture_output=True)  # fmt: skip
    first, second = (
        sorted((repo / "dir001").iterdir())[0],
        sorted((repo / "dir002").iterdir())[0],
    )
    first.write_text(first.read_text() + "change\n")
    second.write_text(second.read_text() + "change\n")
    (repo / "notes.txt").write_text("new\n")
    git(repo, "add", str(first.relative_to(repo)), env=env)
    git(repo, "commit", "-qm", "one", env=env)
    for path in repo.glob("dir1*/file*.txt"):
        os.utime(path)
    index = repo / ".git" / "index"
    before = hashlib.sha1(index.read_bytes()).hexdigest()
    (repo / ".git" / "index.lock").write_text("")
    started = time.perf_counter()
    done = subprocess.run([*CS, "end", "--json"], cwd=repo, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    wall = (time.perf_counter() - started) * 1000
    import json

    result = json.loads(done.stdout)
    same = hashlib.sha1(index.read_bytes()).hexdigest() == before
    lock = (repo / ".git" / "index.lock").exists()
    files = sorted(f["filePath"] for f in result["files"])
    label = (f"cs end, B23 ({tracked:,} tracked, {ignored:,} ignored): "
             f"{len(result['commits'])} commit, {files}, index unchanged={same}, "
             f"lock kept={lock}")  # fmt: skip
    return (label, wall, float("nan"))


def writers_row(root: Path, env: dict, writers: int, per_writer: int) -> tuple:
    repo = root / "writers"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", env=env)
    subprocess.run([*CS, "start", "writers", "--json"], cwd=repo, env=env, check=True,
                   capture_output=True)  # fmt: skip
    script = (
        "import sys\nfrom cs_core.cli import run\n"
        f"for n in range({per_writer}):\n"
        "    assert run(['log-ai', '-p', 'anthropic', '-m', 'claude-haiku-4-5',"
        " '--prompt-tokens', '1000', '--completion-tokens', '100', '--json',"
        " '--agent', f'w{sys.argv[1]}']) == 0\n"
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        codes = list(pool.map(
            lambda w: subprocess.run([sys.executable, "-c", script, str(w)], cwd=repo,
                                     env=env, capture_output=True).returncode,
            range(writers)))  # fmt: skip
    wall = (time.perf_counter() - started) * 1000
    import sqlite3

    conn = sqlite3.connect(root / "home" / "sessions.db")
    count, total = conn.execute(
        "SELECT COUNT(*), ROUND(SUM(cost), 10) FROM ai_usage u JOIN sessions s"
        " ON s.id = u.session_id WHERE s.name = 'writers'").fetchone()  # fmt: skip
    expected = round(writers * per_writer * 0.0015, 10)
    label = (f"{writers} writers x {per_writer} log-ai: exit codes {set(codes)}, "
             f"{count} stored, total ${total} (expected ${expected})")  # fmt: skip
    return (label, wall, float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--tracked", type=int, default=20_000)
    parser.add_argument("--ignored", type=int, default=100_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["history", "commits", "b23", "writers"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cs-large-"))
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**base, **GIT_ENV, "CODESESSION_HOME": str(root / "home"),
           "CS_LOAD_PLUGINS":
               "anthropic,openai,google,mistral,deepseek,git,json,csv"}  # fmt: skip
    steps = {
        "history": lambda: history_rows(root, env, args),
        "commits": lambda: [commits_row(root, env, args.commits)],
        "b23": lambda: [b23_row(root, env, args.tracked, args.ignored)],
        "writers": lambda: [writers_row(root, env, args.writers, args.per_writer)],
    }
    try:
        rows = [row for name, step in steps.items() if args.only in (None, name)
                for row in step()]  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'measurement':<70} {'wall ms':>9} {'peak MiB':>9}")
    for label, wall, peak in rows:
        print(f"{label:<70} {wall:>9.0f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
