"""The current time and the display time zone, in one place.

Stored instants are UTC strings like `2026-03-02T10:15:30.123Z`. Days are counted in
one zone for every surface: the first of `--timezone`, `CODESESSION_TZ`, `TZ`, or the
system's.
"""

import os
import time
from datetime import UTC, datetime, timedelta, tzinfo

from .errors import InvalidInputError

# Tests pin the clock with this variable; it takes an ISO-8601 instant.
NOW_ENV = "CODESESSION_NOW"

_zone_override: str | None = None


def now() -> datetime:
    """Return the current instant, aware, in UTC."""
    pinned = os.environ.get(NOW_ENV)
    if pinned:
        return parse_instant(pinned)
    return datetime.now(UTC)


def now_iso() -> str:
    """Return the current instant as a stored timestamp string."""
    return to_iso(now())


def to_iso(moment: datetime) -> str:
    """Format an aware datetime as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; a value without offset is taken as UTC.

    Raises:
        InvalidInputError: The text is not an ISO-8601 date or time.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"'{text}' is not an ISO-8601 date or time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def set_zone(name: str | None) -> None:
    """Make `name` the display zone of this process (`--timezone`)."""
    global _zone_override
    if name:
        zone_named(name)
    _zone_override = name or None


def zone_named(name: str) -> tzinfo:
    """Return the zone called `name`.

    Raises:
        InvalidInputError: No such zone.
    """
    if name.upper() in ("UTC", "Z"):
        return UTC
    # zoneinfo reads sysconfig on import (~4 ms); `cs log-ai` rarely needs it.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.lstrip(":"))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInputError(f"unknown time zone '{name}'") from None


def display_zone() -> tuple[tzinfo, str]:
    """Return the zone days are counted in, and its name.

    `--timezone` and `CODESESSION_TZ` must name a zone. `TZ` may also hold what
    the C library accepts (`:/etc/localtime`, `EST5EDT,M3.2.0,M11.1.0`): a value
    that is no zone name is followed through the system's own rules.
    """
    for name in (_zone_override, os.environ.get("CODESESSION_TZ")):
        if name:
            return zone_named(name), name.lstrip(":")
    posix = os.environ.get("TZ")
    if posix:
        try:
            return zone_named(posix), posix.lstrip(":")
        except InvalidInputError:
            return SystemZone(), posix
    name = _system_zone_name()
    try:
        return (zone_named(name), name) if name else (SystemZone(), "local")
    except InvalidInputError:
        return SystemZone(), name or "local"


def _system_zone_name() -> str | None:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return None
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else None


class SystemZone(tzinfo):
    """The C library's local time (which honours `TZ`), daylight saving included.

    For a `TZ` that is no zone name, such as `EST5EDT,M3.2.0,M11.1.0`.
    """

    def __init__(self) -> None:
        time.tzset()  # read the TZ of this moment, not of interpreter start

    def _local(self, wall: datetime) -> time.struct_time:
        fields = (wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
        return time.localtime(time.mktime((*fields, 0, 0, -1)))

    def utcoffset(self, dt: datetime | None) -> timedelta:
        """The offset in force at a local wall-clock time."""
        if dt is None:
            return timedelta(seconds=time.localtime().tm_gmtoff)
        return timedelta(seconds=self._local(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        """Not known apart from the offset; reported as none."""
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        """The C library's abbreviation, such as EST or EDT."""
        return (self._local(dt) if dt else time.localtime()).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        """Convert a UTC time (tagged with this zone) to local wall-clock time."""
        stamp = (dt.replace(tzinfo=UTC) - _EPOCH).total_seconds()
        return dt + timedelta(seconds=time.localtime(stamp).tm_gmtoff)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_duration(seconds: int | None) -> str | None:
    """Format seconds as "1h 30m", "5m" or "45s"."""
    if seconds is None:
        return None
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
