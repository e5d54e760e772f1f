"""`cs import claude-code|codex` and `cs auto-log`."""

import json as jsonlib
import sys
from pathlib import Path
from typing import Annotated, Any

from cyclopts import App, Parameter

from cs_core import InvalidInputError, import_logs, log_into_active_session

JsonFlag = Annotated[
    bool, Parameter(name="--json", help="Print one JSON document on stdout.")
]
PathOption = Annotated[Path | None, Parameter(name="--path")]

app = App(name="import", help="Import AI usage that coding agents logged themselves.")


@app.command(name="claude-code")
def claude_code(
    *,
    path: PathOption = None,
    since: str | None = None,
    dry_run: bool = False,
    json: JsonFlag = False,
) -> None:
    """Import Claude Code transcripts: one session per Claude Code session.

    Args:
        path: Read this folder (or file) instead of `~/.claude/projects`,
            `~/.config/claude/projects` or `$CLAUDE_CONFIG_DIR/projects`.
        since: Only calls from this date (local day) or ISO-8601 instant on.
        dry_run: Count what would be imported; store nothing.
        json: Print one JSON document on stdout.
    """
    from .claude import ClaudeCodeReader

    reader = ClaudeCodeReader(_existing(path))
    import_logs(reader, since=since, dry_run=dry_run, json_mode=json)


@app.command(name="codex")
def codex(
    *,
    path: PathOption = None,
    since: str | None = None,
    dry_run: bool = False,
    json: JsonFlag = False,
) -> None:
    """Import Codex session logs: one session per Codex session.

    Args:
        path: Read this folder (or file) instead of `$CODEX_HOME/sessions` and
            `$CODEX_HOME/archived_sessions` (default home `~/.codex`).
        since: Only calls from this date (local day) or ISO-8601 instant on.
        dry_run: Count what would be imported; store nothing.
        json: Print one JSON document on stdout.
    """
    from .codex import CodexReader

    reader = CodexReader(_existing(path))
    import_logs(reader, since=since, dry_run=dry_run, json_mode=json)


def _existing(path: Path | None) -> list[Path] | None:
    """The folder given with --path, checked; None for the default places.

    Raises:
        InvalidInputError: The path does not exist.
    """
    if path is None:
        return None
    if not path.exists():
        raise InvalidInputError(f"no such file or folder: '{path}'")
    return [path]


def auto_log(*, json: JsonFlag = False) -> None:
    """Log a Claude Code session's new calls into this folder's active session.

    Run it from a Claude Code `Stop` or `SubagentStop` hook: it reads the hook's
    JSON on stdin (`session_id`, `transcript_path`, `cwd`) and imports what the
    transcript and its subagents' transcripts gained since the last run, with
    the real token counts. Calls made before the session started are left out.

    Args:
        json: Print one JSON document on stdout.
    """
    from .claude import ClaudeCodeReader

    hook = _read_hook(sys.stdin.read())
    reader = ClaudeCodeReader(_transcripts(hook))
    cwd = hook.get("cwd") if isinstance(hook.get("cwd"), str) else None
    log_into_active_session(reader, cwd, json_mode=json)


def _read_hook(text: str) -> dict[str, Any]:
    """Parse the hook's JSON input.

    Raises:
        InvalidInputError: Not a JSON object with a `transcript_path`.
    """
    try:
        hook = jsonlib.loads(text)
    except ValueError:
        raise InvalidInputError(
            "auto-log expects a Claude Code hook's JSON on stdin",
            hint="Run it from a Stop or SubagentStop hook (see docs/agent-logs.md).",
        ) from None

    if not isinstance(hook, dict) or not isinstance(hook.get("transcript_path"), str):
        raise InvalidInputError("the hook's JSON has no 'transcript_path'")
    return hook


def _transcripts(hook: dict[str, Any]) -> list[Path]:
    """The session's transcript, and its subagents' transcripts when present."""
    main = Path(hook["transcript_path"]).expanduser()
    found = [main]
    agent = hook.get("agent_transcript_path")
    if isinstance(agent, str) and agent:
        found.append(Path(agent).expanduser())
    subagents = main.with_suffix("") / "subagents"
    if subagents.is_dir():
        found.append(subagents)
    return found
