"""The OpenTelemetry exporter against a real OTLP/HTTP receiver on 127.0.0.1.

The receiver decodes every request with the `opentelemetry-proto` messages, so
these tests check what a collector would actually see.
"""

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from cs_otel import exporter
from tests.conftest import commit_file

REQUESTS = {
    "/v1/metrics": metrics_service_pb2.ExportMetricsServiceRequest,
    "/v1/traces": trace_service_pb2.ExportTraceServiceRequest,
    "/v1/logs": logs_service_pb2.ExportLogsServiceRequest,
}
T0 = "2026-03-02T10:00:00.000Z"
T1 = "2026-03-02T10:05:00.000Z"
T2 = "2026-03-02T10:30:00.000Z"


class Receiver:
    """An OTLP/HTTP receiver that records every decoded request."""

    def __init__(self, port: int = 0) -> None:
        self.received: dict[str, list[Any]] = {path: [] for path in REQUESTS}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = REQUESTS[self.path]()
                message.ParseFromString(body)
                receiver.received[self.path].append(message)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metric_points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        found = []
        for request in self.received["/v1/metrics"]:
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        if metric.name != name:
                            continue
                        data = (
                            metric.histogram
                            if metric.HasField("histogram")
                            else metric.sum
                        )
                        found.extend((attrs(p.attributes), p) for p in data.data_points)
        return found

    def spans(self) -> list[Any]:
        return [
            span
            for request in self.received["/v1/traces"]
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]

    def logs(self) -> list[Any]:
        return [
            record
            for request in self.received["/v1/logs"]
            for rl in request.resource_logs
            for sl in rl.scope_logs
            for record in sl.log_records
        ]

    def resources(self) -> list[dict[str, Any]]:
        found = []
        for request in self.received["/v1/metrics"]:
            found.extend(
                attrs(rm.resource.attributes) for rm in request.resource_metrics
            )
        for request in self.received["/v1/traces"]:
            found.extend(attrs(rs.resource.attributes) for rs in request.resource_spans)
        for request in self.received["/v1/logs"]:
            found.extend(attrs(rl.resource.attributes) for rl in request.resource_logs)
        return found


def value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(item) for item in any_value.array_value.values]
    return getattr(any_value, kind)


def attrs(pairs: Any) -> dict[str, Any]:
    return {pair.key: value(pair.value) for pair in pairs}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast, deterministic exporter settings; nothing aimed off this machine."""
    monkeypatch.setenv("CODESESSION_EVENTS_TIMEOUT", "1.5")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "cs-test")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CODESESSION_AGENT_NAME", "claude-code")
    exporter._down.clear()
    monkeypatch.setattr(exporter, "_patient", False)


def at(moment: str) -> dict[str, str]:
    return {"CODESESSION_NOW": moment}


def enable(run_cs, endpoint: str) -> dict[str, Any]:
    result = run_cs(
        "otel", "enable", "--team", "platform", "--user", "ada", "--json",
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    return result.json


def scripted_session(run_cs, repo: Path, endpoint: str) -> None:
    """Start, two calls, one commit, end: the session every test replays."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
    assert (
        run_cs("start", "fix-login", "--json", cwd=repo, env=env | at(T0)).exit_code
        == 0
    )
    first = run_cs(
        "log-ai", "-p", "anthropic", "-m", "claude-sonnet-4-5",
        "--prompt-tokens", "1000", "--completion-tokens", "200",
        "--cache-read-tokens", "5000", "--json",
        cwd=repo, env=env | at(T1),
    )  # fmt: skip
    assert first.exit_code == 0, first.stdout
    second = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "300",
        "--completion-tokens", "50", "-c", "0.25", "--agent", "codex", "--json",
        cwd=repo, env=env | at(T1),
    )  # fmt: skip
    assert second.exit_code == 0, second.stdout
    commit_file(repo, "src/login.py", "ok = True\n", "fix login")
    assert run_cs("end", "--json", cwd=repo, env=env | at(T2)).exit_code == 0


def outbox_size(home: Path) -> int:
    with sqlite3.connect(home / "sessions.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM event_outbox").fetchone()[0]


