"""Budgets: limits on spend per session, day, week, month or in total, and the
alerts they fire.

Spend is summed from the stored calls and compared as decimals rounded to 1e-10,
so $0.70 + $0.10 is 80% of $1.00 exactly. Periods start at local midnight in the
display zone (weeks on Monday). Thresholds are evaluated in the transaction that
stores a call; the `alert_events` key (budget, period, threshold) makes each
crossing fire once. Alerts reach their sinks after the commit, and a failing sink
never changes a command's result.

A budget row's `origin` is `default` for the built-in $5 per-session warning: it
alerts like any limit but never counts as exceeded for `cs budget check`.
"""

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from . import clock, events
from .db import transaction
from .errors import BudgetExceededError, DatabaseError, InvalidInputError
from .output import format_usd, money
from .periods import day_bounds

log = logging.getLogger(__name__)

PERIODS = ("session", "daily", "weekly", "monthly", "total")
LABELS = {
    "session": "per-session",
    "daily": "daily",
    "weekly": "weekly",
    "monthly": "monthly",
    "total": "total",
}
HUNDRED = Decimal(100)
_TEN_DIGITS = Decimal("1e-10")
_MAX_LIMIT_USD = Decimal(10) ** 9


def exact(value: Any) -> Decimal:
    """Return a stored REAL amount as a Decimal rounded to 1e-10."""
    if value is None:
        return Decimal(0)
    amount = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return amount.quantize(_TEN_DIGITS, rounding=ROUND_HALF_EVEN)


def number(value: Decimal | None) -> int | float | None:
    """Return a percentage for JSON: 80 rather than 80.0, else two decimals."""
    if value is None:
        return None
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


@dataclass(frozen=True)
class Window:
    """The stretch of time a budget period covers: its key and UTC bounds."""

    key: str
    start: str | None
    end: str | None


def window(
    period: str, moment: datetime, zone: tzinfo, session_id: int | None
) -> Window:
    """Return the period of `period` kind that contains `moment`.

    Args:
        period: One of `PERIODS`.
        moment: The instant, aware.
        zone: The display zone; days, weeks and months start at its midnight.
        session_id: The session, for the `session` period.
    """
    if period == "session":
        return Window(f"session:{session_id}", None, None)
    if period == "total":
        return Window("total", None, None)

    day = moment.astimezone(zone).date()
    if period == "daily":
        first, following, key = day, day + timedelta(days=1), day.isoformat()
    elif period == "weekly":
        first = day - timedelta(days=day.weekday())
        following = first + timedelta(days=7)
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
    else:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        key = f"{day:%Y-%m}"

    return Window(key, _midnight(first, zone), _midnight(following, zone))


def _midnight(day: date, zone: tzinfo) -> str:
    return clock.to_iso(day_bounds(day.isoformat(), zone)[0])


@dataclass(frozen=True)
class LimitStatus:
    """One budget, the period it is measured over now, and the spend in it."""

    budget: sqlite3.Row
    window: Window
    spent: Decimal

    @property
    def limit(self) -> Decimal:
        """The limit in USD, as typed: never rounded to 0, since it divides."""
        return Decimal(repr(float(self.budget["limit_usd"])))

    @property
    def enforced(self) -> bool:
        """False for the built-in default warning, which only alerts."""
        return self.budget["origin"] != "default"

    @property
    def warn_at(self) -> Decimal | None:
        """The early-warning percentage, if any."""
        warn = self.budget["warn_at_percent"]
        return None if warn is None else Decimal(repr(float(warn)))

    @property
    def thresholds(self) -> list[Decimal]:
        """The percentages that fire an alert, lowest first."""
        return [HUNDRED] if self.warn_at is None else [self.warn_at, HUNDRED]

    def reached(self, threshold: Decimal) -> bool:
        """Whether spend is at or above `threshold` percent of the limit."""
        return self.spent * HUNDRED >= threshold * self.limit

    @property
    def exceeded(self) -> bool:
        """Spend has reached the limit (nothing remains)."""
        return self.reached(HUNDRED)

    @property
    def percent(self) -> Decimal:
        """Spend as a percentage of the limit."""
        return self.spent * HUNDRED / self.limit

    def affords(self, estimate: Decimal) -> bool:
        """Whether a call costing `estimate` stays within this limit."""
        return not self.exceeded and self.spent + estimate <= self.limit


