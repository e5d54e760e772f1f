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

BUILTIN_COMMANDS: dict[str, str] = {
    "start": "cs_core.commands.start:start",
    "log-ai": "cs_core.commands.log_ai:log_ai",
    "note": "cs_core.commands.note:note",
    "status": "cs_core.commands.status:status",
    "end": "cs_core.commands.end:end",
    "show": "cs_core.commands.show:show",
    "list": "cs_core.commands.list_sessions:list_sessions",
    "stats": "cs_core.commands.stats:stats",
    "export": "cs_core.commands.export:export",
    "recover": "cs_core.commands.recover:recover",
    "delete": "cs_core.commands.delete:delete",
    "plugins": "cs_core.commands.plugins:plugins",
    "pricing": "cs_core.commands.pricing:app",
    "reprice": "cs_core.commands.reprice:reprice",
    "dashboard": "cs_core.commands.dashboard:dashboard",
    "budget": "cs_core.commands.budget:app",
    "alerts": "cs_core.commands.alerts:app",
    "mcp": "cs_core.commands.mcp:mcp",
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
    for name, target in BUILTIN_COMMANDS.items():
        aliases = [alias for alias, of in ALIASES.items() if of == name]
        app.command(target, name=name, alias=aliases or None)
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
        output.write_stderr(f"Error: {exc.message}")
        if exc.hint:
            output.write_stderr(exc.hint)
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
