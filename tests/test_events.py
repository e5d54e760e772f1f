"""The event outbox: recording with the write, delivering to sinks, backfill."""

from collections.abc import Sequence

import pytest

from cs_core import Event, events, hookimpl
from cs_core.db import connect, transaction
from cs_core.plugins import get_plugin_manager

T0 = "2026-03-02T10:00:00.000Z"
T1 = "2026-03-02T10:05:00.000Z"


class FakeSink:
    """A sink that records what it is given, or fails when told to."""

    def __init__(self, name: str = "fake", kinds: tuple[str, ...] = events.KINDS):
        self.name = name
        self.kinds = kinds
        self.batches: list[list[Event]] = []
        self.fail = False

    def deliver(self, events: Sequence[Event], timeout_s: float) -> None:
        if self.fail:
            raise ConnectionError("collector is down")
        self.batches.append(list(events))

    @property
    def kinds_seen(self) -> list[str]:
        return [event.kind for batch in self.batches for event in batch]


class FakePlugin:
    def __init__(self, sink: FakeSink) -> None:
        self.sink = sink

    @hookimpl
    def register_event_sinks(self, register) -> None:
        register(self.sink)


@pytest.fixture
def sink():
    """A fake sink registered as plugin `fake`, unregistered afterwards."""
    fake = FakeSink()
    plugin = FakePlugin(fake)
    get_plugin_manager().register(plugin, name="fake")
    yield fake
    get_plugin_manager().unregister(plugin)


@pytest.fixture
def conn():
    connection = connect()
    yield connection
    connection.close()


def pending(conn) -> list[tuple[str, str]]:
    return [
        (row["consumer"], row["kind"])
        for row in conn.execute("SELECT consumer, kind FROM event_outbox ORDER BY id")
    ]


def start_and_log(run_cs, repo, stamp: str = T0) -> None:
    env = {"CODESESSION_NOW": stamp}
    assert run_cs("start", "s", "--json", cwd=repo, env=env).exit_code == 0
    logged = run_cs(
        "log-ai", "-p", "openai", "-m", "gpt-4o", "--prompt-tokens", "100",
        "--completion-tokens", "10", "--agent", "codex", "--json",
        cwd=repo, env=env,
    )  # fmt: skip
    assert logged.exit_code == 0, logged.stdout


def test_hook_register_event_sinks(sink, conn, run_cs, git_repo):
    events.enable_consumer(conn, "fake", events.KINDS)

    start_and_log(run_cs, git_repo)

    assert sink.kinds_seen == ["session_start", "ai_call"]
    call = sink.batches[1][0].payload
    assert {key: call[key] for key in ("id", "provider", "model", "tokens")} == {
        "id": 1,
        "provider": "openai",
        "model": "gpt-4o",
        "tokens": 110,
    }
    assert call["agent_name"] == "codex"
    assert call["timestamp"] == T0
    assert call["session"]["name"] == "s"
    assert call["session"]["project_root"] == str(git_repo)
    assert pending(conn) == []


def test_nothing_is_recorded_without_an_enabled_consumer(sink, conn, run_cs, git_repo):
    start_and_log(run_cs, git_repo)

    assert sink.batches == []
    assert pending(conn) == []


def test_only_the_kinds_a_consumer_wants_are_queued(sink, conn, run_cs, git_repo):
    events.enable_consumer(conn, "fake", ["session_end"])

    start_and_log(run_cs, git_repo)
    run_cs("end", "--json", cwd=git_repo)

    assert sink.kinds_seen == ["session_end"]
    assert sink.batches[0][0].payload["ai_cost"] == pytest.approx(0.00035)


def test_event_rolls_back_with_the_write_that_caused_it(conn):
    events.enable_consumer(conn, "fake", events.KINDS)

    with pytest.raises(RuntimeError), transaction(conn):
        events.record(conn, "alert", {"id": 1}, ref=1)
        raise RuntimeError("the write failed")

    assert pending(conn) == []
    assert conn.execute("SELECT COUNT(*) FROM event_ledger").fetchone()[0] == 0


