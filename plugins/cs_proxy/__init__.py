"""The metering proxy: `cs proxy` and `cs run`.

A local HTTP proxy for the Anthropic Messages API and the OpenAI-compatible Chat
Completions and Responses APIs (OpenAI, DeepSeek, Mistral...). It forwards each
call to the real API, passes the answer back unchanged, and logs the usage the
provider reports into a session. The commands load only when they run.
"""

from collections.abc import Callable

from cs_core import hookimpl


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """Register `cs proxy` and `cs run`."""
    register(
        "proxy",
        "cs_proxy.cli:proxy",
        help="Serve a local proxy that logs every AI call passing through it.",
    )
    register(
        "run",
        "cs_proxy.cli:run",
        help="Run a command in a new session, metering its AI calls via a proxy.",
    )
