"""`cs mcp`: the MCP server, driven by the official SDK's client over stdio."""

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import commit_file

TOOLS = {
    "start_session",
    "log_ai_usage",
    "add_note",
    "session_status",
    "end_session",
    "get_stats",
    "list_sessions",
    "check_budget",
    "show_session",
    "list_pricing",
}


class Client:
    """Calls tools and returns (isError, parsed JSON text)."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, **arguments: Any) -> tuple[bool, Any]:
        result = await self.session.call_tool(tool, arguments)
        assert len(result.content) == 1
        return bool(result.isError), json.loads(result.content[0].text)


def with_server(cwd: Path, body: Callable[[Client], Awaitable[Any]]) -> Any:
    """Start `cs mcp` as a subprocess in `cwd` and run `body` against it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "cs_core", "mcp"],
        env=dict(os.environ),
        cwd=str(cwd),
    )

    async def main() -> Any:
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await body(Client(session))

    return anyio.run(main)


def test_lists_every_contract_tool_with_a_schema(git_repo):
    async def body(client: Client) -> Any:
        return (await client.session.list_tools()).tools

    tools = with_server(git_repo, body)

    assert {tool.name for tool in tools} == TOOLS
    log = next(tool for tool in tools if tool.name == "log_ai_usage")
    assert log.inputSchema["required"] == ["provider", "model"]
    assert log.inputSchema["additionalProperties"] is False
    assert "promptTokens" in log.inputSchema["properties"]


def test_whole_session_through_the_tools(git_repo, run_cs):
    async def body(client: Client) -> dict[str, Any]:
        got = {"start": await client.call("start_session", name="mcp task")}
        got["log"] = await client.call(
            "log_ai_usage",
            provider="anthropic",
            model="claude-sonnet-4",
            promptTokens=10000,
            completionTokens=5000,
            agentName="Claude Code",
        )
        got["log2"] = await client.call(
            "log_ai_usage",
            provider="openai",
            model="gpt-4o",
            promptTokens=5000,
            completionTokens=1500,
        )
        got["note"] = await client.call("add_note", message="-starts with a dash")
        got["status"] = await client.call("session_status")
        got["budget"] = await client.call("check_budget")
        commit_file(git_repo, "src/app.py", "print(1)\n", "add app")
        got["end"] = await client.call("end_session", notes="done")
        got["stats"] = await client.call("get_stats")
        got["list"] = await client.call("list_sessions", limit=5)
        got["show"] = await client.call(
            "show_session", sessionId=got["start"][1]["id"], files=True, commits=True
        )
        got["pricing"] = await client.call("list_pricing", provider="anthropic")
        return got

    got = with_server(git_repo, body)

    assert not any(is_error for is_error, _ in got.values())
    start = got["start"][1]
    assert start["schemaVersion"] == 1
    assert (start["name"], start["gitRoot"], start["branch"]) == (
        "mcp task",
        str(git_repo),
        "main",
    )
    assert got["log"][1]["logged"]["cost"] == 0.105
    assert got["log"][1]["logged"]["agentName"] == "Claude Code"
    assert got["log2"][1]["session"]["aiCost"] == 0.1325
    assert got["note"][1]["message"] == "-starts with a dash"
    assert got["status"][1]["aiCost"] == 0.1325
    assert len(got["status"][1]["aiUsage"]) == 2
    budget = got["budget"][1]
    assert budget["byModel"] == {
        "anthropic/claude-sonnet-4": {
            "tokens": 15000,
            "cost": 0.105,
            "calls": 1,
            "unpricedCalls": 0,
        },
        "openai/gpt-4o": {
            "tokens": 6500,
            "cost": 0.0275,
            "calls": 1,
            "unpricedCalls": 0,
        },
    }
    assert (budget["totalCost"], budget["totalCalls"]) == (0.1325, 2)
    end = got["end"][1]
    assert (end["status"], end["notes"], end["filesChanged"]) == (
        "completed",
        "done",
        1,
    )
    assert [c["message"] for c in end["commits"]] == ["add app"]
    assert got["stats"][1]["totalAICost"] == 0.1325
    assert [s["id"] for s in got["list"][1]] == [start["id"]]
    cli_show = run_cs("show", str(start["id"]), "--files", "--commits", "--json")
    assert got["show"][1] == cli_show.json
    assert got["pricing"][1]["models"]["claude-sonnet-4"]["input"] == 3.0