def nanos(stamp: str) -> int:
    from datetime import datetime

    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000_000


def test_scripted_session_sends_exact_token_metrics(run_cs, git_repo, receiver):
    enable(run_cs, receiver.endpoint)

    scripted_session(run_cs, git_repo, receiver.endpoint)

    points = receiver.metric_points("gen_ai.client.token.usage")
    shared = {
        "gen_ai.operation.name": "chat",
        "codesession.session.id": 1,
        "codesession.project": str(git_repo),
    }
    claude = {
        **shared,
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5",
        "gen_ai.agent.name": "claude-code",
    }
    gpt = {
        **shared,
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.agent.name": "codex",
    }
    summary = sorted((json.dumps(a, sort_keys=True), p.count, p.sum) for a, p in points)
    expected = sorted(
        (json.dumps({**base, "gen_ai.token.type": gt, "codesession.token.type": ct},
                    sort_keys=True), 1, total)
        for base, gt, ct, total in (
            (claude, "input", "input", 1000),
            (claude, "output", "output", 200),
            (claude, "input", "cache_read", 5000),
            (gpt, "input", "input", 300),
            (gpt, "output", "output", 50),
        )
    )  # fmt: skip
    assert summary == expected
    assert {p.time_unix_nano for _, p in points} == {nanos(T1) + 1_000_000}
    assert {p.start_time_unix_nano for _, p in points} == {nanos(T1)}


def test_scripted_session_sends_exact_cost_counter(run_cs, git_repo, receiver):
    enable(run_cs, receiver.endpoint)

    scripted_session(run_cs, git_repo, receiver.endpoint)

    points = receiver.metric_points("codesession.cost")
    costs = {a["gen_ai.response.model"]: p.as_double for a, p in points}
    # claude-sonnet-4-5: 1000 x $3 + 200 x $15 + 5000 x $0.30 per million tokens.
    assert costs == {"claude-sonnet-4-5": 0.0075, "gpt-4o": 0.25}
    request = receiver.received["/v1/metrics"][0]
    metric = request.resource_metrics[0].scope_metrics[0].metrics
    units = {m.name: m.unit for m in metric}
    assert units == {"gen_ai.client.token.usage": "{token}", "codesession.cost": "USD"}
    temporality = {m.sum.aggregation_temporality for m in metric if m.HasField("sum")}
    assert temporality == {1}  # AGGREGATION_TEMPORALITY_DELTA
    assert [m.sum.is_monotonic for m in metric if m.HasField("sum")] == [True]


def test_session_becomes_one_span_with_files_and_commits(run_cs, git_repo, receiver):
    enable(run_cs, receiver.endpoint)

    scripted_session(run_cs, git_repo, receiver.endpoint)

    [span] = receiver.spans()
    assert span.name == "codesession.session"
    assert span.start_time_unix_nano == nanos(T0)
    assert span.end_time_unix_nano == nanos(T2)
    got = attrs(span.attributes)
    head = got.pop("vcs.ref.base.revision")
    assert len(head) == 40
    assert got == {
        "codesession.session.id": 1,
        "codesession.session.name": "fix-login",
        "codesession.project": str(git_repo),
        "codesession.end_reason": "ended",
        "codesession.cost": 0.2575,
        "codesession.tokens": 6550,
        "codesession.files.count": 1,
        "codesession.files": ["src/login.py"],
        "codesession.commits.count": 1,
        "codesession.commits": [got["codesession.commits"][0]],
        "vcs.ref.head.name": "main",
    }
    assert len(got["codesession.commits"][0]) == 40


def test_calls_and_sessions_become_log_events(run_cs, git_repo, receiver):
    enable(run_cs, receiver.endpoint)

    scripted_session(run_cs, git_repo, receiver.endpoint)

    records = receiver.logs()
    names = [record.event_name for record in records]
    assert names == [
        "codesession.session.start",
        "codesession.ai_call",
        "codesession.ai_call",
        "codesession.session.end",
    ]
    claude = attrs(records[1].attributes)
    assert records[1].time_unix_nano == nanos(T1)
    assert claude == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5",
        "gen_ai.agent.name": "claude-code",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
        "codesession.usage.cache_read_tokens": 5000,
        "codesession.session.id": 1,
        "codesession.project": str(git_repo),
        "codesession.call.id": 1,
        "codesession.cost": 0.0075,
        "codesession.cost.source": "built-in",
        "codesession.estimated": False,
    }
    assert attrs(records[3].attributes)["codesession.duration_s"] == 1800