def applicable(conn: sqlite3.Connection, scope: str) -> list[sqlite3.Row]:
    """Return the budgets that apply in a scope: global ones, then the scope's."""
    order = " ".join(f"WHEN '{period}' THEN {i}" for i, period in enumerate(PERIODS))
    return conn.execute(
        f"""SELECT * FROM budgets WHERE scope IN ('', ?)
        ORDER BY scope != '', CASE period {order} END""",
        (scope,),
    ).fetchall()


def spent_in(
    conn: sqlite3.Connection, budget: sqlite3.Row, span: Window, session_id: int | None
) -> Decimal:
    """Return what the calls a budget counts cost in one period."""
    sql = "SELECT SUM(a.cost) FROM ai_usage a"
    where: list[str] = []
    params: list[Any] = []

    if budget["period"] == "session":
        where.append("a.session_id = ?")
        params.append(session_id)
    elif budget["scope"]:
        sql += " JOIN sessions s ON s.id = a.session_id"
        where.append("s.scope = ?")
        params.append(budget["scope"])

    if span.start is not None:
        where.append("a.timestamp >= ? AND a.timestamp < ?")
        params.extend([span.start, span.end])

    if where:
        sql += " WHERE " + " AND ".join(where)
    return exact(conn.execute(sql, params).fetchone()[0])


def statuses(
    conn: sqlite3.Connection,
    scope: str,
    session_id: int | None,
    moment: datetime | None = None,
) -> list[LimitStatus]:
    """Return every budget that applies in a scope, with its current spend.

    Per-session budgets are left out when there is no session to measure.
    """
    zone, _ = clock.display_zone()
    moment = moment or clock.now()

    found = []
    for budget in applicable(conn, scope):
        if budget["period"] == "session" and session_id is None:
            continue
        span = window(budget["period"], moment, zone, session_id)
        found.append(
            LimitStatus(budget, span, spent_in(conn, budget, span, session_id))
        )
    return found


def evaluate(
    conn: sqlite3.Connection,
    session: sqlite3.Row | Mapping[str, Any],
    call_id: int,
    stamp: str,
) -> list[dict[str, Any]]:
    """Record the thresholds a newly stored call crossed; return the new alerts.

    Runs inside the caller's transaction, right after the call's insert, so the
    spend it sees includes the call and a concurrent writer cannot fire twice.
    """
    fired = []
    current = statuses(
        conn, session["scope"] or "", session["id"], clock.parse_instant(stamp)
    )

    for status in current:
        for threshold in status.thresholds:
            if not status.reached(threshold):
                continue
            event_id = _record(conn, status, threshold, session["id"], call_id, stamp)
            if event_id is not None:
                events.record_alert(conn, event_id)
                fired.append(alert_object(_event(conn, event_id)))
    return fired


