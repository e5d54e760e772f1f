"""The bundled alert sinks (plugin `alerts`): terminal, webhook and command,
against real servers on 127.0.0.1 and real processes."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cs_alerts.command import CommandSink
from cs_alerts.terminal import TerminalSink
from cs_alerts.webhook import WebhookSink
from cs_core import InvalidInputError, plugins

ALERT = {
    "id": 1,
    "code": "budget_exceeded",
    "message": "daily budget exceeded: $1.00 spent of $1.00 (2025-07-01)",
    "thresholdPercent": 100,
}


class Hook:
    """A webhook receiver: answers with the queued statuses, then 204."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.statuses: list[int] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.statuses.pop(0) if hook.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    receiver = Hook()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()
    thread.join()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


def test_hook_register_alert_sinks() -> None:
    registry = plugins.alert_sinks()

    assert {kind: registry.owners[kind] for kind in registry.items} == {
        "terminal": "alerts",
        "webhook": "alerts",
        "command": "alerts",
    }


def test_webhook_posts_the_alert(hook) -> None:
    receiver, url = hook

    WebhookSink().send(ALERT, {"target": url, "timeout": 2})

    assert receiver.bodies == [ALERT]


def test_webhook_retries_a_server_error(hook) -> None:
    receiver, url = hook
    receiver.statuses = [503, 500]

    WebhookSink().send(ALERT, {"target": url, "timeout": 5})

    assert len(receiver.bodies) == 3


def test_webhook_does_not_retry_a_refusal(hook) -> None:
    receiver, url = hook
    receiver.statuses = [404]

    with pytest.raises(RuntimeError, match="refused the alert: HTTP 404"):
        WebhookSink().send(ALERT, {"target": url, "timeout": 2})
    assert len(receiver.bodies) == 1


def test_webhook_to_a_closed_port_fails_fast() -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    started = time.monotonic()

    with pytest.raises(RuntimeError, match="ConnectError"):
        WebhookSink().send(ALERT, {"target": url, "timeout": 3})
    assert time.monotonic() - started < 1.5


def test_webhook_timeout_bounds_every_attempt_together(silent_server: str) -> None:
    started = time.monotonic()

    with pytest.raises(RuntimeError, match="Timeout"):
        WebhookSink().send(ALERT, {"target": silent_server, "timeout": 0.5})
    assert 0.4 < time.monotonic() - started < 1.2


@pytest.mark.parametrize(
    "url", ["ftp://x/", "127.0.0.1:80", "http://"], ids=["ftp", "no-scheme", "no-host"]
)
def test_webhook_validates_its_url(url: str) -> None:
    with pytest.raises(InvalidInputError, match="http:// or https://"):
        WebhookSink().validate(url)


def test_command_gets_the_alert_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"

    CommandSink().send(ALERT, {"target": f"cat > '{out}'"})

    assert json.loads(out.read_text()) == ALERT


def test_command_failure_is_reported() -> None:
    with pytest.raises(RuntimeError, match="exited with status 3"):
        CommandSink().send(ALERT, {"target": "exit 3"})


def test_command_timeout_kills_what_it_started(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    started = time.monotonic()

    with pytest.raises(RuntimeError, match=r"timed out after 0\.3 s"):
        CommandSink().send(
            ALERT, {"target": f"sleep 2; touch '{marker}'", "timeout": 0.3}
        )
    elapsed = time.monotonic() - started
    time.sleep(2.2)

    assert elapsed < 1.5
    assert not marker.exists()


def test_command_must_not_be_empty() -> None:
    with pytest.raises(InvalidInputError, match="must not be empty"):
        CommandSink().validate("  ")


def test_terminal_writes_one_line_on_stderr(capsys) -> None:
    TerminalSink().send(ALERT, {})

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"Warning: {ALERT['message']}\n"
