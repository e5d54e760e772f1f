"""Claude Code transcripts: `projects/<project>/<session>.jsonl` and subagent files.

Each assistant line carries the usage of the request that produced it. Claude Code
writes one request several times while it streams (the same `message.id` and
`requestId`, early copies with placeholder output counts), and a subagent's file
replays messages of its parent. One call is kept per `message.id`: the main
thread's copy over a subagent's, then the copy with the most tokens. The message
id is also the id a proxy in front of the Anthropic API records, so a call seen
both ways is stored once.
"""

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cs_core import FileResult, FoundCall, FoundSession, normalize_timestamp

from .files import count, jsonl_files, split_env

PROVIDER = "anthropic"
MAIN_AGENT = "claude-code"
SYNTHETIC_MODEL = "<synthetic>"


def default_roots() -> list[Path]:
    """Return the `projects` folders Claude Code writes to.

    `CLAUDE_CONFIG_DIR` (comma-separated) replaces the two default homes.
    """
    configured = split_env(os.environ.get("CLAUDE_CONFIG_DIR"))
    if configured:
        return [root / "projects" for root in configured]
    home = Path.home()
    return [home / ".config" / "claude" / "projects", home / ".claude" / "projects"]


def is_subagent_file(path: str | Path) -> bool:
    """Return True for a subagent's transcript (`subagents/agent-<id>.jsonl`)."""
    folder, name = os.path.split(path)
    return os.path.basename(folder) == "subagents" or name.startswith("agent-")


class ClaudeCodeReader:
    """Reads Claude Code transcripts.

    Args:
        roots: Folders (or files) to scan recursively; default: `default_roots()`.
    """

    name = "claude-code"
    needles = (b'"usage"',)

    def __init__(self, roots: list[Path] | None = None) -> None:
        self.roots = roots if roots is not None else default_roots()

    def files(self) -> list[str]:
        """Return the transcripts, main sessions before subagents.

        Reading the parents first lets a subagent's replay of a parent message
        meet the parent's stored copy and be dropped.
        """
        found = jsonl_files(self.roots)
        subagents = [path for path in found if is_subagent_file(path)]
        return [path for path in found if not is_subagent_file(path)] + subagents

    def parse(
        self, path: Path, lines: Iterable[bytes], resume: dict[str, Any] | None
    ) -> FileResult:
        """Return the calls of the new lines of one transcript, deduplicated."""
        result = FileResult()
        best: dict[str, tuple[FoundCall, bool]] = {}
        where = _Where(path)
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                result.broken_lines += 1
                continue
            found = _call(record, where, result)
            if found is not None:
                _keep_best(best, *found)

        result.calls = [call for call, _ in best.values()]
        return result


def _keep_best(
    best: dict[str, tuple[FoundCall, bool]], call: FoundCall, side: bool
) -> None:
    """Keep the main thread's copy over a subagent's, then the largest copy."""
    old = best.get(call.external_id)
    if old is None:
        best[call.external_id] = (call, side)
        return

    old_call, old_side = old
    main_over_side = old_side and not side
    larger = old_side == side and _size(call) > _size(old_call)
    if main_over_side or larger:
        best[call.external_id] = (call, side)


def _size(call: FoundCall) -> int:
    return (
        call.prompt_tokens
        + call.completion_tokens
        + call.cache_read_tokens
        + call.cache_write_tokens
        + call.cache_write_1h_tokens
    )


class _Where:
    """What a transcript's name says: subagent or not, its session, its agent."""

    def __init__(self, path: Path) -> None:
        self.subagent = is_subagent_file(path)
        self.session = path.parent.parent.name if self.subagent else path.stem
        stem = path.stem
        self.agent = stem[len("agent-") :] if stem.startswith("agent-") else ""


def _call(
    record: Any, where: _Where, result: FileResult
) -> tuple[FoundCall, bool] | None:
    """Return the call of one line and whether it is a subagent's, or None."""
    if not isinstance(record, dict):
        result.broken_lines += 1
        return None

    message = record.get("message")
    if record.get("type") != "assistant" or not isinstance(message, dict):
        return None

    usage = message.get("usage")
    model = message.get("model")
    if not isinstance(usage, dict) or not isinstance(model, str):
        return None
    if not model or model == SYNTHETIC_MODEL:
        return None

    counts = _counts(usage)
    stamp = normalize_timestamp(record.get("timestamp"))
    if counts is None or stamp is None:
        result.broken_lines += 1
        return None
    if not any(counts):
        return None

    session = _session(record, where, result)
    side = record.get("isSidechain") is True or where.subagent
    call = FoundCall(
        external_id=_external_id(record, message, session),
        session_key=session,
        provider=PROVIDER,
        model=model,
        timestamp=stamp,
        prompt_tokens=counts[0],
        completion_tokens=counts[1],
        cache_read_tokens=counts[2],
        cache_write_tokens=counts[3],
        cache_write_1h_tokens=counts[4],
        agent_name=_agent(record, where) if side else MAIN_AGENT,
    )

    return call, side


def _counts(usage: dict[str, Any]) -> tuple[int, int, int, int, int] | None:
    """Input, output, cache read, 5-minute and 1-hour cache write; None if broken.

    The per-TTL breakdown, when present, replaces the single cache-write count.
    """
    values = [
        count(usage.get("input_tokens", 0)),
        count(usage.get("output_tokens", 0)),
        count(usage.get("cache_read_input_tokens") or 0),
    ]

    split = usage.get("cache_creation")
    if isinstance(split, dict):
        values.append(count(split.get("ephemeral_5m_input_tokens") or 0))
        values.append(count(split.get("ephemeral_1h_input_tokens") or 0))
    else:
        values.append(count(usage.get("cache_creation_input_tokens") or 0))
        values.append(0)

    if any(value is None for value in values):
        return None
    return tuple(values)  # type: ignore[return-value]


def _session(record: dict[str, Any], where: _Where, result: FileResult) -> str:
    """Return the agent session a line belongs to, noting what is known of it."""
    key = record.get("sessionId")
    if not isinstance(key, str) or not key:
        key = where.session

    found = result.sessions.get(key)
    if found is None:
        found = result.sessions[key] = FoundSession(key, f"Claude Code {key[:8]}")
    if found.cwd is None and isinstance(record.get("cwd"), str):
        found.cwd = record["cwd"]
    if found.branch is None and isinstance(record.get("gitBranch"), str):
        found.branch = record["gitBranch"] or None

    return key


def _external_id(record: dict[str, Any], message: dict[str, Any], session: str) -> str:
    """The Anthropic message id (what a proxy records); else a line-based key."""
    message_id = message.get("id")
    if isinstance(message_id, str) and message_id:
        return message_id
    request = record.get("requestId") or record.get("uuid") or record.get("timestamp")
    return f"claude-code:{session}:{request}"


def _agent(record: dict[str, Any], where: _Where) -> str:
    agent_id = record.get("agentId")
    if not isinstance(agent_id, str) or not agent_id:
        agent_id = where.agent
    return f"subagent:{agent_id}" if agent_id else "subagent"
