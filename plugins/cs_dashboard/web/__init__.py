"""The Datasette side of the dashboard: routes, filters, guards, canned queries.

Datasette finds this module through its `datasette` entry point, so a plain
`datasette ~/.codesession/sessions.db` shows the dashboard too; `cs dashboard`
registers it directly and passes its bind address and token.
"""

import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from datasette import hookimpl
from itsdangerous import BadSignature

from . import guard, sql

Asgi = Callable[..., Awaitable[None]]


def configure(*, bind_host: str | None, token: str | None) -> None:
    """Record the address `cs dashboard` binds and the token it requires."""
    guard.SETTINGS.bind_host = bind_host
    guard.SETTINGS.token = token


def _serves_sessions(datasette: Any) -> bool:
    """Tell whether an attached database file holds codesession's tables."""
    for db in datasette.databases.values():
        if not db.path:
            continue
        try:
            uri = Path(db.path).resolve().as_uri() + "?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                names = {
                    row[0] for row in conn.execute("SELECT name FROM sqlite_master")
                }
        except sqlite3.Error:
            continue
        if {"sessions", "ai_usage"} <= names:
            return True
    return False


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    """Add the dashboard pages; `/` becomes the Overview.

    Datasette started on other databases keeps its own home page.
    """
    from . import views

    home = [(r"^/$", views.overview)] if _serves_sessions(datasette) else []
    return [
        *home,
        (r"^/-/cs/?$", views.overview),
        (r"^/-/cs/sessions$", views.sessions),
        (r"^/-/cs/sessions/(?P<id>\d{1,18})$", views.session),
        (r"^/-/cs/sessions/(?P<id>\d{1,18})/diff$", views.session_diff),
        (r"^/-/cs/models$", views.models),
        (r"^/-/cs/insights$", views.insights),
        (r"^/-/cs/pricing$", views.only_post(views.pricing_post)),
        (r"^/-/cs/alerts$", views.alerts),
        (r"^/-/cs/alerts/status\.json$", views.alerts_status),
        (r"^/-/cs/budgets$", views.only_post(views.budgets_post)),
        (r"^/-/cs/fresh$", views.fresh),
        (r"^/-/cs/static/(?P<path>[A-Za-z0-9_.-]+)$", views.static),
    ]


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Asgi], Asgi]:
    """Refuse foreign Host headers, cross-origin writes and missing tokens."""

    def signed(token: str) -> bool:
        try:
            datasette.unsign(token, guard.CSRF_FIELD)
        except BadSignature:
            return False
        return True

    return lambda app: guard.wrap(app, signed)


@hookimpl(tryfirst=True)
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    """Answer errors with a plain page and nothing printed to stdout."""
    from . import errors

    async def inner() -> Any:
        return await errors.respond(datasette, request, exception)

    return inner


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    """Add the filters the templates format money, counts and times with."""
    from . import filters

    env.filters.update(filters.FILTERS)


@hookimpl
def canned_queries(datasette: Any, database: str) -> Any:
    """Offer cost per day, model, agent and project on the session database."""

    async def queries() -> dict[str, Any]:
        db = datasette.databases.get(database)
        if db is None or "ai_usage" not in await db.table_names():
            return {}
        return sql.canned_queries()

    return queries
