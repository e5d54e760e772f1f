"""Codex session logs: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`.

Codex logs a `token_count` event after each request with the session's running
total. It repeats the event with an unchanged total (when it refreshes rate
limits), and a forked or subagent session begins by replaying its parent's
history, totals included. So the calls are the differences between successive
totals: a repeat adds nothing, and in a forked file the replayed totals are only
the starting point. Cached input is part of input and reasoning part of output,
as OpenAI counts them.
"""

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cs_core import FileResult, FoundCall, FoundSession, normalize_timestamp

from .files import count, jsonl_files, split_env

PROVIDER = "openai"
AGENT = "codex"
UNKNOWN_MODEL = "unknown"
_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)


def default_homes() -> list[Path]:
    """Return the Codex homes: `CODEX_HOME` (comma-separated), else `~/.codex`."""
    return split_env(os.environ.get("CODEX_HOME")) or [Path.home() / ".codex"]


class CodexReader:
    """Reads Codex rollout files.

    Args:
        roots: Folders (or files) to scan recursively; default: `sessions/` and
            `archived_sessions/` of each Codex home.
    """

    name = "codex"
    needles = (b"token_count", b"turn_context", b"session_meta")

    def __init__(self, roots: list[Path] | None = None) -> None:
        self.roots = roots

    def files(self) -> list[str]:
        """Return the rollout files; a file in `sessions/` hides its archived twin."""
        if self.roots is not None:
            return jsonl_files(self.roots)
        found: list[str] = []
        for home in default_homes():
            live = jsonl_files([home / "sessions"])
            names = {os.path.basename(path) for path in live}
            archived = jsonl_files([home / "archived_sessions"])
            found += live
            found += [p for p in archived if os.path.basename(p) not in names]
        return found

    def parse(
        self, path: Path, lines: Iterable[bytes], resume: dict[str, Any] | None
    ) -> FileResult:
        """Return the calls of the new lines of one rollout file."""
        state = _State(resume, path)
        result = FileResult()

        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                result.broken_lines += 1
                continue
            if not isinstance(record, dict):
                result.broken_lines += 1
                continue
            call = state.feed(record, result)
            if call is not None:
                result.calls.append(call)

        result.sessions[state.session] = FoundSession(
            state.session, f"Codex {state.session[:8]}", state.cwd
        )
        result.resume = state.dump()
        return result


class _State:
    """The running state of one rollout file, saved between imports."""

    def __init__(self, saved: dict[str, Any] | None, path: Path) -> None:
        saved = saved or {}
        self.session: str = saved.get("session") or _id_from_name(path)
        self.cwd: str | None = saved.get("cwd")
        self.model: str = saved.get("model") or UNKNOWN_MODEL
        self.total: list[int] = saved.get("total") or [0, 0, 0, 0]
        self.events: int = saved.get("events", 0)
        self.fork: bool = saved.get("fork", False)
        self.replay_second: str | None = saved.get("replaySecond")
        self.baselined: bool = saved.get("baselined", False)

    def dump(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "cwd": self.cwd,
            "model": self.model,
            "total": self.total,
            "events": self.events,
            "fork": self.fork,
            "replaySecond": self.replay_second,
            "baselined": self.baselined,
        }

    def feed(self, record: dict[str, Any], result: FileResult) -> FoundCall | None:
        kind, payload = record.get("type"), record.get("payload")
        if not isinstance(payload, dict):
            return None

        if kind == "session_meta":
            self._meta(record, payload)
        elif kind == "turn_context":
            if isinstance(payload.get("model"), str) and payload["model"]:
                self.model = payload["model"]
        elif kind == "event_msg" and payload.get("type") == "token_count":
            index = self.events
            self.events += 1
            return self._token_count(record, payload, index, result)
        return None

    def _meta(self, record: dict[str, Any], payload: dict[str, Any]) -> None:
        if isinstance(payload.get("id"), str) and payload["id"]:
            self.session = payload["id"]
        if isinstance(payload.get("cwd"), str):
            self.cwd = payload["cwd"]

        source = payload.get("source")
        forked = payload.get("forked_from_id") or payload.get("forkedFromId")
        spawned = isinstance(source, dict) and _mentions_subagent(source)
        if forked or spawned:
            self.fork = True
            stamp = normalize_timestamp(record.get("timestamp"))
            self.replay_second = stamp[:19] if stamp else None

    def _token_count(
        self,
        record: dict[str, Any],
        payload: dict[str, Any],
        index: int,
        result: FileResult,
    ) -> FoundCall | None:
        info = payload.get("info")
        if not isinstance(info, dict):
            return None

        stamp = normalize_timestamp(record.get("timestamp"))
        delta = self._delta(info, stamp) if stamp is not None else None
        if delta is None:
            result.broken_lines += 1
            return None

        if not any(delta):
            return None

        prompt, cached, completion, reasoning = delta
        return FoundCall(
            external_id=f"codex:{self.session}:{index}",
            session_key=self.session,
            provider=PROVIDER,
            model=self.model,
            timestamp=stamp,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cache_read_tokens=min(cached, prompt),
            reasoning_tokens=min(reasoning, completion),
            agent_name=AGENT,
        )

    def _delta(self, info: dict[str, Any], stamp: str) -> list[int] | None:
        """Return this event's usage from the running total, or None if unusable."""
        total = _vector(info.get("total_token_usage"))
        last = _vector(info.get("last_token_usage"))
        if total is None:
            # Without a running total there is no way to tell a repeat apart.
            return last

        if self._is_replay(stamp):
            self.total, self.baselined = total, True
            return [0, 0, 0, 0]

        previous, self.total = self.total, total
        if total == previous:
            return [0, 0, 0, 0]
        if any(now < before for now, before in zip(total, previous, strict=True)):
            # The total restarted (a new thread in the same file): count this step.
            return last if last is not None else total
        return [now - before for now, before in zip(total, previous, strict=True)]

    def _is_replay(self, stamp: str) -> bool:
        """A forked file's first total, and any in its replay burst, are inherited."""
        if not self.fork:
            return False
        if not self.baselined:
            return True
        return stamp[:19] == self.replay_second


def _vector(usage: Any) -> list[int] | None:
    if not isinstance(usage, dict):
        return None
    values = [count(usage.get(name) or 0) for name in _FIELDS]
    if any(value is None for value in values):
        return None
    return values  # type: ignore[return-value]


def _mentions_subagent(source: dict[str, Any]) -> bool:
    """Whether a session's `source` says a parent thread spawned it."""
    text = json.dumps(source).lower()
    return "subagent" in text or "thread_spawn" in text


def _id_from_name(path: Path) -> str:
    """The session id at the end of `rollout-<time>-<uuid>.jsonl`."""
    stem = path.stem
    return stem[-36:] if len(stem) >= 36 else stem
