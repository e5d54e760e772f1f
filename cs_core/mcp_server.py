"""The Model Context Protocol server behind `cs mcp`.

Each tool is a typed front for one `cs` command: its arguments are validated,
turned into that command's flags, and the command runs in this process with
`--json`. The tool's result is exactly the JSON the command prints, so agents
see the same documents and error codes whichever way they call `cs`. A failed
command returns its error envelope with `isError` set.

Tool names and argument names follow codesession-cli 2.4's MCP server, so
existing agent set-ups keep working.
"""

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__, output
from .errors import InvalidInputError

SERVER_NAME = "codesession"

Argv = list[str]


class _Args(BaseModel):
    """Base of every tool's arguments: unknown keys are refused.

    Argument names are camelCase because codesession-cli 2.4's tools named them
    so (`promptTokens`, `sessionId`), and agents already send those names.
    """

    model_config = ConfigDict(extra="forbid")


class _Scoped(_Args):
    directory: str | None = Field(
        None,
        description="Folder whose scope (its git repository) the call acts on; "
        "default: the server's working directory.",
    )
    sessionId: int | None = Field(
        None, description="Act on this session instead of the scope's active one."
    )


class StartSessionArgs(_Args):
    """Arguments of `start_session`."""

    name: str = Field(description='What the session is for, e.g. "fix auth bug".')
    directory: str | None = Field(None, description="Folder to start it in.")
    resume: bool = Field(False, description="Return the scope's active session.")
    closeStale: bool = Field(
        False, description="End the scope's active session and start anew."
    )


class LogAiUsageArgs(_Scoped):
    """Arguments of `log_ai_usage`."""

    provider: str = Field(description="anthropic, openai, google, mistral, deepseek…")
    model: str = Field(description="Model id, e.g. claude-sonnet-4 or gpt-4o.")
    promptTokens: int | None = Field(None, description="Input tokens.")
    completionTokens: int | None = Field(None, description="Output tokens.")
    totalTokens: int | None = Field(
        None, description="Total; alone, priced as 70% input and 30% output."
    )
    cacheReadTokens: int | None = Field(
        None, description="Prompt tokens read from the cache."
    )
    cacheWriteTokens: int | None = Field(
        None, description="Prompt tokens written to the cache (5-minute TTL)."
    )
    cacheWrite1hTokens: int | None = Field(
        None, description="Prompt tokens written to the 1-hour cache."
    )
    reasoningTokens: int | None = Field(
        None, description="Reasoning (thinking) tokens."
    )
    cost: float | None = Field(None, description="Cost in USD; wins over prices.")
    agentName: str | None = Field(None, description="The agent that made the call.")
    allowUnpriced: bool = Field(
        False, description="Store a call of an unknown model with an unknown cost."
    )


class AddNoteArgs(_Scoped):
    """Arguments of `add_note`."""

    message: str = Field(description="The note.")


class SessionStatusArgs(_Scoped):
    """Arguments of `session_status` and `check_budget`."""


class EndSessionArgs(_Scoped):
    """Arguments of `end_session`."""

    notes: str | None = Field(None, description="Closing notes.")


class GetStatsArgs(_Args):
    """Arguments of `get_stats`."""

    since: str | None = Field(None, description="From this date (YYYY-MM-DD).")
    until: str | None = Field(None, description="Up to this date, inclusive.")
    today: bool = Field(False, description="Only today.")
    by: str | None = Field(
        None, description="Break down by day, model, provider, agent or project."
    )
    timezone: str | None = Field(None, description="Time zone for days.")


class ListSessionsArgs(_Args):
    """Arguments of `list_sessions`."""

    limit: int | None = Field(None, description="How many (default 10).")
    since: str | None = Field(None, description="Started on or after this date.")
    until: str | None = Field(None, description="Started up to this date.")
    project: str | None = Field(None, description="Only this repository or folder.")
    status: str | None = Field(None, description="active or completed.")


class ShowSessionArgs(_Args):
    """Arguments of `show_session`."""

    sessionId: int | None = Field(None, description="The session; default: the latest.")
    files: bool = Field(False, description="Include the changed files.")
    commits: bool = Field(False, description="List the commits.")


