"""The dashboard's pages: one async view per route.

Reads run in Datasette's worker threads through `execute_fn`; writes go through
`execute_write_fn` and only on POST, where Datasette has checked the CSRF token.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datasette import NotFound, Response
from datasette.app import Datasette
from datasette.database import Database
from datasette.utils.asgi import Request

from cs_core import CsError, display_zone, now

from . import actions, charts, prices, queries

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
NAV = (
    ("overview", "Overview", "/"),
    ("sessions", "Sessions", "/-/cs/sessions"),
    ("models", "Models", "/-/cs/models"),
    ("insights", "Insights", "/-/cs/insights"),
    ("alerts", "Alerts", "/-/cs/alerts"),
    ("fresh", "Start Fresh", "/-/cs/fresh"),
)
_db_names: dict[int, str] = {}
_splits: dict[str, str | None] = {}


async def cs_database(datasette: Datasette) -> Database:
    """Return the attached database that holds codesession's tables."""
    known = _db_names.get(id(datasette))
    if known in datasette.databases:
        return datasette.databases[known]
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if {"sessions", "ai_usage"} <= set(await db.table_names()):
            _db_names[id(datasette)] = name
            return db
    raise NotFound("No codesession database is attached.")


def _with_rows(fn: Callable[..., Any], args: tuple[Any, ...]) -> Callable[..., Any]:
    """Wrap `fn(conn, *args)` to run with dict-like rows on Datasette's connection."""

    def call(conn: sqlite3.Connection) -> Any:
        factory = conn.row_factory
        conn.row_factory = sqlite3.Row
        try:
            return fn(conn, *args)
        finally:
            conn.row_factory = factory

    return call


