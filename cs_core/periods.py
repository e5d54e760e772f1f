"""Local days in SQL: date ranges and a `date()` expression that follows the
display zone, daylight-saving changes included.

SQLite's `date()` works in UTC. Rather than converting row by row in Python, the
zone's UTC offsets over the data's time span become a `CASE` on the timestamp,
which SQLite evaluates per row at full speed. Every real zone's offset history
over a few years has a handful of changes, so the expression stays small.
"""

from datetime import UTC, datetime, timedelta, tzinfo

from .clock import parse_instant, to_iso
from .errors import InvalidInputError


def offset_minutes(moment: datetime, zone: tzinfo) -> int:
    """Return the zone's UTC offset at an instant, in minutes."""
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def offset_changes(
    zone: tzinfo, start: datetime, end: datetime
) -> list[tuple[datetime, int]]:
    """Return `(instant, offset)` pairs: the offset in force from each instant on.

    The first pair holds the offset at `start`; later ones each change.
    """
    changes = [(start, offset_minutes(start, zone))]
    day = start
    while day < end:
        nxt = min(day + timedelta(days=1), end)
        if offset_minutes(nxt, zone) != changes[-1][1]:
            changes.append(_find_change(zone, day, nxt))
        day = nxt
    return changes


def _find_change(zone: tzinfo, low: datetime, high: datetime) -> tuple[datetime, int]:
    """Binary-search the minute in (low, high] at which the offset changes."""
    before = offset_minutes(low, zone)
    while high - low > timedelta(minutes=1):
        mid = low + (high - low) / 2
        if offset_minutes(mid, zone) == before:
            low = mid
        else:
            high = mid
    high = high.replace(second=0, microsecond=0)
    return high, offset_minutes(high, zone)


def shifted_sql(column: str, zone: tzinfo, start: str | None, end: str | None) -> str:
    """Return SQL for `column` shifted to local wall-clock time in `zone`.

    Wrap it in `date(...)` or `strftime(...)`. `start` and `end` bound the
    timestamps the query will see (None: now).
    """
    low = parse_instant(start) if start else datetime.now(UTC)
    high = parse_instant(end) if end else datetime.now(UTC)
    changes = offset_changes(zone, min(low, high), max(low, high) + timedelta(days=1))
    if len(changes) == 1:
        return f"datetime({column}, '{changes[0][1]:+d} minutes')"
    branches = " ".join(
        f"WHEN {column} < '{to_iso(at)}' THEN '{previous:+d} minutes'"
        for (at, _), (_, previous) in zip(changes[1:], changes, strict=False)
    )
    return f"datetime({column}, CASE {branches} ELSE '{changes[-1][1]:+d} minutes' END)"


def day_bounds(day: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """Return the UTC instants a local calendar day starts and ends.

    Raises:
        InvalidInputError: `day` is not a YYYY-MM-DD date.
    """
    try:
        date = datetime.strptime(day.strip(), "%Y-%m-%d")
    except ValueError:
        raise InvalidInputError(f"'{day}' is not a date (YYYY-MM-DD)") from None
    start = date.replace(tzinfo=zone)
    end = (date + timedelta(days=1)).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_bound(text: str, zone: tzinfo, *, end: bool) -> str:
    """Turn a `--since`/`--until` value into a stored-timestamp bound.

    A date means the start of that local day (`--since`) or its end (`--until`);
    an instant is taken as it is.
    """
    text = text.strip()
    if len(text) == 10:
        start, stop = day_bounds(text, zone)
        return to_iso(stop if end else start)
    return to_iso(parse_instant(text))


def today_bounds(now: datetime, zone: tzinfo) -> tuple[str, str]:
    """Return the bounds of the local day containing `now`."""
    local = now.astimezone(zone).date().isoformat()
    start, stop = day_bounds(local, zone)
    return to_iso(start), to_iso(stop)
