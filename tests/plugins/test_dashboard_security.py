"""B21 and the dashboard's other network rules, against a real `cs dashboard`.

Loopback only by default, Host checks against DNS rebinding, a token for any
other address (127.0.0.2 stands in for one), writes only as same-origin POSTs
with Datasette's CSRF token, `port_in_use`, and a clean stop on SIGINT/SIGTERM.
"""

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta

import httpx
import pytest

from tests.plugins.test_dashboard_data import (
    NOW,
    dashboard_env,
    free_port,
    start_dashboard,
)


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def board(home):
    server = start_dashboard(home)
    yield server
    server.stop()


def listening(port: int) -> list[str]:
    """Return the local addresses listening on `port`, as `ss` prints them."""
    done = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    )
    return [line.split()[3] for line in done.stdout.splitlines() if line.strip()]


def test_default_bind_is_loopback_only_and_url_is_loopback(board):
    port = board.info["port"]

    assert listening(port) == [f"127.0.0.1:{port}"]
    assert board.url == f"http://127.0.0.1:{port}/"
    assert board.info["host"] == "127.0.0.1"
    assert board.info["pid"] == board.proc.pid


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (None, 200),
        ("localhost:{port}", 200),
        ("attacker.example:{port}", 403),
        ("attacker.example", 403),
        ("127.0.0.1:1", 403),
        ("127.0.0.2:{port}", 403),
    ],
    ids=[
        "own-address",
        "localhost",
        "foreign",
        "foreign-no-port",
        "wrong-port",
        "other-ip",
    ],
)
def test_host_header_must_name_the_served_address(board, host, status):
    headers = {"Host": host.format(port=board.info["port"])} if host else {}

    for path in ("/", "/-/cs/sessions", "/sessions", "/-/cs/alerts/status.json"):
        response = httpx.get(board.url.rstrip("/") + path, headers=headers)
        assert response.status_code == status, path


def _csrf(client: httpx.Client, url: str) -> str:
    client.get(url)
    return client.cookies["ds_csrftoken"]


def budgets(home) -> list[tuple]:
    """Return the user's budgets (the built-in per-session warning left out)."""
    with sqlite3.connect(home / "sessions.db") as conn:
        return conn.execute(
            "SELECT scope, period, limit_usd FROM budgets WHERE origin = 'user'"
        ).fetchall()


def test_writes_need_post_same_origin_and_csrf_token(board, home):
    base = board.url.rstrip("/")
    form = {"period": "daily", "limit": "5"}

    with httpx.Client() as client:
        token = _csrf(client, base + "/-/cs/alerts")
        as_get = client.get(base + "/-/cs/budgets", params=form)
        no_token = client.post(base + "/-/cs/budgets", data=form)
        cross_site = client.post(
            base + "/-/cs/budgets",
            data={**form, "csrftoken": token},
            headers={"Origin": "http://attacker.example"},
        )
        assert budgets(home) == []
        same_site = client.post(
            base + "/-/cs/budgets",
            data={**form, "csrftoken": token},
            headers={"Origin": base},
        )

    assert as_get.status_code == 405
    assert no_token.status_code == 403
    assert cross_site.status_code == 403
    assert same_site.status_code == 302
    assert budgets(home) == [("", "daily", 5.0)]


def test_start_fresh_is_not_reachable_by_get_or_cross_site(board, home):
    base = board.url.rstrip("/")
    with httpx.Client() as client:
        token = _csrf(client, base + "/-/cs/fresh")
        get = client.get(base + "/-/cs/fresh", params={"confirm": "delete everything"})
        cross = client.post(
            base + "/-/cs/fresh",
            data={"confirm": "delete everything", "csrftoken": token},
            headers={"Origin": "http://attacker.example"},
        )

    assert get.status_code == 200
    assert cross.status_code == 403
    assert not list(home.glob("sessions.backup-*.db"))


def test_other_address_needs_the_printed_token(home):
    port = free_port()
    server = start_dashboard(home, "--host", "127.0.0.2", port=port)
    try:
        url = server.url
        assert listening(port) == [f"127.0.0.2:{port}"]
        assert url.startswith(f"http://127.0.0.2:{port}/?token=")
        token = url.split("token=", 1)[1]
        assert len(token) >= 24

        bare = httpx.get(f"http://127.0.0.2:{port}/")
        wrong = httpx.get(f"http://127.0.0.2:{port}/?token=nope")
        with httpx.Client() as client:
            first = client.get(url)
            later = client.get(f"http://127.0.0.2:{port}/-/cs/sessions")
            css = client.get(f"http://127.0.0.2:{port}/-/cs/static/cs.css")
        bearer = httpx.get(
            f"http://127.0.0.2:{port}/-/cs/models",
            headers={"Authorization": f"Bearer {token}"},
        )
        foreign = httpx.get(url, headers={"Host": f"attacker.example:{port}"})
    finally:
        server.stop()

    assert bare.status_code == 401
    assert wrong.status_code == 401
    assert first.status_code == 200
    assert later.status_code == 200
    assert css.status_code == 200
    assert bearer.status_code == 200
    assert foreign.status_code == 403


def test_other_address_prints_a_warning(home):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cs_core", "dashboard", "--no-open", "--host",
         "127.0.0.2", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dashboard_env(home),
        text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        warning = proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        proc.stdout.close()
        proc.stderr.close()

    assert line.startswith(f"Dashboard: http://127.0.0.2:{port}/?token=")
    assert "reachable from other machines" in warning
    assert "token" in warning