async def read(datasette: Datasette, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(conn, *args)` on a read connection, in a worker thread."""
    db = await cs_database(datasette)
    return await db.execute_fn(_with_rows(fn, args))


async def write(datasette: Datasette, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(conn, *args)` on the write connection."""
    db = await cs_database(datasette)
    return await db.execute_write_fn(_with_rows(fn, args), block=True)


async def page(
    datasette: Datasette, request: Request, template: str, active: str, **context: Any
) -> Response:
    """Render one dashboard page inside the sidebar layout."""
    db = await cs_database(datasette)
    _, zone_name = display_zone()
    html = await datasette.render_template(
        template,
        {
            **context,
            "nav": NAV,
            "active": active,
            "zone_name": zone_name,
            "database_name": db.name,
        },
        request=request,
    )
    return Response.html(html)


async def overview(datasette: Datasette, request: Request) -> Response:
    """The Overview page: KPIs, trends, projection, velocity."""
    zone, _ = display_zone()
    moment = now()
    # Independent scans run side by side on Datasette's read connections.
    totals, recent, trend = await asyncio.gather(
        read(datasette, queries.totals),
        read(datasette, queries.recent, zone, moment),
        read(datasette, queries.daily_trend, zone, moment),
    )
    labels = [day["day"][5:] for day in trend]
    return await page(
        datasette,
        request,
        "cs_overview.html",
        "overview",
        data={**totals, **recent, "trend": trend},
        cost_chart=charts.columns(labels, [day["cost"] for day in trend]),
        token_chart=charts.line(labels, [day["tokens"] for day in trend]),
    )


async def sessions(datasette: Datasette, request: Request) -> Response:
    """The Sessions table: search, sort and pages."""
    query = request.args.get("q", "").strip()[:200]
    sort = request.args.get("sort", "start")
    sort = sort if sort in queries.SORTS else "start"
    descending = request.args.get("dir", "desc") != "asc"
    try:
        number = int(request.args.get("page", "1"))
    except ValueError:
        number = 1
    data = await read(datasette, queries.sessions_page, query, sort, descending, number)
    return await page(
        datasette,
        request,
        "cs_sessions.html",
        "sessions",
        data=data,
        q=query,
        sort=sort,
        descending=descending,
    )


async def session(datasette: Datasette, request: Request) -> Response:
    """One session: timeline, calls, notes, files and commits."""
    session_id = int(request.url_vars["id"])
    data = await read(datasette, queries.session_page, session_id)
    if data is None:
        raise NotFound(f"Session {session_id} not found.")
    return await page(datasette, request, "cs_session.html", "sessions", data=data)


async def session_diff(datasette: Datasette, request: Request) -> Response:
    """A session's diff since it started, or one commit's, read from git now."""
    from .diffs import session_diff as build

    session_id = int(request.url_vars["id"])
    commit = request.args.get("commit") or None
    data = await read(datasette, queries.session_page, session_id)
    if data is None:
        raise NotFound(f"Session {session_id} not found.")
    if commit and commit not in {row["hash"] for row in data["commits"]}:
        raise NotFound("That commit is not one of this session's.")
    diff = await asyncio.to_thread(build, data["session"], commit)  # runs git
    return await page(
        datasette,
        request,
        "cs_diff.html",
        "sessions",
        data=data,
        diff=diff,
        commit=commit,
    )


async def models(datasette: Datasette, request: Request) -> Response:
    """Cost, tokens and calls per model, provider and agent."""
    # Any split point gives the same sums; finding a balanced one costs a
    # scan, so it is found once per database and kept.
    db = await cs_database(datasette)
    if db.path not in _splits:
        _splits[db.path] = await read(datasette, queries.model_split)
    split = _splits[db.path]
    if split is None:
        groups = await read(datasette, queries.usage_groups)
    else:  # a big table: two threads add up one half each
        halves = await asyncio.gather(
            read(datasette, queries.usage_groups, None, split),
            read(datasette, queries.usage_groups, split, None),
        )
        groups = [*halves[0], *halves[1]]
    by_model = queries.roll_up(groups, "model", "provider")
    by_provider = queries.roll_up(groups, "provider")
    by_agent = queries.roll_up(groups, "agent")
    priced = [row for row in by_model if row["cost"] or not row["unpriced"]]
    chart = charts.hbars([(row["model"], row["cost"]) for row in priced[:12]])
    token_chart = charts.hbars([(row["model"], row["tokens"]) for row in by_model[:12]])
    return await page(
        datasette,
        request,
        "cs_models.html",
        "models",
        by_model=by_model,
        by_provider=by_provider,
        by_agent=by_agent,
        chart=chart,
        token_chart=token_chart,
    )


async def insights(datasette: Datasette, request: Request) -> Response:
    """Hotspots, heatmap, projects and the editable pricing table."""
    zone, _ = display_zone()
    hotspots, heat, projects, price_rows = await asyncio.gather(
        read(datasette, queries.hotspots),
        read(datasette, queries.heatmap, zone, now()),
        read(datasette, queries.projects),
        asyncio.to_thread(prices.price_rows),
    )
    return await page(
        datasette,
        request,
        "cs_insights.html",
        "insights",
        data={"hotspots": hotspots, "heatmap": heat, "projects": projects},
        cells=charts.heat_cells(heat["grid"], heat["max"]),
        prices=price_rows,
        refused=prices.refused_prices(),
    )


async def pricing_post(datasette: Datasette, request: Request) -> Response:
    """Set or remove a user price (POST only)."""
    form = dict(await request.post_vars())
    try:
        if form.get("action") == "remove":
            removed = prices.remove_price(form.get("key", ""))
            message = "Price removed." if removed else "No such user price."
        else:
            message = f"Price for {prices.set_price(form)} saved."
        datasette.add_message(request, message, datasette.INFO)
    except CsError as exc:
        datasette.add_message(request, exc.message, datasette.ERROR)
    return Response.redirect("/-/cs/insights#pricing")


def _alerts(conn: sqlite3.Connection, zone: Any, moment: Any) -> dict[str, Any]:
    return {
        "budgets": queries.budget_status(conn, zone, moment),
        "events": queries.alert_events(conn),
        "last_event": queries.last_event_id(conn),
    }


async def alerts(datasette: Datasette, request: Request) -> Response:
    """Budgets, their current spend, the alerts that fired, and alarm mode."""
    zone, _ = display_zone()
    data = await read(datasette, _alerts, zone, now())
    return await page(datasette, request, "cs_alerts.html", "alerts", data=data)


async def alerts_status(datasette: Datasette, request: Request) -> Response:
    """What alarm mode polls: each budget's state and the newest alert id."""
    zone, _ = display_zone()
    data = await read(datasette, _alerts, zone, now())
    return Response.json(
        {
            "lastEventId": data["last_event"],
            "budgets": [
                {
                    "id": budget["id"],
                    "period": budget["period"],
                    "scope": budget["scope"],
                    "spent": budget["spent"],
                    "limit": budget["limit_usd"],
                    "percent": budget["percent"],
                    "over": budget["over"],
                    "warned": budget["warned"],
                }
                for budget in data["budgets"]
            ],
        }
    )


async def budgets_post(datasette: Datasette, request: Request) -> Response:
    """Add, change or delete a budget (POST only)."""
    form = dict(await request.post_vars())
    try:
        if form.get("action") == "delete":
            await write(datasette, actions.delete_budget, int(form.get("id", "0")))
            datasette.add_message(request, "Budget deleted.", datasette.INFO)
        else:
            await write(datasette, actions.save_budget, actions.parse_budget(form))
            datasette.add_message(request, "Budget saved.", datasette.INFO)
    except (CsError, ValueError) as exc:
        message = getattr(exc, "message", "Invalid budget id.")
        datasette.add_message(request, message, datasette.ERROR)
    return Response.redirect("/-/cs/alerts")


async def fresh(datasette: Datasette, request: Request) -> Response:
    """Start Fresh: a confirmation form (GET) and the reset itself (POST)."""
    db = await cs_database(datasette)
    if request.method == "POST":
        form = dict(await request.post_vars())
        if form.get("confirm") != "delete everything":
            datasette.add_message(
                request, "Nothing was deleted: type the confirmation.", datasette.ERROR
            )
            return Response.redirect("/-/cs/fresh")
        backup, removed = await write(datasette, actions.start_fresh, db.path)
        datasette.add_message(
            request,
            f"Deleted {removed} sessions. A copy of the database from before "
            f"the reset is in {backup}.",
            datasette.INFO,
        )
        return Response.redirect("/-/cs/fresh")
    counts = await read(datasette, _counts)
    return await page(
        datasette, request, "cs_fresh.html", "fresh", counts=counts, db_path=db.path
    )


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in actions.RESET_TABLES
    }


async def static(request: Request) -> Response:
    """Serve the dashboard's own CSS and JavaScript."""
    name = request.url_vars["path"]
    path = STATIC / name
    if path.parent != STATIC or not path.is_file():
        raise NotFound("No such file.")
    return Response(
        path.read_text(encoding="utf-8"),
        content_type=STATIC_TYPES.get(path.suffix, "text/plain") + "; charset=utf-8",
        headers={"cache-control": "max-age=300"},
    )


def only_post(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse anything but POST: a GET must never change data."""

    async def posted(datasette: Datasette, request: Request) -> Response:
        if request.method != "POST":
            return Response.text("This address only accepts POST.\n", status=405)
        return await view(datasette, request)

    return posted
