"""`cs mcp`: serve the `cs` workflow to AI agents over the Model Context Protocol."""

from typing import Annotated

from cyclopts import Parameter

JsonAccepted = Annotated[
    bool,
    Parameter(
        name="--json",
        help="Accepted as on every command; the protocol is JSON already.",
    ),
]


def mcp(*, json: JsonAccepted = False) -> None:
    """Serve cs as MCP tools over stdio (register with: claude mcp add cs -- cs mcp).

    The tools start, log, annotate, inspect and end sessions and read stats and
    prices; each returns the same JSON as the matching command with --json.

    Args:
        json: Accepted as on every command; the protocol is JSON already.
    """
    # The MCP SDK and pydantic take about 450 ms to import: only this command pays.
    from ..mcp_server import serve

    serve()