def test_wildcard_address_prints_a_usable_url(home):
    from cs_core.commands.dashboard import dashboard_url

    assert dashboard_url("0.0.0.0", 8766, "abc") == "http://127.0.0.1:8766/?token=abc"
    assert dashboard_url("::", 8766, "abc") == "http://[::1]:8766/?token=abc"
    assert dashboard_url("127.0.0.1", 8766, None) == "http://127.0.0.1:8766/"


def test_port_in_use_is_reported(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "cs_core", "dashboard", "--no-open", "--json",
             "--port", str(port)],
            capture_output=True, text=True, env=dashboard_env(home), timeout=60,
        )  # fmt: skip

    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "port_in_use"
    assert str(port) in error["message"]


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"]
)
def test_stops_cleanly_on_signal(home, sig):
    server = start_dashboard(home)
    port = server.info["port"]

    code = server.stop(sig)

    assert code == 0
    assert listening(port) == []


def _get_when_up(proc, url):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "datasette exited"
        try:
            return httpx.get(url)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("datasette did not start")


def test_plain_datasette_on_other_databases_keeps_its_home_page(tmp_path, home):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE birds (name TEXT)")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(other), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dashboard_env(home),
    )  # fmt: skip
    try:
        index = _get_when_up(proc, f"http://127.0.0.1:{port}/")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)

    assert index.status_code == 200
    assert "other" in index.text
    assert "<h1>Overview</h1>" not in index.text


def test_plain_datasette_shows_the_dashboard(home):
    start_dashboard(home).stop()  # creates and migrates the database
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(home / "sessions.db"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dashboard_env(home),
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        overview = _get_when_up(proc, base + "/")
        database = httpx.get(base + "/sessions")
        foreign = httpx.get(base + "/", headers={"Host": "attacker.example"})
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)

    assert overview.status_code == 200
    assert "<h1>Overview</h1>" in overview.text
    assert "Cost per model" in database.text
    assert foreign.status_code == 403


class FakeDashboard:
    """Records how `cs dashboard` calls a registered dashboard."""

    name = "fake"

    def __init__(self):
        self.calls = []

    def serve(self, db_path, *, host, port, token):
        self.calls.append(
            {"db_path": db_path, "host": host, "port": port, "token": token}
        )


def test_hook_register_dashboards(run_cs, monkeypatch, cs_home):
    from cs_core import hookimpl
    from cs_core import plugins as plugin_module

    bundled = plugin_module.dashboards()
    assert list(bundled.items) == ["datasette"]
    assert bundled.owners["datasette"] == "dashboard"

    monkeypatch.setenv("CS_LOAD_PLUGINS", "git")
    plugin_module._pm = None
    fake = FakeDashboard()

    class Plugin:
        @hookimpl
        def register_dashboards(self, register):
            register(fake)

    plugin_module.get_plugin_manager().register(Plugin(), name="fake")
    result = run_cs(
        "dashboard", "--no-open", "--json", "--host", "127.0.0.2", "--port", "0"
    )

    assert result.exit_code == 0, result.stdout
    printed = result.json
    [call] = fake.calls
    assert call["db_path"] == str(cs_home / "sessions.db")
    assert call["host"] == printed["host"] == "127.0.0.2"
    assert call["port"] == printed["port"] > 0
    assert printed["url"] == f"http://127.0.0.2:{call['port']}/?token={call['token']}"
    assert "reachable from other machines" in result.stderr


def test_no_dashboard_plugin_is_a_plugin_error(run_cs, monkeypatch):
    monkeypatch.setenv("CS_LOAD_PLUGINS", "git")

    result = run_cs("dashboard", "--no-open", "--json", "--port", "0")

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "plugin_error"


def test_days_follow_the_timezone_option(tmp_path):
    from tests.plugins.test_dashboard_data import cs, git

    home, repo = tmp_path / "home", tmp_path / "repo"
    repo.mkdir()
    git(repo, NOW, "init", "-q", "-b", "main")
    cs(home, repo, NOW - timedelta(days=2), "start", "late night")
    for at, cost in (
        ("2026-11-19T18:15:00+00:00", "0.25"),
        ("2026-11-19T18:45:00+00:00", "0.5"),
    ):
        moment = datetime.fromisoformat(at)
        cs(home, repo, moment, "log-ai", "-p", "openai", "-m", "gpt-4o", "-t", "100",
           "-c", cost)  # fmt: skip
    server = start_dashboard(home, "--timezone", "Asia/Kolkata")
    try:
        page = httpx.get(server.url).text
    finally:
        server.stop()

    # 18:15 UTC is 23:45 on the 19th in Kolkata (+5:30), 18:45 UTC is 00:15 on the 20th.
    assert "Times in <strong data-zone>Asia/Kolkata</strong>" in page
    assert "<title>11-19: $0.25</title>" in page
    assert "<title>11-20: $0.50</title>" in page
    assert 'data-kpi="today" data-value="0.5"' in page


def test_opens_the_browser_unless_told_not_to(tmp_path, home):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    env = {**dashboard_env(home), "DISPLAY": ":99", "BROWSER": f"{browser} %s"}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cs_core", "dashboard", "--json", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )  # fmt: skip
    try:
        url = json.loads(proc.stdout.readline())["url"]
        deadline = time.monotonic() + 15
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        page = httpx.get(url)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        proc.stdout.close()

    assert opened.read_text(encoding="utf-8").split() == [url]
    assert page.status_code == 200