class ListPricingArgs(_Args):
    """Arguments of `list_pricing`."""

    provider: str | None = Field(None, description="Only this provider's models.")


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool: its help, its arguments, and the `cs` command it runs."""

    description: str
    args: type[_Args]
    argv: Callable[[Any], Argv]
    shape: Callable[[Any], Any] | None = None


def _opt(flag: str, value: Any) -> Argv:
    """Return `--flag=value`, or nothing when the value is unset.

    The `=` form keeps a value that starts with a dash from reading as a flag.
    """
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    text = repr(value) if isinstance(value, float) else str(value)
    return [f"{flag}={text}"]


def _session(args: _Scoped) -> Argv:
    return _opt("--session", args.sessionId)


def _start_argv(args: StartSessionArgs) -> Argv:
    flags = _opt("--resume", args.resume) + _opt("--close-stale", args.closeStale)
    return ["start", *flags, "--", args.name]


def _log_argv(args: LogAiUsageArgs) -> Argv:
    pairs = (
        ("--prompt-tokens", args.promptTokens),
        ("--completion-tokens", args.completionTokens),
        ("--tokens", args.totalTokens),
        ("--cache-read-tokens", args.cacheReadTokens),
        ("--cache-write-tokens", args.cacheWriteTokens),
        ("--cache-write-1h-tokens", args.cacheWrite1hTokens),
        ("--reasoning-tokens", args.reasoningTokens),
        ("--cost", args.cost),
        ("--agent", args.agentName),
        ("--allow-unpriced", args.allowUnpriced),
    )
    argv = ["log-ai", f"--provider={args.provider}", f"--model={args.model}"]
    for flag, value in pairs:
        argv += _opt(flag, value)
    return argv + _session(args)


def _stats_argv(args: GetStatsArgs) -> Argv:
    return [
        "stats",
        *_opt("--since", args.since),
        *_opt("--until", args.until),
        *_opt("--today", args.today),
        *_opt("--by", args.by),
        *_opt("--timezone", args.timezone),
    ]


def _list_argv(args: ListSessionsArgs) -> Argv:
    return [
        "list",
        *_opt("--limit", args.limit),
        *_opt("--since", args.since),
        *_opt("--until", args.until),
        *_opt("--project", args.project),
        *_opt("--status", args.status),
    ]


def _show_argv(args: ShowSessionArgs) -> Argv:
    target = [] if args.sessionId is None else ["--", str(args.sessionId)]
    return [
        "show",
        *_opt("--files", args.files),
        *_opt("--commits", args.commits),
        *target,
    ]


def budget_view(status: dict[str, Any]) -> dict[str, Any]:
    """Turn `cs status` JSON into `check_budget`'s answer: spend by model.

    Args:
        status: The status document, envelope included.

    Returns:
        The session's totals, a `byModel` breakdown, and the status's `budget`
        block when budgets are set.
    """
    by_model: dict[str, dict[str, Any]] = {}
    for call in status["aiUsage"]:
        entry = by_model.setdefault(
            f"{call['provider']}/{call['model']}",
            {"tokens": 0, "cost": Decimal(0), "calls": 0, "unpricedCalls": 0},
        )
        entry["tokens"] += call["tokens"]
        entry["calls"] += 1
        if call["cost"] is None:
            entry["unpricedCalls"] += 1
        else:
            entry["cost"] += Decimal(repr(call["cost"]))
    for entry in by_model.values():
        entry["cost"] = output.money(entry["cost"])
    return output.envelope(
        {
            "sessionId": status["id"],
            "sessionName": status["name"],
            "totalCost": status["aiCost"],
            "totalTokens": status["aiTokens"],
            "totalCalls": len(status["aiUsage"]),
            "unpricedCalls": status["unpricedCalls"],
            "byModel": by_model,
            "budget": status.get("budget"),
        }
    )


TOOLS: dict[str, ToolSpec] = {
    "start_session": ToolSpec(
        "Start a session that tracks AI cost, files and commits in a repository.",
        StartSessionArgs,
        _start_argv,
    ),
    "log_ai_usage": ToolSpec(
        "Record one AI call (tokens, optional cost) in the active session; "
        "call it after each model call.",
        LogAiUsageArgs,
        _log_argv,
    ),
    "add_note": ToolSpec(
        "Add a timestamped note to the active session.",
        AddNoteArgs,
        lambda a: ["note", *_session(a), "--", a.message],
    ),
    "session_status": ToolSpec(
        "Show the active session: cost so far, tokens, calls and duration.",
        SessionStatusArgs,
        lambda a: ["status", *_session(a)],
    ),
    "end_session": ToolSpec(
        "End the active session: record files and commits, report the cost.",
        EndSessionArgs,
        lambda a: ["end", *_opt("--notes", a.notes), *_session(a)],
    ),
    "get_stats": ToolSpec(
        "Totals over all sessions or a period, optionally broken down.",
        GetStatsArgs,
        _stats_argv,
    ),
    "list_sessions": ToolSpec(
        "List the latest sessions, newest first.",
        ListSessionsArgs,
        _list_argv,
    ),
    "check_budget": ToolSpec(
        "What the active session has spent, by model, and its budget status; "
        "check it before expensive calls.",
        SessionStatusArgs,
        lambda a: ["status", *_session(a)],
        budget_view,
    ),
    "show_session": ToolSpec(
        "Show a session (default: the latest) with its AI calls and notes.",
        ShowSessionArgs,
        _show_argv,
    ),
    "list_pricing": ToolSpec(
        "List the known model prices, USD per million tokens.",
        ListPricingArgs,
        lambda a: ["pricing", "list", *_opt("--provider", a.provider)],
    ),
}


def tool_definitions() -> list[types.Tool]:
    """Return the MCP definitions of every tool, with JSON schemas."""
    return [
        types.Tool(
            name=name,
            description=spec.description,
            inputSchema=spec.args.model_json_schema(),
        )
        for name, spec in TOOLS.items()
    ]


def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    """Run one tool and return its JSON document, or its error envelope.

    Args:
        name: The tool.
        arguments: Its arguments, as the client sent them.
    """
    spec = TOOLS.get(name)
    if spec is None:
        return _error(InvalidInputError(f"unknown tool '{name}'"))
    try:
        args = spec.args.model_validate(arguments)
    except ValidationError as exc:
        return _error(InvalidInputError(_validation_message(name, exc)))

    directory = getattr(args, "directory", None)
    code, text = run_command(_with_json(spec.argv(args)), directory)

    document = json.loads(text) if text.strip() else None
    if code == 0 and spec.shape is not None:
        document = spec.shape(document)
        text = output.dumps(document)
    return _result(text.strip(), document, is_error=code != 0)


def _with_json(argv: Argv) -> Argv:
    """Add `--json` before any `--`, after which everything is positional."""
    end = argv.index("--") if "--" in argv else len(argv)
    return [*argv[:end], "--json", *argv[end:]]


def _validation_message(tool: str, exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
        for error in exc.errors()
    ]
    return f"invalid arguments for {tool}: " + "; ".join(problems)


def _error(exc: InvalidInputError) -> types.CallToolResult:
    document = output.error_document(exc.code, exc.message, exc.extra)
    return _result(output.dumps(document), document, is_error=True)


def _result(text: str, document: Any, *, is_error: bool) -> types.CallToolResult:
    # structuredContent must be an object; `list` answers a bare array.
    structured = document if isinstance(document, dict) else None
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structuredContent=structured,
        isError=is_error,
    )


def run_command(argv: Argv, directory: str | None) -> tuple[int, str]:
    """Run a `cs` command in this process and capture what it prints.

    Args:
        argv: The command's arguments, `--json` included.
        directory: Run it from this folder, for its session scope.

    Returns:
        The exit code and stdout.
    """
    from .cli import run

    try:
        with _working_directory(directory), _captured_stdout() as captured:
            code = run(argv)
    except InvalidInputError as exc:
        document = output.error_document(exc.code, exc.message, exc.extra)
        return 1, output.dumps(document)
    return code, captured.getvalue().decode("utf-8")


@contextlib.contextmanager
def _working_directory(directory: str | None) -> Iterator[None]:
    if directory is None:
        yield
        return
    previous = os.getcwd()
    try:
        os.chdir(directory)
    except OSError as exc:
        raise InvalidInputError(
            f"directory '{directory}' cannot be used: {exc.strerror or exc}"
        ) from None
    try:
        yield
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def _captured_stdout() -> Iterator[io.BytesIO]:
    # The stdio transport holds its own handle on the real stdout, so swapping
    # sys.stdout for one synchronous command cannot interleave with protocol
    # messages; tools run one at a time on the event loop.
    buffer = io.BytesIO()
    previous = sys.stdout
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
    sys.stdout = wrapper
    try:
        yield buffer
    finally:
        sys.stdout = previous
        wrapper.flush()
        wrapper.detach()  # so collecting the wrapper does not close the buffer


def build_server() -> Server:
    """Build the MCP server with every `cs` tool."""
    server: Server = Server(SERVER_NAME, version=__version__)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return tool_definitions()

    # Arguments are validated here, not by the SDK, so that bad input gets the
    # same `invalid_input` envelope as on the command line.
    @server.call_tool(validate_input=False)
    async def handle(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return call_tool(name, arguments)

    return server


async def _serve() -> None:
    server = build_server()
    async with stdio_server() as (read_stream, write_stream):
        await server.run(
            read_stream, write_stream, server.create_initialization_options()
        )


def serve() -> None:
    """Serve the tools over stdio until the client closes the connection."""
    anyio.run(_serve)