def test_resource_names_team_user_host_and_honours_otel_variables(
    run_cs, git_repo, receiver
):
    enable(run_cs, receiver.endpoint)

    scripted_session(run_cs, git_repo, receiver.endpoint)

    resources = receiver.resources()
    assert len(resources) >= 3
    for resource in resources:
        assert resource["service.name"] == "cs-test"
        assert resource["codesession.team"] == "platform"
        assert resource["user.name"] == "ada"
        assert resource["host.name"] == socket.gethostname()
        assert resource["deployment.environment"] == "test"


def test_outage_loses_nothing_and_duplicates_nothing(run_cs, git_repo, cs_home):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    enable(run_cs, endpoint)

    scripted_session(run_cs, git_repo, endpoint)
    waiting = outbox_size(cs_home)
    back = Receiver(port)
    try:
        first = run_cs(
            "otel", "flush", "--json", env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        )
        second = run_cs(
            "otel", "flush", "--json", env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        )
    finally:
        back.stop()

    assert waiting == 2 + 1 + 4  # metrics: 2 calls, traces: 1 session, logs: 4
    assert sorted((f["consumer"], f["delivered"]) for f in first.json["flushed"]) == [
        ("otel-logs", 4),
        ("otel-metrics", 2),
        ("otel-traces", 1),
    ]
    assert second.json["flushed"] == []
    assert len(back.metric_points("codesession.cost")) == 2
    assert len(back.metric_points("gen_ai.client.token.usage")) == 5
    assert len(back.spans()) == 1
    assert len(back.logs()) == 4
    assert outbox_size(cs_home) == 0


def test_later_command_delivers_once_the_back_off_has_passed(run_cs, git_repo, cs_home):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
    enable(run_cs, endpoint)
    assert run_cs("start", "s", "--json", cwd=git_repo, env=env | at(T0)).exit_code == 0
    back = Receiver(port)
    exporter._down.clear()

    try:
        soon = run_cs(
            "log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "10", "--json",
            cwd=git_repo, env=env | at(T0),
        )  # fmt: skip
        waiting_soon = outbox_size(cs_home)
        later = run_cs(
            "log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "20", "--json",
            cwd=git_repo, env=env | at(T1),
        )  # fmt: skip
    finally:
        back.stop()

    assert soon.exit_code == later.exit_code == 0
    assert waiting_soon == 2  # the logs consumer is still backing off
    assert outbox_size(cs_home) == 0
    assert [r.event_name for r in back.logs()] == [
        "codesession.session.start",
        "codesession.ai_call",
        "codesession.ai_call",
    ]
    assert len(back.metric_points("gen_ai.client.token.usage")) == 4


