"""The dashboard in a real browser: headless Chromium driving `cs dashboard`.

One server on realistic data (see test_dashboard_data) serves most tests; the
escaping and Start Fresh tests get their own. With CS_SCREENSHOTS=1 the page
tour writes docs/img/dashboard-*.png.
"""

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from tests.plugins.test_dashboard_data import (
    NOW,
    build_realistic,
    cs,
    git,
    start_dashboard,
)

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="needs Debian's chromium"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A Chromium context with a fresh user data dir."""
    with playwright_api.sync_playwright() as play:
        context = play.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    """A dashboard on a realistic history; yields (server, home, what was made)."""
    root = tmp_path_factory.mktemp("realistic")
    made = build_realistic(root / "home", root / "repos")
    server = start_dashboard(root / "home")
    yield server, root / "home", made
    server.stop()


class Watched:
    """A page that records console errors, page errors and dialogs."""

    def __init__(self, context):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, url):
        response = self.page.goto(url)
        assert response.status == 200, url
        return self.page

    def close(self):
        self.page.close()


@pytest.fixture
def tab(browser):
    watched = Watched(browser)
    yield watched
    watched.close()


def db(home):
    conn = sqlite3.connect(home / "sessions.db")
    conn.row_factory = sqlite3.Row
    return conn


def session_with_commits(home) -> int:
    with db(home) as conn:
        return conn.execute(
            """SELECT s.id FROM sessions s JOIN commits c ON c.session_id = s.id
            GROUP BY s.id ORDER BY COUNT(*) DESC, s.id LIMIT 1"""
        ).fetchone()[0]


PAGES = [
    ("overview", "/", "Overview"),
    ("sessions", "/-/cs/sessions", "Sessions"),
    ("models", "/-/cs/models", "Models"),
    ("insights", "/-/cs/insights", "Insights"),
    ("alerts", "/-/cs/alerts", "Alerts"),
    ("fresh", "/-/cs/fresh", "Start Fresh"),
]


def screenshot(page, name, tmp_path):
    folder = DOCS_IMG if os.environ.get("CS_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"dashboard-{name}.png"), full_page=True)


def test_every_page_from_the_sidebar_without_console_errors(realistic, tab, tmp_path):
    server, home, _ = realistic
    page = tab.goto(server.url)

    for name, path, heading in PAGES:
        page.click(f"nav.sidebar >> text={heading}")
        page.wait_for_load_state()
        assert page.url.rstrip("/").endswith(path.rstrip("/")), name
        assert page.locator("h1").first.inner_text() == heading
        assert page.locator("[data-zone]").inner_text() == "UTC"
        screenshot(page, name, tmp_path)

    session_id = session_with_commits(home)
    page = tab.goto(f"{server.url}-/cs/sessions/{session_id}")
    screenshot(page, "session", tmp_path)
    page.click("text=Diff since the session started")
    page.wait_for_load_state()
    assert page.locator(".diff pre").count() >= 1
    screenshot(page, "diff", tmp_path)
    page = tab.goto(f"{server.url}sessions")
    assert page.locator("text=Cost per model").count() == 1
    page.click("text=Cost per day (UTC)")
    page.wait_for_load_state()
    assert page.locator("table.rows-and-columns tbody tr").count() >= 10

    assert tab.errors == []


def test_overview_totals_equal_cs_stats(realistic, tab):
    server, home, _ = realistic
    stats = cs(home, home, NOW, "stats")
    page = tab.goto(server.url)

    def kpi(name):
        return page.locator(f'[data-kpi="{name}"]').first.get_attribute("data-value")

    assert float(kpi("totalAICost")) == stats["totalAICost"]
    assert int(kpi("totalSessions")) == stats["totalSessions"]
    assert int(kpi("totalTokens")) == stats["totalTokens"]
    assert int(kpi("totalCalls")) == stats["totalCalls"]
    assert int(kpi("unpricedCalls")) == stats["unpricedCalls"] == 1
    shown = page.locator('[data-kpi="totalAICost"] strong').inner_text()
    from cs_core.output import format_usd

    assert shown == format_usd(stats["totalAICost"])
    assert "1 unpriced call" in page.locator('[data-kpi="totalAICost"]').inner_text()
    today = cs(home, home, NOW, "stats", "--today")
    assert float(kpi("today")) == today["totalAICost"]
    assert "divided by the share of the month elapsed" in page.content()
    assert tab.errors == []


def _ids(page):
    rows = page.locator("#sessions-table tbody tr[data-session-id]")
    return [
        int(rows.nth(i).get_attribute("data-session-id")) for i in range(rows.count())
    ]


def test_sessions_sort_and_search(realistic, tab):
    server, home, _ = realistic
    with db(home) as conn:
        by_cost = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM sessions ORDER BY ai_cost DESC, id DESC"
            )
        ]
        by_name = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM sessions ORDER BY name COLLATE NOCASE, id DESC"
            )
        ]
        taxed = {
            r[0]
            for r in conn.execute("SELECT id FROM sessions WHERE name LIKE '%tax%'")
        }
    page = tab.goto(f"{server.url}-/cs/sessions")

    page.click('th >> [data-sort="cost"]')
    page.wait_for_load_state()
    assert _ids(page) == by_cost
    page.click('th >> [data-sort="cost"]')
    page.wait_for_load_state()
    assert _ids(page) == by_cost[::-1]
    page.click('th >> [data-sort="name"]')
    page.wait_for_load_state()
    assert _ids(page) == by_name[::-1]

    page.fill('input[name="q"]', "tax")
    page.press('input[name="q"]', "Enter")
    page.wait_for_load_state()
    assert set(_ids(page)) == taxed and taxed
    page.fill('input[name="q"]', "no such session anywhere")
    page.press('input[name="q"]', "Enter")
    page.wait_for_load_state()
    assert _ids(page) == []
    assert "No sessions match" in page.content()
    assert tab.errors == []


def test_sessions_paginate(realistic, tab):
    server, home, made = realistic
    with db(home) as conn:
        for index in range(30):
            conn.execute(
                """INSERT INTO sessions (name, start_time, working_directory, status)
                VALUES (?, '2026-10-01T10:00:00.000Z', '/tmp/p', 'completed')""",
                (f"bulk {index}",),
            )
    try:
        page = tab.goto(f"{server.url}-/cs/sessions?sort=name&dir=asc")
        first = _ids(page)
        assert len(first) == 25
        assert "Page 1 of 2" in page.content()
        page.click("text=Next →")
        page.wait_for_load_state()
        second = _ids(page)
        assert len(second) == made["sessions"] + 30 - 25
        assert not set(first) & set(second)
    finally:
        with db(home) as conn:
            conn.execute("DELETE FROM sessions WHERE name LIKE 'bulk %'")


def test_session_page_shows_its_calls_notes_commits_and_files(realistic, tab):
    server, home, _ = realistic
    session_id = session_with_commits(home)
    shown = cs(home, home, NOW, "show", str(session_id))
    with db(home) as conn:
        calls = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM ai_usage WHERE session_id = ? ORDER BY timestamp, id",
                (session_id,),
            )
        ]
        commits = conn.execute(
            "SELECT hash, message FROM commits WHERE session_id = ?", (session_id,)
        ).fetchall()
        files = [
            r[0]
            for r in conn.execute(
                "SELECT file_path FROM file_changes WHERE session_id = ?", (session_id,)
            )
        ]

    page = tab.goto(f"{server.url}-/cs/sessions/{session_id}")

    rows = page.locator("#calls-table tbody tr[data-call-id]")
    assert [
        int(rows.nth(i).get_attribute("data-call-id")) for i in range(rows.count())
    ] == calls
    assert page.locator("h1").inner_text() == shown["name"]
    timeline = page.locator("ol.timeline li")
    assert (
        timeline.count()
        == len(calls)
        + len(commits)
        + len(files)
        + page.locator("#notes-list li:not(.empty)").count()
    )
    for commit in commits:
        assert commit["message"] in page.locator("#commits-list").inner_text()
    for path in files:
        assert path in page.locator("#files-list").inner_text()

    page.click("#commits-list >> text=diff >> nth=0")
    page.wait_for_load_state()
    assert page.locator(".diff pre").count() >= 1
    assert "@@" in page.locator(".diff pre").first.inner_text()
    assert tab.errors == []


def test_models_page_lists_models_providers_and_agents(realistic, tab):
    server, home, _ = realistic
    with db(home) as conn:
        models = {r[0] for r in conn.execute("SELECT DISTINCT model FROM ai_usage")}
        agents = {
            r[0] for r in conn.execute("SELECT DISTINCT agent_name FROM ai_usage")
        }
    page = tab.goto(f"{server.url}-/cs/models")

    model_cells = page.locator(
        "#models-table tbody tr td:first-child"
    ).all_inner_texts()
    agent_cells = page.locator(
        "#agents-table tbody tr td:first-child"
    ).all_inner_texts()
    assert set(model_cells) == models
    assert set(agent_cells) == agents
    unpriced_row = page.locator("#models-table tr", has_text="gpt-internal-preview")
    assert "1 unpriced call" in unpriced_row.inner_text()
    assert "$0.00" not in unpriced_row.inner_text()
    assert tab.errors == []


def test_pricing_can_be_set_and_removed(realistic, tab):
    server, home, _ = realistic
    page = tab.goto(f"{server.url}-/cs/insights")

    page.fill('#price-form input[name="model"]', "gpt-internal-preview")
    page.fill('#price-form input[name="provider"]', "openai")
    page.fill('#price-form input[name="input"]', "1.25")
    page.fill('#price-form input[name="output"]', "10")
    page.click("#price-form button")
    page.wait_for_load_state()
    stored = json.loads((home / "pricing.json").read_text())
    listed = cs(home, home, NOW, "pricing", "list")["models"]

    assert stored["openai/gpt-internal-preview"] == {"input": "1.25", "output": "10"}
    assert listed["openai/gpt-internal-preview"]["source"] == "custom"
    assert "saved" in page.locator(".message").inner_text()

    page.fill('#price-form input[name="model"]', "bad")
    page.fill('#price-form input[name="input"]', "-1")
    page.fill('#price-form input[name="output"]', "1")
    page.click("#price-form button")
    page.wait_for_load_state()
    assert "bad" not in json.loads((home / "pricing.json").read_text())
    assert page.locator(".message-3").count() == 1

    row = page.locator(
        '#custom-pricing-table tr[data-model="openai/gpt-internal-preview"]'
    )
    row.locator("button").click()
    page.wait_for_load_state()
    assert json.loads((home / "pricing.json").read_text()) == {}
    assert tab.errors == []


def test_budgets_are_edited_in_the_shared_table(realistic, tab):
    server, home, _ = realistic
    page = tab.goto(f"{server.url}-/cs/alerts")

    page.select_option('#budget-form select[name="period"]', "daily")
    page.fill('#budget-form input[name="limit"]', "0.50")
    page.fill('#budget-form input[name="warn_at"]', "80")
    page.click("#budget-form button")
    page.wait_for_load_state()
    shown = cs(home, home, NOW, "budget", "show")

    user = [b for b in shown["budgets"] if b["origin"] == "user"]
    assert [(b["period"], b["limit"], b["warnAt"]) for b in user] == [
        ("daily", 0.5, 80)
    ]
    row = page.locator(f'#budgets-table tr[data-budget-id="{user[0]["id"]}"]')
    assert "daily" in row.inner_text()
    row.locator("button").click()
    page.wait_for_load_state()
    assert [
        b
        for b in cs(home, home, NOW, "budget", "show")["budgets"]
        if b["origin"] == "user"
    ] == []
    assert tab.errors == []


def test_alarm_mode_beeps_and_notifies_when_a_budget_is_crossed(realistic, tab):
    server, home, _ = realistic
    page = tab.page
    page.add_init_script(
        """window.__beeps = 0;
        const Real = window.AudioContext;
        window.AudioContext = class extends Real {
          createOscillator() { window.__beeps += 1; return super.createOscillator(); }
        };
        window.__notes = [];
        window.Notification = class { constructor(t, o) { window.__notes.push(o.body); }
          static get permission() { return "granted"; }
          static requestPermission() { return Promise.resolve("granted"); } };"""
    )
    tab.goto(f"{server.url}-/cs/alerts")
    page.check("#alarm-toggle")
    page.wait_for_function(
        "document.getElementById('alarm-state').textContent.includes('on')"
    )
    page.wait_for_timeout(500)  # the first poll sets the baseline
    with db(home) as conn:
        conn.execute(
            """INSERT INTO budgets (scope, period, limit_usd, created_at, updated_at)
            VALUES ('', 'total', 0.01, ?, ?)""",
            ("2026-11-20T00:00:00.000Z", "2026-11-20T00:00:00.000Z"),
        )
    try:
        page.evaluate("window.csAlarmPoll()")
        page.wait_for_function("window.__notes.length > 0", timeout=5000)
        assert page.evaluate("window.__beeps") >= 1
        assert "Budget crossed" in page.evaluate("window.__notes[0]")
    finally:
        with db(home) as conn:
            conn.execute("DELETE FROM budgets WHERE limit_usd = 0.01")
        page.uncheck("#alarm-toggle")
    assert tab.errors == []


def _xss_history(home, root):
    repo = root / "repo"
    repo.mkdir(parents=True)
    git(repo, NOW, "init", "-q", "-b", "main")
    git(repo, NOW, "commit", "-q", "--allow-empty", "-m", "init")
    for payload in XSS:
        cs(home, repo, NOW, "start", payload)
        cs(home, repo, NOW, "log-ai", "-p", "anthropic", "-m", "claude-sonnet-4",
           "--prompt-tokens", "100", "--completion-tokens", "10",
           "--agent", payload)  # fmt: skip
        cs(home, repo, NOW, "note", payload)
        (repo / payload.replace("/", "_")).write_text("x\n", encoding="utf-8")
        git(repo, NOW, "add", "-A")
        git(repo, NOW, "commit", "-q", "-m", payload)
        cs(home, repo, NOW, "end")
    return repo


def test_user_strings_are_shown_as_text(browser, tmp_path):
    home = tmp_path / "home"
    _xss_history(home, tmp_path)
    server = start_dashboard(home)
    tab = Watched(browser)
    try:
        pages = [
            "",
            "-/cs/sessions",
            "-/cs/sessions/1",
            "-/cs/sessions/2",
            "-/cs/sessions/1/diff",
            "-/cs/models",
            "-/cs/insights",
            "-/cs/alerts",
        ]
        texts = ""
        for path in pages:
            page = tab.goto(server.url + path)
            assert page.locator("main script, main img").count() == 0, path
            texts += page.locator("main").inner_text()
        assert tab.dialogs == []
        assert tab.errors == []
        for payload in XSS:
            assert payload in texts
    finally:
        tab.close()
        server.stop()


def test_start_fresh_deletes_only_after_confirming(browser, tmp_path):
    home = tmp_path / "home"
    build_realistic(home, tmp_path / "repos")
    with db(home) as conn:
        before = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    server = start_dashboard(home)
    tab = Watched(browser)
    try:
        page = tab.goto(server.url + "-/cs/fresh")
        page.click("#fresh-form button")
        page.wait_for_load_state()
        with db(home) as conn:
            assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == before
        assert "Nothing was deleted" in page.locator(".message").inner_text()
        assert not list(home.glob("sessions.backup-*.db"))

        page.fill("#fresh-confirm", "delete everything")
        page.click("#fresh-form button")
        page.wait_for_load_state()
        message = page.locator(".message").inner_text()
        backups = list(home.glob("sessions.backup-*.db"))
        assert tab.errors == []
    finally:
        tab.close()
        server.stop()

    with db(home) as conn:
        for table in (
            "sessions",
            "ai_usage",
            "file_changes",
            "commits",
            "session_notes",
        ):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    assert len(backups) == 1
    assert str(backups[0]) in message
    with sqlite3.connect(backups[0]) as copy:
        assert copy.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == before
    assert cs(home, home, NOW, "stats")["totalSessions"] == 0
    assert re.search(rf"Deleted {before} sessions", message)
