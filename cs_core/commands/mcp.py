"""`cs mcp`: serve the `cs` workflow to AI agents over the Model Context Protocol."""


def mcp() -> None:
    """Serve cs as MCP tools over stdio (register with: claude mcp add cs -- cs mcp).

    The tools start, log, annotate, inspect and end sessions, read stats and
    prices. Each returns the same JSON as the matching command with --json.
    """
    # The MCP SDK and pydantic take about 450 ms to import: only this command pays.
    from ..mcp_server import serve

    serve()