COMMANDS = [
    ("start", ("start", "work", "--json")),
    ("log-ai", ("log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "1000", "--json")),
    ("note", ("note", "hello", "--json")),
    ("status", ("status", "--json")),
    ("end", ("end", "--json")),
    ("show", ("show", "--json")),
]


def run_script(run_cs, repo: Path) -> list[tuple[int, str, str]]:
    results = []
    for _, argv in COMMANDS:
        result = run_cs(*argv, cwd=repo, env=at(T1))
        results.append((result.exit_code, result.stdout, result.stderr))
    return results


def test_dead_endpoint_leaves_every_command_result_unchanged(
    run_cs, git_repo, tmp_path, monkeypatch
):
    plain = run_script(run_cs, git_repo)
    monkeypatch.setenv("CODESESSION_HOME", str(tmp_path / "other-home"))
    enable(run_cs, f"http://127.0.0.1:{free_port()}")

    dead = run_script(run_cs, git_repo)

    assert [code for code, _, _ in dead] == [0] * len(COMMANDS)
    assert dead == plain


def test_backfill_sends_history_once(run_cs, git_repo, receiver):
    scripted_session(run_cs, git_repo, receiver.endpoint)
    enable(run_cs, receiver.endpoint)

    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}

    first = run_cs("otel", "backfill", "--json", env=env)
    second = run_cs("otel", "backfill", "--json", env=env)

    assert first.json["queued"] == {
        "otel-metrics": {"ai_call": 2},
        "otel-traces": {"session_end": 1},
        "otel-logs": {"ai_call": 2, "session_start": 1, "session_end": 1, "alert": 0},
    }
    assert second.json["queued"] == {
        "otel-metrics": {"ai_call": 0},
        "otel-traces": {"session_end": 0},
        "otel-logs": {"ai_call": 0, "session_start": 0, "session_end": 0, "alert": 0},
    }
    assert len(receiver.metric_points("codesession.cost")) == 2
    assert {
        p.time_unix_nano for _, p in receiver.metric_points("codesession.cost")
    } == {nanos(T1) + 1_000_000}
    assert len(receiver.spans()) == 1
    assert len(receiver.logs()) == 4


def test_backfill_skips_what_was_sent_live(run_cs, git_repo, receiver):
    enable(run_cs, receiver.endpoint)
    scripted_session(run_cs, git_repo, receiver.endpoint)

    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}

    result = run_cs("otel", "backfill", "--json", env=env)

    assert sum(sum(kinds.values()) for kinds in result.json["queued"].values()) == 0
    assert len(receiver.spans()) == 1


def test_backfill_since_sends_only_later_history(run_cs, git_repo, receiver):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    run_cs("start", "s", "--json", cwd=git_repo, env=at(T0))
    for stamp in ("2026-03-01T09:00:00.000Z", "2026-03-03T09:00:00.000Z"):
        run_cs(
            "log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "100", "--json",
            cwd=git_repo, env=env | at(stamp),
        )  # fmt: skip
    enable(run_cs, receiver.endpoint)

    result = run_cs("otel", "backfill", "--since", "2026-03-02", "--json", env=env)

    assert result.json["queued"]["otel-metrics"] == {"ai_call": 1}
    [(_, point)] = receiver.metric_points("codesession.cost")
    assert point.start_time_unix_nano == nanos("2026-03-03T09:00:00.000Z")


def test_disabled_records_nothing(run_cs, git_repo, cs_home, receiver):
    enable(run_cs, receiver.endpoint)
    run_cs("otel", "disable", "--json")

    scripted_session(run_cs, git_repo, receiver.endpoint)
    status = run_cs("otel", "status", "--json").json

    assert outbox_size(cs_home) == 0
    assert status["enabled"] is False
    assert receiver.received == {path: [] for path in REQUESTS}


def test_status_reports_endpoint_and_waiting_events(run_cs, git_repo):
    endpoint = f"http://127.0.0.1:{free_port()}"
    enable(run_cs, endpoint)
    run_cs(
        "start",
        "s",
        "--json",
        cwd=git_repo,
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
    )

    status = run_cs(
        "otel", "status", "--json", env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
    )

    assert status.exit_code == 0
    assert status.json["enabled"] is True
    assert status.json["endpoint"] == endpoint
    assert status.json["resource"]["codesession.team"] == "platform"
    logs = {c["name"]: c for c in status.json["consumers"]}["otel-logs"]
    assert logs["pending"] == 1
    assert logs["lastError"].startswith("plugin 'otel' failed: collector at")


def test_log_ai_does_not_import_opentelemetry_when_disabled(git_repo, cs_home):
    script = (
        "import sys\n"
        "from cs_core.cli import run\n"
        "run(['start', 's', '--json'])\n"
        "run(['log-ai', '-p', 'openai', '-m', 'gpt-4o', '-t', '10', '--json'])\n"
        "loaded = sorted(m for m in sys.modules if 'opentelemetry' in m)\n"
        "sys.stderr.write(str(loaded))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=git_repo, capture_output=True, text=True
    )

    assert done.returncode == 0
    assert done.stderr == "[]"


