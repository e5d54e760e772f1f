"""What the OpenTelemetry exporter adds to `cs log-ai --json`.

Runs `python -m cs_core log-ai ... --json` as a subprocess N times per scenario, each
scenario in its own fresh data folder and git repository, one run of every scenario
per round so that other load on the machine affects them alike, and prints the
median wall time:

- disabled: the export was never enabled (the baseline);
- enabled, live collector: an OTLP/HTTP receiver on 127.0.0.1 accepts everything;
- enabled, dead endpoint, retry due: nothing listens on the port and every run
  tries again (the back-off is reset before each run), the worst case;
- enabled, dead endpoint, backing off: the same, as it really runs: after one
  failure, commands skip the collector until the back-off has passed;
- enabled, silent endpoint: a socket that accepts connections and never answers,
  so only the time budget (CODESESSION_EVENTS_TIMEOUT, default 1.5 s) ends it.

Usage: python benchmarks/otel_overhead.py [--runs 15] [--json]
"""

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOG_AI = [
    "log-ai", "-p", "anthropic", "-m", "claude-sonnet-4-5",
    "--prompt-tokens", "1200", "--completion-tokens", "300", "--json",
]  # fmt: skip


class Accept(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cs(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cs_core", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"cs {' '.join(argv)} failed: {done.stdout}{done.stderr}")
    return elapsed


def workspace(root: Path, name: str, endpoint: str | None) -> tuple[dict, Path]:
    home, repo = root / name / "home", root / name / "repo"
    repo.mkdir(parents=True)
    env = {
        **os.environ,
        "CODESESSION_HOME": str(home),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.test",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.test",
    }
    env.pop("CS_LOAD_PLUGINS", None)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "init"],
        cwd=repo,
        check=True,
        env=env,
    )
    if endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        cs(["otel", "enable", "--json"], env, repo)
    cs(["start", "bench", "--json"], env, repo)
    return env, repo


def reset_back_off(env: dict) -> None:
    with sqlite3.connect(Path(env["CODESESSION_HOME"]) / "sessions.db") as conn:
        conn.execute("UPDATE event_consumers SET retry_at = NULL")


def measure(setups: list[tuple], runs: int) -> list[list[float]]:
    """Time every scenario once per round, so load on the machine hits all alike."""
    for env, repo, _ in setups:
        cs(LOG_AI, env, repo)  # warm the entry-point cache and the page cache
    times: list[list[float]] = [[] for _ in setups]
    for _ in range(runs):
        for index, (env, repo, before) in enumerate(setups):
            if before:
                before(env)
            times[index].append(cs(LOG_AI, env, repo))
    return times


def pending(env: dict) -> int:
    with sqlite3.connect(Path(env["CODESESSION_HOME"]) / "sessions.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM event_outbox").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    live = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    threading.Thread(target=live.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    dead = f"http://127.0.0.1:{free_port()}"
    quiet = f"http://127.0.0.1:{silent.getsockname()[1]}"
    scenarios = [
        ("disabled", None, None),
        ("enabled, live collector", f"http://127.0.0.1:{live.server_port}", None),
        ("enabled, dead endpoint, retry due", dead, reset_back_off),
        ("enabled, dead endpoint, backing off", dead, None),
        ("enabled, silent endpoint, retry due", quiet, reset_back_off),
    ]  # fmt: skip

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        setups = []
        for index, (_, endpoint, before) in enumerate(scenarios):
            env, repo = workspace(Path(tmp), f"s{index}", endpoint)
            setups.append((env, repo, before))
        timed = measure(setups, args.runs)
        for (name, _, _), times, (env, _, _) in zip(
            scenarios, timed, setups, strict=True
        ):
            results.append(
                {
                    "scenario": name,
                    "runs": args.runs,
                    "median_ms": round(statistics.median(times) * 1000, 1),
                    "min_ms": round(min(times) * 1000, 1),
                    "max_ms": round(max(times) * 1000, 1),
                    "outbox_after": pending(env),
                }
            )
    live.shutdown()
    silent.close()

    baseline = results[0]["median_ms"]
    for row in results:
        row["added_ms"] = round(row["median_ms"] - baseline, 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"cs log-ai --json, median of {args.runs} subprocess runs per scenario")
    print(f"{'scenario':40} {'median':>9} {'added':>9} {'min':>8} {'max':>8} outbox")
    for row in results:
        print(
            f"{row['scenario']:40} {row['median_ms']:7.1f}ms {row['added_ms']:+7.1f}ms"
            f" {row['min_ms']:6.1f}ms {row['max_ms']:6.1f}ms {row['outbox_after']:6}"
        )


if __name__ == "__main__":
    main()
