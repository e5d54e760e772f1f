"""How fast `cs import claude-code` reads a large history, and how much memory it takes.

Run: python benchmarks/import_logs.py [--size-mib 1024] [--files 3000] [--keep]

It writes realistic Claude Code transcripts into a temporary folder: about 3,000
sessions, a few of them very large, with streamed copies of each assistant message,
tool results, file-history snapshots and subagent files. Then it measures, each in
a fresh `cs` process:

- a cold import (goal: under 20 s for 1 GiB);
- a re-import with nothing new, median of five (goal: under 300 ms, Python's
  start included);
- the peak resident memory of the cold import (goal: under 200 MB), from
  `/usr/bin/time -v` when present, else from `resource.RUSAGE_CHILDREN`.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5")
SENTENCE = (
    "the function returns a list of files that changed since the last commit and "
    "we need to handle the case where the path is a symlink or the repository has "
    "no commits yet so the scan falls back to the working tree"
)
WORDS = re.findall(r"\w+", SENTENCE)


def filler(rng: random.Random, size: int) -> str:
    """Plain text of about `size` characters."""
    words = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


class Writer:
    """Writes one session's lines the way Claude Code does."""

    def __init__(self, rng: random.Random, session: str, cwd: str) -> None:
        self.rng = rng
        self.session = session
        self.cwd = cwd
        self.clock = 1_767_225_600.0 + rng.random() * 10_000_000
        self.turn = 0
        self.texts = [filler(rng, n) for n in (300, 1200, 4000, 12000)]
        self.last_answer: dict = {}

    def stamp(self) -> str:
        self.clock += self.rng.random() * 20
        moment = time.gmtime(self.clock)
        millis = int((self.clock % 1) * 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{millis:03d}Z"

    def base(self, kind: str, side: bool, agent: str | None) -> dict:
        record = {
            "parentUuid": f"u-{self.turn - 1}",
            "isSidechain": side,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session,
            "version": "2.1.47",
            "gitBranch": "main",
            "type": kind,
            "uuid": f"u-{self.turn}",
            "timestamp": self.stamp(),
        }
        if agent:
            record["agentId"] = agent
        return record

    def turn_lines(self, side: bool = False, agent: str | None = None) -> list[str]:
        """One request: a tool result, then 1-3 streamed copies of the answer."""
        self.turn += 1
        rng = self.rng
        user = self.base("user", side, agent)
        user["message"] = {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": f"toolu_{self.turn}",
                    "content": rng.choice(self.texts[:3]),
                }
            ],
        }
        lines = [json.dumps(user)]
        message_id = f"msg_01{self.session[:8]}{agent or ''}{self.turn:06d}"
        usage = {
            "input_tokens": rng.randint(1, 50),
            "cache_creation_input_tokens": rng.randint(0, 5000),
            "cache_read_input_tokens": rng.randint(1000, 150000),
            "cache_creation": {"ephemeral_5m_input_tokens": 0},
            "output_tokens": rng.randint(20, 2000),
            "service_tier": "standard",
        }
        usage["cache_creation"]["ephemeral_1h_input_tokens"] = usage[
            "cache_creation_input_tokens"
        ]
        model = rng.choice(MODELS)
        for copy in range(rng.randint(1, 3)):
            line = self.base("assistant", side, agent)
            line["requestId"] = f"req_{message_id[4:]}"
            text = rng.choice(self.texts[:3])
            line["message"] = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": None if copy == 0 else "tool_use",
                "stop_sequence": None,
                "usage": dict(
                    usage, output_tokens=1 if copy == 0 else usage["output_tokens"]
                ),
            }
            lines.append(json.dumps(line))
            self.last_answer = line
        if rng.random() < 0.05:
            snapshot = {
                "type": "file-history-snapshot",
                "messageId": f"u-{self.turn}",
                "snapshot": {"trackedFileBackups": {"a.py": self.texts[3]}},
            }
            lines.append(json.dumps(snapshot))
        return lines


