"""Median wall time of the commands agents run most, next to the floor that
Python and the design's own libraries set.

Run: python benchmarks/cli_latency.py [--runs 30]

It works in a throw-away data folder and git repository and prints a table. With
hyperfine installed, it also prints hyperfine's figures for `cs log-ai --json`.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
FLOOR = "floor: import cyclopts, pluggy, sqlite3"
LOG_AI = ["log-ai", "-p", "anthropic", "-m", "claude-sonnet-4", "--prompt-tokens",
          "8000", "--completion-tokens", "2000", "--json"]  # fmt: skip


def once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run `argv` once; return its wall time and CPU time in milliseconds.

    CPU time (user + system of the child) is steadier than wall time on a busy
    machine, so the table shows both.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def interleaved(
    commands: dict[str, list[str]], cwd: Path, env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """Medians of each command, run round-robin so machine load hits all alike."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(once(argv, cwd, env))
    return {
        name: (
            statistics.median(wall for wall, _ in values),
            statistics.median(cpu for _, cpu in values),
        )
        for name, values in samples.items()
    }


def cs(*args: str) -> list[str]:
    return [str(Path(PY).with_name("cs")), *args]


def make_repo(root: Path, env: dict[str, str]) -> Path:
    repo = root / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["commit", "-q", "--allow-empty", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    return repo


def measure(runs: int) -> list[tuple[str, float]]:
    root = Path(tempfile.mkdtemp(prefix="cs-bench-"))
    # Installed packages have compiled bytecode; measure that, not recompiling.
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**base, "CODESESSION_HOME": str(root / "home"),
           "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
    try:
        repo = make_repo(root, env)
        subprocess.run(cs("start", "bench", "--json"), cwd=repo, env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        medians = interleaved(
            {
                "python -c pass": [PY, "-c", "pass"],
                FLOOR: [PY, "-c", "import cyclopts, pluggy, sqlite3"],
                "cs --version": cs("--version"),
                "cs log-ai --json": cs(*LOG_AI),
                "cs status --json": cs("status", "--json"),
            },
            repo, env, runs,
        )  # fmt: skip
        rows = list(medians.items())
        rows.extend(_start_end(repo, env, runs))
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start_end(repo: Path, env: dict[str, str], runs: int) -> list[tuple[str, tuple]]:
    subprocess.run(cs("end", "--json"), cwd=repo, env=env, stdout=subprocess.DEVNULL)
    starts, ends = [], []
    for _ in range(max(runs // 2, 5)):
        starts.append(once(cs("start", "b", "--json"), repo, env))
        ends.append(once(cs("end", "--json"), repo, env))
    return [
        (name, (statistics.median(w for w, _ in s), statistics.median(c for _, c in s)))
        for name, s in (("cs start --json", starts), ("cs end --json", ends))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rows = dict(measure(args.runs))
    floor_wall, floor_cpu = rows[FLOOR]
    print(f"{'command':<42} {'wall ms':>8} {'x floor':>8} {'cpu ms':>8} {'x floor':>8}")
    for name, (wall, cpu) in rows.items():
        print(
            f"{name:<42} {wall:>8.1f} {wall / floor_wall:>8.2f}"
            f" {cpu:>8.1f} {cpu / floor_cpu:>8.2f}"
        )
    if shutil.which("hyperfine"):
        print("\nhyperfine is installed; for its statistics run:")
        print(f"  hyperfine -N --warmup 3 '{' '.join(cs(*LOG_AI))}'")


if __name__ == "__main__":
    main()