def test_directory_argument_picks_that_scope(git_repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    async def body(client: Client) -> Any:
        await client.call("start_session", name="remote", directory=str(git_repo))
        here = await client.call("session_status")
        there = await client.call("session_status", directory=str(git_repo))
        return here, there

    here, there = with_server(elsewhere, body)

    assert here[0] is True
    assert here[1]["error"]["code"] == "no_active_session"
    assert there[0] is False
    assert there[1]["name"] == "remote"


ERROR_CASES = [
    ("log_ai_usage", {"provider": "anthropic", "model": "claude-sonnet-4",
                      "promptTokens": -5}, "invalid_input"),
    ("log_ai_usage", {"provider": "anthropic", "model": "claude-sonnet-4",
                      "promptTokens": "many"}, "invalid_input"),
    ("log_ai_usage", {"provider": "anthropic", "model": "claude-sonnet-4",
                      "promptTokens": 1.5}, "invalid_input"),
    ("log_ai_usage", {"provider": "anthropic", "model": "claude-sonnet-4"},
     "missing_tokens"),
    ("log_ai_usage", {"provider": "openai", "model": "gpt-9", "promptTokens": 1},
     "unknown_model"),
    ("log_ai_usage", {"provider": "anthropic", "model": "claude-sonnet-4",
                      "promptTokens": 1, "cost": -1.0}, "invalid_input"),
    ("log_ai_usage", {"model": "claude-sonnet-4", "promptTokens": 1},
     "invalid_input"),
    ("add_note", {"message": "x", "colour": "red"}, "invalid_input"),
    ("start_session", {"name": "again"}, "session_active"),
    ("show_session", {"sessionId": 999}, "session_not_found"),
    ("session_status", {"directory": "/nonexistent/folder"}, "invalid_input"),
    ("get_stats", {"by": "weather"}, "invalid_input"),
    ("no_such_tool", {}, "invalid_input"),
]  # fmt: skip


def test_bad_input_returns_the_cli_error_envelope(git_repo):
    async def body(client: Client) -> list[tuple[bool, Any]]:
        await client.call("start_session", name="errors")
        return [await client.call(tool, **args) for tool, args, _ in ERROR_CASES]

    results = with_server(git_repo, body)

    for (tool, _, code), (is_error, document) in zip(ERROR_CASES, results, strict=True):
        assert is_error, tool
        assert document["schemaVersion"] == 1
        assert document["error"]["code"] == code, (tool, document)


def test_unknown_model_error_names_model_and_provider(git_repo):
    async def body(client: Client) -> Any:
        await client.call("start_session", name="unknown")
        return await client.call(
            "log_ai_usage", provider="openai", model="gpt-9", promptTokens=10
        )

    is_error, document = with_server(git_repo, body)

    assert is_error
    assert document["error"]["model"] == "gpt-9"
    assert document["error"]["provider"] == "openai"
    assert document["error"]["message"] == "unknown model 'gpt-9' for provider 'openai'"


@pytest.mark.parametrize(
    "arguments",
    [{"allowUnpriced": True}, {"cost": 0.25}],
    ids=["unpriced", "manual-cost"],
)
def test_unknown_model_can_be_logged(git_repo, arguments):
    async def body(client: Client) -> Any:
        await client.call("start_session", name="unknown ok")
        return await client.call(
            "log_ai_usage",
            provider="openai",
            model="gpt-9",
            promptTokens=10,
            completionTokens=5,
            **arguments,
        )

    is_error, document = with_server(git_repo, body)

    assert not is_error
    assert document["logged"]["cost"] == arguments.get("cost")
    warnings = [w["code"] for w in document["warnings"]]
    assert warnings == (["unpriced_model"] if "allowUnpriced" in arguments else [])
