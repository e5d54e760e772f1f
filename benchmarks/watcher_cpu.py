"""Measure what the live watcher of `cs start` costs on a large tree.

Builds a git repository of 50,000 files (by default 30,000 committed source files
and 20,000 under an ignored `node_modules/`), runs the real `cs start` in a
subprocess with its output piped, and reads the CPU time of the process and of
the git commands it ran from /proc/PID/stat (Linux only) while it:

1. starts and takes its baseline (until it prints "Watcher: watching");
2. sits idle for `--idle` seconds;
3. sees a burst: 1,000 ignored files and 100 source files rewritten;
4. ends on SIGINT (with the end-of-session git scan).

Usage: python benchmarks/watcher_cpu.py [--files 50000] [--idle 20] [--per-dir 100]
"""

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def build_tree(root: Path, total: int, per_dir: int) -> tuple[int, int]:
    """Write `total` small files, 40 % under node_modules; return (files, dirs)."""
    ignored = total * 2 // 5
    dirs = 0
    for index in range(total):
        base = "node_modules/pkg" if index < ignored else "src/pkg"
        folder = root / f"{base}{index // per_dir:05d}"
        if index % per_dir == 0:
            folder.mkdir(parents=True)
            dirs += 1
        (folder / f"file{index % per_dir:03d}.js").write_text(f"// {index}\n")
    (root / ".gitignore").write_text("node_modules/\n")
    return total, dirs


def cpu_seconds(pid: int) -> float:
    """CPU time of a process (all threads) and its finished children (git)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from 1.
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_for(check, timeout: float, what: str) -> float:
    """Poll `check` until true; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def file_rows(home: Path) -> int:
    conn = sqlite3.connect(home / "sessions.db")
    try:
        return conn.execute("SELECT COUNT(*) FROM file_changes").fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--per-dir", type=int, default=100, help="files per folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cs-watch-bench-") as tmp:
        root, home = Path(tmp) / "repo", Path(tmp) / "home"
        root.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        built = time.monotonic()
        files, dirs = build_tree(root, args.files, args.per_dir)
        # Tracked files, so the final `git status` compares 30,000 index entries.
        subprocess.run(["git", "add", "."], cwd=root, check=True)
        subprocess.run(
            ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.test",
             "commit", "-q", "-m", "tree"],
            cwd=root, check=True,
        )  # fmt: skip
        print(f"tree: {files:,} files in {dirs:,} folders "
              f"(built in {time.monotonic() - built:.1f} s)")  # fmt: skip

        env = {**os.environ, "CODESESSION_HOME": str(home)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "cs_core", "start", "bench"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.extend(raw.decode() for raw in proc.stdout),
            daemon=True,
        )
        reader.start()

        ready_s = wait_for(lambda: any("Watcher: watching" in x for x in lines),
                           120, "the watcher")  # fmt: skip
        ready_cpu = cpu_seconds(proc.pid)
        print(f"start to ready: {ready_s:.2f} s wall, {ready_cpu:.2f} s CPU, "
              f"RSS {rss_mb(proc.pid):.0f} MB")  # fmt: skip

        time.sleep(args.idle)
        idle_cpu = cpu_seconds(proc.pid) - ready_cpu
        print(f"idle {args.idle:.0f} s: {idle_cpu:.3f} s CPU = "
              f"{100 * idle_cpu / args.idle:.2f} % of one core")  # fmt: skip

        before = cpu_seconds(proc.pid)
        burst = time.monotonic()
        for index in range(1_000):
            folder = root / f"node_modules/pkg{index // args.per_dir:05d}"
            (folder / f"file{index % args.per_dir:03d}.js").write_text("changed\n")
        source = sorted((root / "src").glob("pkg*/file*.js"))[:100]
        for path in source:
            path.write_text("changed\n")
        seen_s = wait_for(lambda: file_rows(home) == len(source), 60, "the burst")
        written_s = time.monotonic() - burst - seen_s
        time.sleep(1.0)  # let a late, wrong extra row show up if there is one
        print(f"burst of 1,000 ignored + {len(source)} source writes "
              f"({written_s:.2f} s to write): {file_rows(home)} rows recorded "
              f"{seen_s:.2f} s after the last write, "
              f"{cpu_seconds(proc.pid) - before:.2f} s CPU")  # fmt: skip

        ending = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
        reader.join(5)
        proc.stderr.close()
        proc.stdout.close()
        print(f"SIGINT to exit (end-of-session git scan included): "
              f"{time.monotonic() - ending:.2f} s, exit code {code}")  # fmt: skip


if __name__ == "__main__":
    main()
