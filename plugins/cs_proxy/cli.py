"""`cs proxy` and `cs run`: meter the AI calls of any agent through a local proxy."""

import os
import signal
import threading
from typing import Annotated, Any

from cyclopts import Parameter

from cs_core import (
    begin_session,
    emit_json,
    envelope,
    finish_session,
    format_usd,
    write_stderr,
)

from .child import check_command, run_child
from .server import HOST, ProxyConfig, ProxyServer

JsonFlag = Annotated[
    bool, Parameter(name="--json", help="Print one JSON document on stdout.")
]
ANTHROPIC_API = "https://api.anthropic.com"
OPENAI_API = "https://api.openai.com"


def proxy(
    *,
    port: int = 3739,
    name: str | None = None,
    anthropic_upstream: str = ANTHROPIC_API,
    openai_upstream: str = OPENAI_API,
    openai_provider: str = "openai",
    json: JsonFlag = False,
) -> int:
    """Serve a local proxy that logs every AI call passing through it.

    Point an SDK or agent at it (ANTHROPIC_BASE_URL=http://127.0.0.1:3739,
    OPENAI_BASE_URL=http://127.0.0.1:3739/v1). Each call is logged into the
    active session of this folder's scope, or into the session --name starts.
    Stop it with Ctrl+C.

    Args:
        port: Port on 127.0.0.1 to listen on.
        name: Start a session with this name and log into it; it ends, with
            its git scan, when the proxy stops.
        anthropic_upstream: Where Anthropic Messages calls are forwarded.
        openai_upstream: Where Chat Completions and Responses calls go.
        openai_provider: Provider name for OpenAI-compatible calls (openai,
            deepseek, mistral, ...).
        json: Print the proxy's address as one JSON document on stdout.
    """
    server = ProxyServer(
        _config(anthropic_upstream, openai_upstream, openai_provider), port
    )
    try:
        session_id = _begin(name)[0] if name else None
        server.start(session_id)
        _announce_start(server, session_id, json)
        _wait_for_stop_signal()
    finally:
        server.stop()

    if session_id is not None:
        document = finish_session(session_id)
        _print_summary(document)
    return 0


def run(
    *command: str,
    name: str | None = None,
    port: int = 0,
    anthropic_upstream: str = ANTHROPIC_API,
    openai_upstream: str = OPENAI_API,
    openai_provider: str = "openai",
    resume: bool = False,
    json: JsonFlag = False,
) -> int:
    """Run a command inside a new session, metering its AI calls through a proxy.

    The command gets ANTHROPIC_BASE_URL, OPENAI_BASE_URL and OPENAI_API_BASE
    pointing at the proxy, and CODESESSION_SESSION naming the session. When it
    exits, the session ends with its git scan and cs exits with its exit code.

    Args:
        command: The command and its arguments, after `--`.
        name: The session's name (default: the command line).
        port: Port on 127.0.0.1 for the proxy (default: any free one).
        anthropic_upstream: Where Anthropic Messages calls are forwarded.
        openai_upstream: Where Chat Completions and Responses calls go.
        openai_provider: Provider name for OpenAI-compatible calls.
        resume: Run inside this scope's active session instead of refusing;
            that session stays active afterwards.
        json: Print the session document on stdout when the command ends.
    """
    check_command(command)
    # No line per call: the command (often a full-screen agent) owns the terminal.
    config = _config(
        anthropic_upstream, openai_upstream, openai_provider, announce=False
    )
    server = ProxyServer(config, port)
    try:
        session_id, resumed = _begin(name or " ".join(command), resume=resume)
    except BaseException:
        server.stop()
        raise

    try:
        server.start(session_id)
        code = run_child(command, _child_env(server.url, session_id))
    finally:
        server.stop()
        # A resumed session was started by someone else, who will end it.
        document = finish_session(session_id, end=not resumed)

    if json:
        emit_json(envelope(document))
    else:
        _print_summary(document)
    return code


def _config(
    anthropic: str, openai: str, provider: str, *, announce: bool = True
) -> ProxyConfig:
    return ProxyConfig(
        anthropic_upstream=anthropic,
        openai_upstream=openai,
        openai_provider=provider.strip().lower() or "openai",
        cwd=os.getcwd(),
        announce=announce,
    )


def _begin(name: str, *, resume: bool = False) -> tuple[int, bool]:
    session, resumed = begin_session(name, resume=resume)
    return int(session["id"]), resumed


def _child_env(url: str, session_id: int) -> dict[str, str]:
    env = dict(os.environ)
    env["ANTHROPIC_BASE_URL"] = url
    env["OPENAI_BASE_URL"] = f"{url}/v1"
    env["OPENAI_API_BASE"] = f"{url}/v1"
    # A `cs log-ai` or `cs note` from inside the command lands in this session.
    env["CODESESSION_SESSION"] = str(session_id)
    return env


def _announce_start(server: ProxyServer, session_id: int | None, json: bool) -> None:
    if json:
        emit_json(
            envelope(
                {
                    "url": server.url,
                    "host": HOST,
                    "port": server.port,
                    "pid": os.getpid(),
                    "sessionId": session_id,
                    "anthropicBaseUrl": server.url,
                    "openaiBaseUrl": f"{server.url}/v1",
                }
            )
        )
        return
    target = f"session #{session_id}" if session_id else "this folder's active session"
    write_stderr(
        f"cs proxy listening on {server.url}, logging into {target}.\n"
        f"  ANTHROPIC_BASE_URL={server.url}\n"
        f"  OPENAI_BASE_URL={server.url}/v1\n"
        "Press Ctrl+C to stop."
    )


def _wait_for_stop_signal() -> None:
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        stop.set()

    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, handle) for sig in stop_signals}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_summary(document: dict[str, Any]) -> None:
    """Print a short summary on stderr, leaving stdout to the command."""
    cost = format_usd(document["aiCost"])
    if document["unpricedCalls"]:
        cost += f" (+{document['unpricedCalls']} call(s) of unknown cost)"
    files = document["filesChanged"]
    commits = document.get("commits")
    state = "ended after" if document["status"] == "completed" else "running for"
    duration = document["durationFormatted"] or document.get("liveDurationFormatted")
    write_stderr(
        f"Session #{document['id']} '{document['name']}' {state} "
        f"{duration or 'n/a'}: {cost}, "
        f"{document['aiTokens']:,} tokens in {len(document['aiUsage'])} call(s), "
        f"{'n/a' if files is None else files} file(s) changed, "
        f"{len(commits) if isinstance(commits, list) else 'n/a'} commit(s)."
    )
