"""The `cs` command line: the cyclopts App, its commands, and the one place where
errors become output.

Commands are registered by import string, so running one imports only its own
module. Plugin commands are looked up only when the name is not a built-in one.
"""

import logging
import os
import sqlite3
import sys
from collections.abc import Sequence

from cyclopts import App, CycloptsError, Parameter

from . import output
from ._version import __version__
from .errors import CsError, InternalError, InvalidInputError

log = logging.getLogger(__name__)

# name: (import string, the summary `cs --help` shows). The summary repeats the
# first line of the command's docstring, so listing commands imports none of them;
# tests/test_docs.py keeps the two equal.
BUILTIN_COMMANDS: dict[str, tuple[str, str]] = {
    "start": (
        "cs_core.commands.start:start",
        "Start tracking a session in this repository (or folder).",
    ),
    "log-ai": (
        "cs_core.commands.log_ai:log_ai",
        "Record one AI call in the active session and price it.",
    ),
    "note": (
        "cs_core.commands.note:note",
        "Add a timestamped note to the active session.",
    ),
    "status": (
        "cs_core.commands.status:status",
        "Show the active session: cost so far, tokens, calls and duration.",
    ),
    "end": (
        "cs_core.commands.end:end",
        "End the active session: record files and commits, report the cost.",
    ),
    "show": (
        "cs_core.commands.show:show",
        "Show a session (default: the latest) with its AI calls and notes.",
    ),
    "list": (
        "cs_core.commands.list_sessions:list_sessions",
        "List the latest sessions, newest first.",
    ),
    "stats": (
        "cs_core.commands.stats:stats",
        "Show totals: sessions, time, files, commits, spend and tokens.",
    ),
    "export": (
        "cs_core.commands.export:export",
        "Export sessions (newest first), or one row per AI call with --calls.",
    ),
    "recover": (
        "cs_core.commands.recover:recover",
        "End active sessions idle for longer than --max-age hours, at their last "
        "activity.",
    ),
    "delete": (
        "cs_core.commands.delete:delete",
        "Delete a session with its AI calls, notes, files and commits.",
    ),
    "plugins": (
        "cs_core.commands.plugins:plugins",
        "List the loaded plugins, their version and the hooks each implements.",
    ),
    "pricing": (
        "cs_core.commands.pricing:app",
        "List and change the prices AI calls are costed at.",
    ),
    "reprice": (
        "cs_core.commands.reprice:reprice",
        "Recompute the cost of stored calls from today's prices (manual costs stay).",
    ),
    "dashboard": (
        "cs_core.commands.dashboard:dashboard",
        "Serve the dashboard on this machine and open it in the browser.",
    ),
    "budget": (
        "cs_core.commands.budget:app",
        "Set, show, clear and check spending limits.",
    ),
    "alerts": (
        "cs_core.commands.alerts:app",
        "Configure where budget alerts go; list those that fired.",
    ),
    "mcp": (
        "cs_core.commands.mcp:mcp",
        "Serve cs as MCP tools over stdio (register with: claude mcp add cs -- cs "
        "mcp).",
    ),
}
ALIASES = {"ls": "list"}


def build_app(*, with_plugins: bool = False) -> App:
    """Build the App with the built-in commands, and plugin ones if asked."""
    app = App(
        name="cs",
        help="Track what AI coding agents cost: sessions, AI calls, files, commits.",
        version=__version__,
        version_flags=["--version"],
        result_action="return_value",
        default_parameter=Parameter(negative=()),
    )
    for name, (target, summary) in BUILTIN_COMMANDS.items():
        aliases = [alias for alias, of in ALIASES.items() if of == name]
        app.command(target, name=name, alias=aliases or None, help=summary)
    if with_plugins:
        _add_plugin_commands(app)
    return app


def _add_plugin_commands(app: App) -> None:
    from .plugins import plugin_commands

    for name, (target, help_text) in plugin_commands().items.items():
        if name in BUILTIN_COMMANDS or name in ALIASES:
            continue
        app.command(target, name=name, help=help_text)


def _needs_plugins(argv: Sequence[str]) -> bool:
    if not argv:
        return True
    first = argv[0]
    if first in ("--help", "-h"):
        return True
    return not first.startswith("-") and first not in BUILTIN_COMMANDS | ALIASES


def run(argv: Sequence[str]) -> int:
    """Run one `cs` command and return its exit code; never raises."""
    argv = list(argv)
    json_mode = "--json" in argv
    if argv == ["--version"]:
        # cyclopts renders the version through rich's Markdown (~70 ms).
        output.write_stdout(f"{__version__}\n")
        return 0
    try:
        app = build_app(with_plugins=_needs_plugins(argv))
        result = app(argv, print_error=False, exit_on_error=False, help_on_error=False)
        return result if isinstance(result, int) else 0
    except CsError as exc:
        return report(exc, json_mode)
    except CycloptsError as exc:
        return report(InvalidInputError(_cyclopts_message(exc)), json_mode)
    except sqlite3.Error as exc:
        from .db import database_error

        return report(database_error(exc), json_mode)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one edge where anything unexpected is reported
        log.debug("internal error", exc_info=True)
        return report(InternalError(f"{type(exc).__name__}: {exc}"), json_mode)


def _cyclopts_message(exc: CycloptsError) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(line.strip("│ ╭╰─╮╯").strip() for line in text if line.strip()) or (
        "invalid arguments"
    )


def report(exc: CsError, json_mode: bool) -> int:
    """Print an error as the contract says and return exit code 1."""
    if os.environ.get("CS_DEBUG") == "1":
        import traceback

        output.write_stderr("".join(traceback.format_exception(exc)))
    if json_mode:
        extra = dict(exc.extra)
        if exc.hint:
            extra.setdefault("hint", exc.hint)
        output.emit_json(output.error_document(exc.code, exc.message, extra))
    else:
        # One line (the contract); the hint, when there is one, ends it.
        hint = f". {exc.hint}" if exc.hint else ""
        output.write_stderr(f"Error: {exc.message}{hint}")
    return 1


def _setup_logging() -> None:
    level = os.environ.get("CS_LOG", "").upper()
    if level in ("DEBUG", "INFO"):
        from rich.logging import RichHandler

        logging.basicConfig(
            level=level, handlers=[RichHandler(console=output.console(stderr=True))]
        )


def main() -> None:
    """Entry point of the `cs` console script."""
    _setup_logging()
    sys.exit(run(sys.argv[1:]))
