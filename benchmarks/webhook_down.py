"""How long an alert to a webhook whose host is down delays `cs log-ai`.

Each run uses a fresh data folder with a $0.01 per-session limit, so the one
measured `cs log-ai --json` crosses it and fires one alert. Cases:

- no sink: the baseline;
- refused: a webhook on a closed port of 127.0.0.1 (connection refused);
- silent: a webhook on a 127.0.0.1 socket that accepts and never answers, with
  `--timeout` 1 and 3 (the timeout bounds all attempts together).

Then the sink's own `send` is timed in process, which is steadier than whole
commands on a busy machine.

The command's exit code and JSON must not change. Run:
`python benchmarks/webhook_down.py [RUNS]`.
"""

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cs(home: Path, cwd: Path, *argv: str) -> tuple[float, subprocess.CompletedProcess]:
    env = {
        **os.environ,
        "CODESESSION_HOME": str(home),
        "CODESESSION_TZ": "UTC",
        "CODESESSION_NOW": "2025-07-01T10:00:00.000Z",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cs_core", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_run(sink: list[str] | None) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        work.mkdir()
        cs(home, work, "start", "bench", "--json")
        cs(home, work, "budget", "set", "--per-session", "0.01", "--json")
        if sink:
            cs(home, work, "alerts", "add", *sink, "--json")
        elapsed, done = cs(
            home, work, "log-ai", "-p", "openai", "-m", "gpt-4o", "-c", "0.02",
            "--prompt-tokens", "1", "--completion-tokens", "1", "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        document = json.loads(done.stdout)
        return elapsed, {"warnings": document["warnings"], "logged": document["logged"]}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    cases = {
        "no sink": None,
        "refused (timeout 3 s)": ["webhook", f"http://127.0.0.1:{closed_port()}/"],
        "silent (timeout 1 s)": ["webhook", silent_url, "--timeout", "1"],
        "silent (timeout 3 s)": ["webhook", silent_url, "--timeout", "3"],
    }
    baseline = None
    print(f"cs log-ai --json firing one alert, median of {runs} runs")
    for name, sink in cases.items():
        times, results = zip(*(one_run(sink) for _ in range(runs)), strict=True)
        same = all(result == results[0] for result in results)
        baseline = baseline or results[0]
        unchanged = same and results[0] == baseline
        print(
            f"{name:24} median {statistics.median(times) * 1000:7.0f} ms"
            f"  max {max(times) * 1000:7.0f} ms  result unchanged: {unchanged}"
        )
    print("WebhookSink.send alone, in process (httpx already imported)")
    from cs_alerts.webhook import WebhookSink

    for name, url, timeout in (
        ("refused", f"http://127.0.0.1:{closed_port()}/", 3.0),
        ("silent", silent_url, 1.0),
    ):
        times = [send_time(WebhookSink(), url, timeout) for _ in range(runs)]
        median_ms, max_ms = statistics.median(times) * 1000, max(times) * 1000
        label = f"{name} (timeout {timeout:g} s)"
        print(f"{label:24} median {median_ms:7.0f} ms  max {max_ms:7.0f} ms")
    silent.close()


def send_time(sink, url: str, timeout: float) -> float:
    started = time.perf_counter()
    with contextlib.suppress(RuntimeError):
        sink.send({"id": 1}, {"target": url, "timeout": timeout})
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