def test_budget_alert_becomes_a_warning_log_event(run_cs, git_repo, receiver):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint} | at(T1)
    enable(run_cs, receiver.endpoint)
    assert run_cs("budget", "set", "--per-session", "1", "--json").exit_code == 0
    run_cs("start", "s", "--json", cwd=git_repo, env=env)

    run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "10", "-c", "1.5", "--json",
        cwd=git_repo, env=env,
    )  # fmt: skip

    alerts = [r for r in receiver.logs() if r.event_name == "codesession.alert"]
    assert [(a.severity_number, a.severity_text) for a in alerts] == [(13, "WARN")]
    assert alerts[0].time_unix_nano == nanos(T1)
    assert attrs(alerts[0].attributes) == {
        "codesession.alert.id": 1,
        "codesession.budget.scope": "",
        "codesession.budget.period": "session",
        "codesession.budget.threshold_percent": 100.0,
        "codesession.budget.spent_usd": 1.5,
        "codesession.budget.limit_usd": 1.0,
        "codesession.session.id": 1,
    }


def test_a_silent_collector_costs_at_most_the_time_budget(run_cs, git_repo, cs_home):
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "CODESESSION_EVENTS_TIMEOUT": "1"}
    enable(run_cs, endpoint)
    run_cs("start", "s", "--json", cwd=git_repo, env=env)
    with sqlite3.connect(cs_home / "sessions.db") as conn:
        conn.execute("UPDATE event_consumers SET retry_at = NULL")
    exporter._down.clear()

    started = time.monotonic()
    result = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "10", "--json",
        cwd=git_repo, env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    silent.close()

    assert result.exit_code == 0
    assert result.json["logged"]["tokens"] == 10
    assert elapsed < 1.0 + 0.5  # the budget, plus the command's own work
    assert outbox_size(cs_home) == 3  # start's log, the call's metric and log


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("otel", "backfill"),
            "the OpenTelemetry export is not enabled",
        ),
        (
            ("otel", "enable", "--endpoint", "collector:4318"),
            "endpoint must be an http:// or https:// URL, not 'collector:4318'",
        ),
        (
            ("otel", "flush", "--timeout", "0"),
            "timeout must be more than 0 and at most 600 seconds, not 0",
        ),
        (
            ("otel", "backfill", "--since", "last week"),
            "'last week' is not an ISO-8601 date or time",
        ),
    ],
    ids=["backfill-disabled", "bad-endpoint", "zero-timeout", "bad-since"],
)
def test_invalid_input_is_refused(run_cs, receiver, argv, message):
    if argv[1] == "backfill" and "--since" in argv:
        enable(run_cs, receiver.endpoint)

    result = run_cs(*argv, "--json")

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "invalid_input"
    assert result.json["error"]["message"] == message


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-03-02T10:00:00.000Z", nanos(T0)),
        ("2026-03-02 10:00:00", nanos(T0)),
        ("2026-03-02T11:00:00+01:00", nanos(T0)),
    ],
    ids=["stored", "legacy-naive-is-utc", "offset"],
)
def test_timestamps_of_any_stored_form_are_read_as_utc(stamp, expected):
    assert exporter._nanos(stamp) == expected


def test_an_unreadable_timestamp_does_not_block_the_queue():
    assert exporter._nanos("yesterday") > nanos(T0)


def test_a_command_leaves_sending_to_a_background_process(
    run_cs, git_repo, receiver, cs_home, monkeypatch
):
    import time

    enable(run_cs, receiver.endpoint)
    monkeypatch.delenv("CODESESSION_EVENTS_INLINE")
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    run_cs("start", "s", "--json", cwd=git_repo, env=env)

    logged = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "300",
        "--completion-tokens", "50", "--json", cwd=git_repo, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        outbox_size(cs_home) or not receiver.metric_points("gen_ai.client.token.usage")
    ):
        time.sleep(0.1)

    assert logged.exit_code == 0
    points = receiver.metric_points("gen_ai.client.token.usage")
    assert sorted(p.sum for _, p in points) == [50, 300]
    assert outbox_size(cs_home) == 0
