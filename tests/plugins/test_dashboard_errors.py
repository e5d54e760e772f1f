"""Error pages, strict `--port` and CSRF proof for writes, against a real server.

QA found 404s printing rich tracebacks to stdout (after the `--json` line),
some unknown paths answering 500, `--port 1.5` listening on port 2, and
cookie-less POSTs without Origin changing data.
"""

import asyncio
import signal
import sqlite3

import httpx
import pytest

from tests.plugins.test_dashboard_data import start_dashboard

UNKNOWN_PATHS = [
    "/nonexistent",
    "/nonexistent.json",
    "/-/cs/sessions/abc",
    "/-/cs/sessions/999",
    "/-/cs/sessions/999/diff",
    "/-/cs/api/sessions",
    "/-/cs/x/y/z",
    "/-/cs/static/nothing.css",
    "/sessions/no_such_table",
]


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def board(home):
    server = start_dashboard(home)
    yield server
    server.stop()


def test_unknown_paths_are_quiet_404s(board):
    base = board.url.rstrip("/")

    answers = {path: httpx.get(base + path) for path in UNKNOWN_PATHS}

    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(
        UNKNOWN_PATHS, 404
    )
    assert answers["/nonexistent.json"].json()["status"] == 404
    assert "Error 404" in answers["/-/cs/x/y/z"].text


def test_json_mode_prints_only_the_document_even_after_errors(home):
    server = start_dashboard(home)
    base = server.url.rstrip("/")
    for path in UNKNOWN_PATHS:
        httpx.get(base + path)
    server.proc.send_signal(signal.SIGINT)
    stdout, stderr = server.proc.communicate(timeout=15)

    assert server.proc.returncode == 0
    assert stdout == ""  # the JSON line was read by start_dashboard
    assert "Traceback" not in stderr
    assert "locals" not in stderr


def test_unexpected_errors_are_500_pages_and_logged(capsys, caplog):
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

    from cs_dashboard.web import errors

    async def answer():
        datasette = Datasette([])
        await datasette.invoke_startup()
        request = Request.fake("/-/cs/sessions")
        try:
            raise RuntimeError("secret detail /home/me")
        except RuntimeError as exc:
            return await errors.respond(datasette, request, exc)

    response = asyncio.run(answer())
    captured = capsys.readouterr()

    assert response.status == 500
    assert "secret detail" not in response.body
    assert captured.out == ""
    assert "secret detail" in caplog.text  # a log record: stderr when served


@pytest.mark.parametrize(
    "port",
    ["1.5", "2.0", "-1", "65536", "abc", "", "0x10", "1e3"],
    ids=[
        "fraction",
        "float-whole",
        "negative",
        "too-big",
        "word",
        "empty",
        "hex",
        "exp",
    ],
)
def test_port_must_be_a_whole_number_in_range(run_cs, port):
    result = run_cs("dashboard", "--no-open", "--json", "--port", port)

    assert result.exit_code == 1
    error = result.json["error"]
    assert error["code"] == "invalid_input"
    assert repr(port) in error["message"]


def _budget_count(home) -> int:
    with sqlite3.connect(home / "sessions.db") as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM budgets WHERE origin = 'user'"
        ).fetchone()[0]


def _add_budget(client: httpx.Client, base: str, home) -> str:
    token = _token(client, base)
    response = client.post(
        base + "/-/cs/budgets",
        data={"period": "daily", "limit": "5", "csrftoken": token},
        headers={"Origin": base},
    )
    assert response.status_code == 302
    with sqlite3.connect(home / "sessions.db") as conn:
        (budget_id,) = conn.execute(
            "SELECT id FROM budgets WHERE origin = 'user'"
        ).fetchone()
    return str(budget_id)


def _token(client: httpx.Client, base: str) -> str:
    client.get(base + "/-/cs/alerts")
    return client.cookies["ds_csrftoken"]


REFUSED = [
    ({}, False, False),
    ({"Referer": "http://evil.com/"}, False, False),
    ({"Referer": "http://evil.com/"}, True, True),
    ({"Sec-Fetch-Site": "cross-site"}, True, True),
    ({"Sec-Fetch-Site": "same-site"}, True, True),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "{base}"}, True, True),
    ({"Origin": "null"}, True, True),
    ({}, True, False),
    ({}, False, True),
]


@pytest.mark.parametrize(
    ("headers", "cookie", "token"),
    REFUSED,
    ids=[
        "bare-curl",
        "foreign-referer",
        "foreign-referer-with-token",
        "fetch-cross-site",
        "fetch-same-site",
        "fetch-cross-site-own-origin",
        "null-origin",
        "cookie-without-token",
        "token-without-cookie",
    ],
)
def test_writes_that_cannot_prove_same_origin_are_refused(
    board, home, headers, cookie, token
):
    base = board.url.rstrip("/")
    with httpx.Client() as client:
        budget_id = _add_budget(client, base, home)
        csrf = client.cookies["ds_csrftoken"]
        form = {"action": "delete", "id": budget_id}
        if token:
            form["csrftoken"] = csrf
        sent = {name: value.format(base=base) for name, value in headers.items()}
        if cookie:
            sent["Cookie"] = f"ds_csrftoken={csrf}"
        response = httpx.post(base + "/-/cs/budgets", data=form, headers=sent)

    assert response.status_code == 403
    assert _budget_count(home) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Referer": "{base}/-/cs/alerts"}, {"Sec-Fetch-Site": "same-origin"}],
    ids=["token-only", "own-referer", "fetch-same-origin"],
)
def test_writes_with_token_from_own_pages_are_accepted(board, home, headers):
    base = board.url.rstrip("/")
    with httpx.Client() as client:
        budget_id = _add_budget(client, base, home)
        csrf = client.cookies["ds_csrftoken"]
        sent = {name: value.format(base=base) for name, value in headers.items()}
        response = client.post(
            base + "/-/cs/budgets",
            data={"action": "delete", "id": budget_id, "csrftoken": csrf},
            headers=sent,
        )

    assert response.status_code == 302
    assert _budget_count(home) == 0


def test_forged_token_without_signature_is_refused(board, home):
    base = board.url.rstrip("/")
    with httpx.Client() as client:
        budget_id = _add_budget(client, base, home)
    response = httpx.post(
        base + "/-/cs/budgets",
        data={"action": "delete", "id": budget_id, "csrftoken": "forged"},
        headers={"Cookie": "ds_csrftoken=forged"},
    )

    assert response.status_code == 403
    assert _budget_count(home) == 1