def write_session(folder: Path, rng: random.Random, index: int, size: int) -> int:
    """Write one session (and sometimes a subagent file) of about `size` bytes."""
    session = (
        f"{index:08x}-{rng.getrandbits(16):04x}-4000-8000-{rng.getrandbits(48):012x}"
    )
    project = folder / f"-home-dev-src-project{index % 40}"
    project.mkdir(parents=True, exist_ok=True)
    writer = Writer(rng, session, f"/home/dev/src/project{index % 40}")
    written = 0
    main = project / f"{session}.jsonl"
    with main.open("w", encoding="utf-8") as handle:
        while written < size:
            text = "\n".join(writer.turn_lines()) + "\n"
            handle.write(text)
            written += len(text)
    if rng.random() < 0.1:
        sub = project / session / "subagents"
        sub.mkdir(parents=True)
        agent = f"a{rng.getrandbits(24):06x}"
        with (sub / f"agent-{agent}.jsonl").open("w", encoding="utf-8") as handle:
            # A subagent's file starts by replaying its parent's last message.
            replay = dict(writer.last_answer, isSidechain=True, agentId=agent)
            handle.write(json.dumps(dict(replay, requestId="req_replay")) + "\n")
            for _ in range(5):
                text = "\n".join(writer.turn_lines(True, agent)) + "\n"
                handle.write(text)
                written += len(text)
    return written


def generate(
    folder: Path, total_bytes: int, files: int, seed: int = 7
) -> tuple[int, int]:
    """Write about `total_bytes` of transcripts in about `files` sessions."""
    rng = random.Random(seed)
    large = [total_bytes // 10] * 3  # three sessions of a tenth of the total each
    rest = (total_bytes - sum(large)) // max(files - len(large), 1)
    sizes = large + [int(rest * rng.uniform(0.3, 1.7)) for _ in range(files - 3)]
    written = sum(write_session(folder, rng, i, size) for i, size in enumerate(sizes))
    return written, sum(1 for _ in folder.rglob("*.jsonl"))


def run_cs(args: list[str], env: dict[str, str]) -> tuple[float, int, float, dict]:
    """Run `cs` in a fresh process.

    Returns:
        Wall seconds, peak RSS in KiB, CPU seconds (user + system: unlike wall
        time, not inflated by other processes on the machine), and its JSON.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = [sys.executable, "-m", "cs_core", *args]
    timed = Path("/usr/bin/time")
    if timed.exists():
        argv = [str(timed), "-v", *argv]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rss = int(peak.group(1)) if peak else after.ru_maxrss
    return elapsed, rss, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cs-import-bench-"))
    env = {
        **os.environ,
        "CODESESSION_HOME": str(root / "home"),
        "CS_LOAD_PLUGINS": "anthropic,git,agentlogs",
    }
    try:
        logs = root / "projects"
        started = time.perf_counter()
        written, count = generate(logs, options.size_mib * MIB, options.files)
        print(f"generated {written / MIB:,.0f} MiB in {count:,} files "
              f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
        args = ["import", "claude-code", "--path", str(logs), "--json"]
        cold, rss, cpu, report = run_cs(args, env)
        print(f"cold import:   {cold:6.2f} s  (CPU {cpu:.2f} s)  "
              f"peak RSS {rss / 1024:,.0f} MB  "
              f"{report['calls']['imported']:,} calls, "
              f"{report['calls']['duplicates']:,} duplicates dropped")  # fmt: skip
        runs = [run_cs(args, env) for _ in range(5)]
        warm = sorted(run[0] for run in runs)[len(runs) // 2]
        warm_cpu = sorted(run[2] for run in runs)[len(runs) // 2]
        again = runs[-1][3]
        print(f"re-import:     {warm * 1000:6.0f} ms  (CPU {warm_cpu * 1000:.0f} ms; "
              f"median of {len(runs)}, first {runs[0][0] * 1000:.0f} ms)  peak RSS "
              f"{max(run[1] for run in runs) / 1024:,.0f} MB  "
              f"{again['files']['unchanged']:,} files unchanged, "
              f"{again['calls']['imported']} calls")  # fmt: skip
    finally:
        if options.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
