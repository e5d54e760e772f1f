"""`cs alerts add|list|remove|history`, and alerts delivered by `cs log-ai`
to a real webhook server on 127.0.0.1, a down one, and a command."""

import json
from pathlib import Path

import pytest

from tests.plugins.test_alert_sinks import closed_port, hook  # noqa: F401 (fixture)

NOW = "2025-07-01T10:00:00.000Z"


@pytest.fixture
def repo(run_cs, git_repo: Path) -> Path:
    env = {"CODESESSION_NOW": NOW}
    assert run_cs("start", "alerts", "--json", cwd=git_repo, env=env).exit_code == 0
    assert run_cs("budget", "set", "--daily", "1", "--warn-at", "50").exit_code == 0
    return git_repo


def log(run_cs, repo: Path, cost: str, *extra: str):
    return run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "-c", cost, "--prompt-tokens", "1",
        "--completion-tokens", "1", *extra, cwd=repo, env={"CODESESSION_NOW": NOW},
    )  # fmt: skip


def test_webhook_receives_each_alert_once(run_cs, repo: Path, hook) -> None:  # noqa: F811
    receiver, url = hook
    added = run_cs("alerts", "add", "webhook", url, "--timeout", "2", "--json")

    for cost in ("0.4", "0.2", "0.2", "0.3", "0.5"):
        assert log(run_cs, repo, cost, "--json").exit_code == 0

    assert added.exit_code == 0
    assert [
        (b["thresholdPercent"], b["spent"], b["code"]) for b in receiver.bodies
    ] == [
        (50, 0.6, "budget_warning"),
        (100, 1.1, "budget_exceeded"),
    ]
    assert receiver.bodies[1]["periodKey"] == "2025-07-01"
    history = run_cs("alerts", "history", "--json").json["alerts"]
    assert [d["ok"] for a in history for d in a["deliveries"]] == [True, True]


def test_a_down_webhook_leaves_the_result_unchanged(run_cs, repo: Path) -> None:
    run_cs("alerts", "add", "webhook", f"http://127.0.0.1:{closed_port()}/x")

    result = log(run_cs, repo, "1", "--json")
    history = run_cs("alerts", "history", "--json").json["alerts"]

    assert result.exit_code == 0
    assert result.stderr == ""
    assert [w["code"] for w in result.json["warnings"]] == [
        "budget_warning",
        "budget_exceeded",
    ]
    deliveries = [d for alert in history for d in alert["deliveries"]]
    assert [(d["kind"], d["ok"]) for d in deliveries] == [("webhook", False)] * 2
    assert "ConnectError" in deliveries[0]["error"]


def test_command_sink_gets_the_alert_json(run_cs, repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    run_cs("alerts", "add", "command", f"cat >> '{out}'; echo >> '{out}'")

    log(run_cs, repo, "0.5", "--json")
    lines = out.read_text().splitlines()

    assert [json.loads(line)["thresholdPercent"] for line in lines] == [50]


def test_human_mode_prints_each_alert_once_on_stderr(run_cs, repo: Path) -> None:
    result = log(run_cs, repo, "1")

    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "Warning: daily budget reached 50%: $1.00 spent of $1.00 (2025-07-01)",
        "Warning: daily budget exceeded: $1.00 spent of $1.00 (2025-07-01)",
    ]


def test_json_mode_keeps_stderr_quiet(run_cs, repo: Path) -> None:
    result = log(run_cs, repo, "1", "--json")

    assert result.stderr == ""
    assert len(result.json["warnings"]) == 2


def test_add_list_remove(run_cs) -> None:
    hook_sink = run_cs(
        "alerts", "add", "webhook", "https://example.test/h", "--timeout", "4", "--json"
    ).json["sink"]
    cmd_sink = run_cs("alerts", "add", "command", "notify-send cs", "--json").json[
        "sink"
    ]

    listed = run_cs("alerts", "list", "--json").json["sinks"]
    removed = run_cs("alerts", "remove", str(hook_sink["id"]), "--json")
    after = run_cs("alerts", "list", "--json").json["sinks"]

    assert [(s["kind"], s["target"], s["config"]) for s in listed] == [
        ("webhook", "https://example.test/h", {"timeout": 4.0}),
        ("command", "notify-send cs", {}),
    ]
    assert removed.json["removed"]["id"] == hook_sink["id"]
    assert [s["id"] for s in after] == [cmd_sink["id"]]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("add", "pager", "x"), "unknown alert sink kind 'pager'"),
        (("add", "terminal", "x"), "unknown alert sink kind 'terminal'"),
        (("add", "webhook", "example.test"), "webhook URL must start with http"),
        (
            ("add", "webhook", "http://h/", "--timeout", "0"),
            "--timeout must be above 0",
        ),
        (
            ("add", "webhook", "http://127.0.0.1:99999/"),
            "webhook URL 'http://127.0.0.1:99999/' needs a host name and a port",
        ),
        (
            ("add", "webhook", "http://127.0.0.1:0/"),
            "webhook URL 'http://127.0.0.1:0/' needs a host name and a port",
        ),
        (
            ("add", "webhook", "http://127.0.0.1:web/"),
            "webhook URL 'http://127.0.0.1:web/' needs a host name and a port",
        ),
        (
            ("add", "webhook", "http://:8080/"),
            "webhook URL 'http://:8080/' needs a host name and a port",
        ),
        (("remove", "99"), "no alert sink has id 99"),
        (("history", "--limit", "0"), "--limit must be a whole number from 1"),
    ],
    ids=[
        "unknown-kind",
        "terminal",
        "bad-url",
        "timeout",
        "port-too-big",
        "port-zero",
        "port-not-a-number",
        "no-host",
        "remove-missing",
        "limit",
    ],
)
def test_invalid_input(run_cs, argv, message: str) -> None:
    result = run_cs("alerts", *argv, "--json")

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"
    assert result.json["error"]["message"].startswith(message)


def test_history_human_output(run_cs, repo: Path) -> None:
    log(run_cs, repo, "1", "--json")

    result = run_cs("alerts", "history")

    assert result.exit_code == 0
    assert "terminal" not in result.stdout  # JSON mode delivered nowhere
    assert "100%" in result.stdout


def test_without_the_sink_plugin_warnings_still_reach_stderr(
    run_cs, repo: Path, monkeypatch
) -> None:
    from cs_core import plugins

    monkeypatch.setenv("CS_LOAD_PLUGINS", "openai,git")
    monkeypatch.setattr(plugins, "_pm", None)

    result = log(run_cs, repo, "0.5")

    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "Warning: daily budget reached 50%: $0.50 spent of $1.00 (2025-07-01)"
    ]