def _record(
    conn: sqlite3.Connection,
    status: LimitStatus,
    threshold: Decimal,
    session_id: int,
    call_id: int,
    stamp: str,
) -> int | None:
    # Looked up first so that ignored inserts leave no gaps in the event ids.
    known = conn.execute(
        """SELECT 1 FROM alert_events
        WHERE budget_id = ? AND period_key = ? AND threshold_percent = ?""",
        (status.budget["id"], status.window.key, float(threshold)),
    ).fetchone()

    if known is not None:
        return None

    cursor = conn.execute(
        """INSERT OR IGNORE INTO alert_events (budget_id, scope, period, period_key,
            threshold_percent, spent_usd, limit_usd, session_id, ai_usage_id, fired_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            status.budget["id"],
            status.budget["scope"],
            status.budget["period"],
            status.window.key,
            float(threshold),
            float(status.spent),
            float(status.limit),
            session_id,
            call_id,
            stamp,
        ),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


def _event(conn: sqlite3.Connection, event_id: int) -> sqlite3.Row:
    return conn.execute(
        """SELECT e.*, b.origin FROM alert_events e
        LEFT JOIN budgets b ON b.id = e.budget_id WHERE e.id = ?""",
        (event_id,),
    ).fetchone()


def alert_object(event: sqlite3.Row | Mapping[str, Any]) -> dict[str, Any]:
    """Map an `alert_events` row (joined with its budget's origin) to an alert."""
    threshold = exact(event["threshold_percent"])
    enforced = event["origin"] != "default"
    exceeded = enforced and threshold >= HUNDRED
    label = LABELS.get(event["period"], event["period"])
    where = f" for {event['scope']}" if event["scope"] else ""
    verb = "exceeded" if exceeded else f"reached {number(threshold)}%"
    kind = "budget" if enforced else "warning"

    return {
        "id": event["id"],
        "code": "budget_exceeded" if exceeded else "budget_warning",
        "message": f"{label} {kind}{where} {verb}: {format_usd(event['spent_usd'])}"
        f" spent of {format_usd(event['limit_usd'])} ({event['period_key']})",
        "budgetId": event["budget_id"],
        "scope": event["scope"],
        "period": event["period"],
        "periodKey": event["period_key"],
        "thresholdPercent": number(threshold),
        "spent": money(event["spent_usd"]),
        "limit": money(event["limit_usd"]),
        "enforced": enforced,
        "sessionId": event["session_id"],
        "aiUsageId": event["ai_usage_id"],
        "firedAt": event["fired_at"],
    }


def alert_warnings(alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Turn fired alerts into the contract's warnings."""
    return [{"code": alert["code"], "message": alert["message"]} for alert in alerts]


def limit_object(status: LimitStatus) -> dict[str, Any]:
    """Map one budget's status to the JSON `budget.limits` entry."""
    budget = status.budget
    return {
        "id": budget["id"],
        "scope": budget["scope"],
        "period": budget["period"],
        "periodKey": status.window.key,
        "periodStart": status.window.start,
        "periodEnd": status.window.end,
        "limit": money(status.limit),
        "warnAt": number(status.warn_at),
        "spent": money(status.spent),
        "remaining": money(max(status.limit - status.spent, Decimal(0))),
        "percent": number(status.percent),
        "exceeded": status.exceeded,
        "warned": status.warn_at is not None and status.reached(status.warn_at),
        "enforced": status.enforced,
        "origin": budget["origin"],
    }


def block(current: list[LimitStatus]) -> dict[str, Any]:
    """Return the `budget` block of `cs status` and `cs log-ai`."""
    _, zone_name = clock.display_zone()
    return {
        "timezone": zone_name,
        "exceeded": any(s.exceeded and s.enforced for s in current),
        "limits": [limit_object(status) for status in current],
    }


def describe(status: LimitStatus) -> str:
    """One line for people: `110% of daily budget ($1.10 of $1.00)`."""
    label = LABELS[status.budget["period"]]
    kind = "budget" if status.enforced else "warning"
    where = f" for {status.budget['scope']}" if status.budget["scope"] else ""
    line = (
        f"{number(status.percent)}% of {label} {kind}{where} "
        f"({format_usd(status.spent)} of {format_usd(status.limit)})"
    )
    return line + (" - exceeded" if status.exceeded and status.enforced else "")


def check(current: list[LimitStatus], estimate: Decimal = Decimal(0)) -> None:
    """Raise if an enforced limit is exhausted, or would be by `estimate`.

    Raises:
        BudgetExceededError: Names the first such limit, its spend and amount;
            `exceeded` lists every one.
    """
    over = [s for s in current if s.enforced and not s.affords(estimate)]
    if not over:
        return

    first = over[0]
    label = LABELS[first.budget["period"]]
    what = "exceeded" if first.exceeded else "would be exceeded"
    raise BudgetExceededError(
        f"{label} budget {what}: {format_usd(first.spent)} spent of "
        f"{format_usd(first.limit)}"
        + (f", {format_usd(estimate)} more requested" if estimate else ""),
        hint="Raise the limit with cs budget set, or wait for the next period.",
        period=first.budget["period"],
        scope=first.budget["scope"],
        budgetId=first.budget["id"],
        spent=money(first.spent),
        limit=money(first.limit),
        estimate=money(estimate),
        exceeded=[limit_object(status) for status in over],
    )


def parse_amount(value: str | float | Decimal, flag: str) -> Decimal:
    """Parse a limit in USD: finite, 0 (meaning remove) or more.

    Raises:
        InvalidInputError: Not a number, negative or implausibly large.
    """
    text = str(value).strip().lstrip("$")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInputError(
            f"{flag} must be an amount in USD, not '{value}'"
        ) from None

    if not amount.is_finite() or amount < 0 or amount > _MAX_LIMIT_USD:
        raise InvalidInputError(f"{flag} must be an amount of 0 or more, not '{value}'")
    if 0 < amount < _TEN_DIGITS:
        # Amounts are shown and compared to 1e-10: a smaller limit would read as 0.
        raise InvalidInputError(f"{flag} must be 0 or at least 1e-10, not '{value}'")
    return amount


def parse_percent(value: str | float | Decimal) -> Decimal:
    """Parse `--warn-at`: a percentage above 0 and below 100 (0 removes it).

    Raises:
        InvalidInputError: Not a number, or outside 0 to 100.
    """
    text = str(value).strip().rstrip("%")
    try:
        percent = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInputError(
            f"--warn-at must be a percentage, not '{value}'"
        ) from None

    if not percent.is_finite() or percent < 0 or percent >= HUNDRED:
        raise InvalidInputError(
            f"--warn-at must be from 0 (off) to below 100, not '{value}'",
            hint="The alert at 100% always fires; --warn-at adds an earlier one.",
        )
    return percent


def set_limits(
    conn: sqlite3.Connection,
    scope: str,
    limits: Mapping[str, Decimal],
    warn_at: Decimal | None,
) -> None:
    """Create, change or (with 0) remove limits of a scope.

    A changed amount makes a new budget row, so its alerts can fire again; the
    old row's alerts stay in the history. `warn_at` (0 removes it) applies to
    the limits given, or to every user limit of the scope when none is given.

    Raises:
        InvalidInputError: Nothing to set, or `warn_at` alone with no limits.
    """
    if not limits and warn_at is None:
        raise InvalidInputError(
            "nothing to set",
            hint="Pass --per-session, --daily, --weekly, --monthly, --total "
            "or --warn-at.",
        )

    warn = None if warn_at is None or warn_at == 0 else float(warn_at)
    with transaction(conn):
        for period, amount in limits.items():
            _set_one(conn, scope, period, amount, warn, warn_at is not None)
        if not limits:
            _set_warning(conn, scope, warn)


def _set_one(
    conn: sqlite3.Connection,
    scope: str,
    period: str,
    amount: Decimal,
    warn: float | None,
    warn_given: bool,
) -> None:
    old = conn.execute(
        "SELECT * FROM budgets WHERE scope = ? AND period = ?", (scope, period)
    ).fetchone()

    stamp = clock.now_iso()
    if old is not None and not warn_given:
        warn = old["warn_at_percent"]

    same = old is not None and exact(old["limit_usd"]) == exact(amount)
    if same and old["origin"] == "user":
        conn.execute(
            "UPDATE budgets SET warn_at_percent = ?, updated_at = ? WHERE id = ?",
            (warn, stamp, old["id"]),
        )
        return

    if old is not None:
        conn.execute("DELETE FROM budgets WHERE id = ?", (old["id"],))
    if amount > 0:
        conn.execute(
            """INSERT INTO budgets (scope, period, limit_usd, warn_at_percent,
                created_at, updated_at, origin) VALUES (?, ?, ?, ?, ?, ?, 'user')""",
            (scope, period, float(amount), warn, stamp, stamp),
        )


def _set_warning(conn: sqlite3.Connection, scope: str, warn: float | None) -> None:
    changed = conn.execute(
        """UPDATE budgets SET warn_at_percent = ?, updated_at = ?
        WHERE scope = ? AND origin = 'user'""",
        (warn, clock.now_iso(), scope),
    ).rowcount

    if not changed:
        where = f"for {scope}" if scope else "for everything"
        raise InvalidInputError(
            f"no budget {where} to apply --warn-at to",
            hint="Give a limit too, e.g. cs budget set --daily 10 --warn-at 80.",
        )


def clear(conn: sqlite3.Connection, scope: str, periods: Iterable[str] = ()) -> int:
    """Remove a scope's limits (all, or those of `periods`); return how many.

    Clearing everything also switches off the built-in per-session warning.
    """
    wanted = list(periods)
    sql = "DELETE FROM budgets WHERE scope = ?"
    if wanted:
        sql += f" AND period IN ({', '.join('?' * len(wanted))})"
    with transaction(conn):
        return conn.execute(sql, (scope, *wanted)).rowcount


def budget_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every stored budget, for `cs budget show`."""
    rows = conn.execute("SELECT * FROM budgets ORDER BY scope, id").fetchall()
    return [
        {
            "id": row["id"],
            "scope": row["scope"],
            "period": row["period"],
            "limit": money(row["limit_usd"]),
            "warnAt": number(exact(row["warn_at_percent"]))
            if row["warn_at_percent"] is not None
            else None,
            "enforced": row["origin"] != "default",
            "origin": row["origin"],
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
        }
        for row in rows
    ]


def history(conn: sqlite3.Connection, limit: int | None = None) -> list[dict[str, Any]]:
    """Return the alerts that fired, newest first, with their deliveries."""
    rows = conn.execute(
        """SELECT e.*, b.origin FROM alert_events e
        LEFT JOIN budgets b ON b.id = e.budget_id
        ORDER BY e.fired_at DESC, e.id DESC LIMIT ?""",
        (-1 if limit is None else limit,),
    ).fetchall()

    deliveries = _deliveries(conn, [row["id"] for row in rows])
    return [
        {**alert_object(row), "deliveries": deliveries.get(row["id"], [])}
        for row in rows
    ]


def _deliveries(
    conn: sqlite3.Connection, event_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not event_ids:
        return found

    marks = ", ".join("?" * len(event_ids))
    for row in conn.execute(
        f"SELECT * FROM alert_deliveries WHERE event_id IN ({marks}) ORDER BY id",
        event_ids,
    ):
        found.setdefault(row["event_id"], []).append(
            {
                "sinkId": row["sink_id"],
                "kind": row["kind"],
                "ok": bool(row["ok"]),
                "error": row["error"],
                "deliveredAt": row["delivered_at"],
            }
        )
    return found


def sink_object(row: sqlite3.Row | Mapping[str, Any]) -> dict[str, Any]:
    """Map an `alert_sinks` row to JSON."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "target": row["target"],
        "config": json.loads(row["config"] or "{}"),
        "createdAt": row["created_at"],
    }


def add_sink(
    conn: sqlite3.Connection, kind: str, target: str, config: Mapping[str, Any]
) -> dict[str, Any]:
    """Store a place alerts go to, after its plugin has checked the target.

    Raises:
        InvalidInputError: No plugin provides `kind`, or the target is invalid.
        PluginError: The plugin failed while checking the target.
    """
    from . import plugins

    registry = plugins.alert_sinks()
    sink = registry.items.get(kind)
    if sink is None or kind == "terminal":
        addable = sorted(name for name in registry.items if name != "terminal")
        raise InvalidInputError(
            f"unknown alert sink kind '{kind}'",
            hint=f"Kinds you can add: {', '.join(addable) or 'none (no sink plugin)'}.",
        )
    target = target.strip()
    validate = getattr(sink, "validate", None)
    if validate is not None:
        plugins.call_plugin(registry.owners[kind], validate, target=target)
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO alert_sinks (kind, target, config, created_at)"
            " VALUES (?, ?, ?, ?)",
            (kind, target, json.dumps(dict(config)), clock.now_iso()),
        )
    row = conn.execute(
        "SELECT * FROM alert_sinks WHERE id = ?", (cursor.lastrowid,)
    ).fetchone()
    return sink_object(row)


def list_sinks(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the configured alert sinks, oldest first."""
    rows = conn.execute("SELECT * FROM alert_sinks ORDER BY id").fetchall()
    return [sink_object(row) for row in rows]


def remove_sink(conn: sqlite3.Connection, sink_id: int) -> dict[str, Any]:
    """Remove a configured sink and return what it was.

    Raises:
        InvalidInputError: No sink has that id.
    """
    with transaction(conn):
        row = conn.execute(
            "SELECT * FROM alert_sinks WHERE id = ?", (sink_id,)
        ).fetchone()
        if row is None:
            raise InvalidInputError(
                f"no alert sink has id {sink_id}", hint="List them with cs alerts list."
            )
        conn.execute("DELETE FROM alert_sinks WHERE id = ?", (sink_id,))
    return sink_object(row)


def deliver(
    conn: sqlite3.Connection, alerts: list[dict[str, Any]], *, terminal: bool
) -> bool:
    """Send fired alerts to the terminal sink and every configured sink.

    Call after the commit that recorded them. Failures are recorded in
    `alert_deliveries` and never raised: an alert must not change the result of
    the command that fired it.

    Args:
        conn: The database.
        alerts: Alerts from `evaluate`.
        terminal: Also deliver to the `terminal` sink (stderr); commands in JSON
            mode pass False, since the alert is already in their `warnings`.

    Returns:
        Whether a terminal sink showed the alerts.
    """
    if not alerts:
        return False
    from . import plugins
    from .errors import PluginError

    try:
        registry = plugins.alert_sinks()
    except PluginError as exc:
        log.debug("alert sinks unavailable: %s", exc)
        return False
    targets = _targets(conn, terminal and "terminal" in registry.items)
    results = []
    for alert in alerts:
        for kind, sink_id, config in targets:
            error = _send(registry, kind, alert, config)
            results.append((alert["id"], sink_id, kind, error))
    _log_deliveries(conn, results)
    return any(kind == "terminal" for kind, _, _ in targets)


def _targets(
    conn: sqlite3.Connection, terminal: bool
) -> list[tuple[str, int | None, dict[str, Any]]]:
    found: list[tuple[str, int | None, dict[str, Any]]] = []
    if terminal:
        found.append(("terminal", None, {}))
    for row in conn.execute("SELECT * FROM alert_sinks ORDER BY id"):
        config = {**json.loads(row["config"] or "{}"), "target": row["target"]}
        found.append((row["kind"], row["id"], config))
    return found


def _send(
    registry: Any, kind: str, alert: dict[str, Any], config: dict[str, Any]
) -> str | None:
    from . import plugins
    from .errors import PluginError

    sink = registry.items.get(kind)
    if sink is None:
        return f"no loaded plugin provides alert sink kind '{kind}'"
    try:
        plugins.call_plugin(
            registry.owners[kind], sink.send, alert=alert, config=config
        )
    except PluginError as exc:
        log.debug("alert sink %s failed: %s", kind, exc)
        return exc.message
    return None


def _log_deliveries(
    conn: sqlite3.Connection, results: list[tuple[int, int | None, str, str | None]]
) -> None:
    stamp = clock.now_iso()

    try:
        with transaction(conn):
            conn.executemany(
                """INSERT INTO alert_deliveries
                    (event_id, sink_id, kind, ok, error, delivered_at)
                VALUES (?, ?, ?, ?, ?, ?)""",
                [
                    (event, sink, kind, int(error is None), error, stamp)
                    for event, sink, kind, error in results
                ],
            )
    except (sqlite3.Error, DatabaseError) as exc:
        # The alert itself is stored; only the record of its delivery is lost.
        log.debug("cannot record alert deliveries: %s", exc)