def test_failed_delivery_keeps_events_and_backs_off(
    sink, conn, run_cs, git_repo, monkeypatch
):
    events.enable_consumer(conn, "fake", events.KINDS)
    sink.fail = True
    start_and_log(run_cs, git_repo)
    sink.fail = False
    monkeypatch.setenv("CODESESSION_NOW", T0)

    waiting = events.deliver(conn)
    forced = events.deliver(conn, force=True)

    assert [(w.consumer, w.skipped) for w in waiting] == [
        ("fake", "backing off after a failure until 2026-03-02T10:00:05.000Z")
    ]
    assert [(f.consumer, f.delivered, f.error) for f in forced] == [("fake", 2, None)]
    assert sink.kinds_seen == ["session_start", "ai_call"]
    row = events.consumer(conn, "fake")
    assert (row["failures"], row["last_error"], row["pending"]) == (0, None, 0)


def test_failure_is_recorded_with_a_growing_back_off(sink, conn, monkeypatch):
    monkeypatch.setenv("CODESESSION_NOW", T0)
    events.enable_consumer(conn, "fake", events.KINDS)
    with transaction(conn):
        events.record(conn, "alert", {"id": 7})
    sink.fail = True

    first = events.deliver(conn, force=True)
    second = events.deliver(conn, force=True)

    assert first[0].error == "plugin 'fake' failed: collector is down"
    assert second[0].error == first[0].error
    row = events.consumer(conn, "fake")
    assert (row["failures"], row["retry_at"], row["pending"]) == (
        2,
        "2026-03-02T10:00:10.000Z",
        1,
    )


def test_a_leased_consumer_is_left_to_its_holder(sink, conn):
    events.enable_consumer(conn, "fake", events.KINDS)
    with transaction(conn):
        events.record(conn, "alert", {"id": 7})
        conn.execute("UPDATE event_consumers SET lease_until = '9999-01-01T00:00:00Z'")

    result = events.deliver(conn)

    assert [(r.consumer, r.skipped) for r in result] == [
        ("fake", "another process is delivering")
    ]
    assert sink.batches == []


def test_deliver_inside_a_transaction_does_nothing(sink, conn):
    events.enable_consumer(conn, "fake", events.KINDS)
    with transaction(conn):
        events.record(conn, "alert", {"id": 7})
        result = events.deliver(conn)

    assert result == []
    assert sink.batches == []


def test_disabled_consumer_keeps_its_waiting_events(sink, conn):
    events.enable_consumer(conn, "fake", events.KINDS)
    with transaction(conn):
        events.record(conn, "alert", {"id": 7})
    events.disable_consumer(conn, "fake")

    with transaction(conn):
        events.record(conn, "alert", {"id": 8})
    skipped = events.deliver(conn)
    events.enable_consumer(conn, "fake", events.KINDS)
    delivered = events.deliver(conn)

    assert skipped == []
    assert [d.delivered for d in delivered] == [1]
    assert sink.batches[0][0].payload == {"id": 7}


def test_backfill_queues_history_once(sink, conn, run_cs, git_repo):
    start_and_log(run_cs, git_repo)
    run_cs("end", "--json", cwd=git_repo, env={"CODESESSION_NOW": T1})
    events.enable_consumer(conn, "fake", events.KINDS)

    first = events.backfill(conn, "fake")
    second = events.backfill(conn, "fake")

    assert first == {"ai_call": 1, "session_start": 1, "session_end": 1, "alert": 0}
    assert second == {"ai_call": 0, "session_start": 0, "session_end": 0, "alert": 0}
    assert [kind for _, kind in pending(conn)] == [
        "ai_call",
        "session_start",
        "session_end",
    ]


def test_backfill_needs_an_enabled_consumer(conn):
    from cs_core import InvalidInputError

    with pytest.raises(InvalidInputError, match="'fake' is not enabled"):
        events.backfill(conn, "fake")


def test_unknown_kinds_are_refused(conn):
    from cs_core import InvalidInputError

    with pytest.raises(InvalidInputError, match="unknown event kinds"):
        events.enable_consumer(conn, "fake", ["ai_call", "coffee"])


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", 1.5), ("0.25", 0.25), ("abc", 1.5), ("-3", 0.0), ("999", 60.0)],
    ids=["default", "set", "not-a-number", "negative", "capped"],
)
def test_budget_comes_from_the_environment(monkeypatch, text, seconds):
    monkeypatch.setenv(events.TIMEOUT_ENV, text)

    assert events.budget_s() == seconds
