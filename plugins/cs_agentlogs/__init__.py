"""Import the token usage that Claude Code and Codex record in their own logs.

Adds `cs import claude-code`, `cs import codex` and `cs auto-log` (for a Claude
Code hook). The formats and their traps are described in docs/agent-logs.md.
"""

from collections.abc import Callable

from cs_core import hookimpl


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """Register `cs import` and `cs auto-log`."""
    register(
        "import",
        "cs_agentlogs.cli:app",
        help="Import AI usage that coding agents logged themselves.",
    )
    register(
        "auto-log",
        "cs_agentlogs.cli:auto_log",
        help="Log a Claude Code session's new calls (run from a hook).",
    )
