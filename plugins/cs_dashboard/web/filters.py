"""Jinja filters: money, counts, durations and local times."""

from typing import Any

from cs_core import display_zone, format_duration, format_usd

from .queries import local_time


def usd(value: Any) -> str:
    """Dollars with cents; tiny amounts keep enough digits to be non-zero."""
    return format_usd(value)


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    return "" if value is None else f"{int(value):,}"


def local(stamp: str | None) -> str:
    """A stored instant as local date and time in the display zone."""
    return local_time(stamp, display_zone()[0])


def minute(stamp: str | None) -> str:
    """A stored instant as local date and time to the minute."""
    return local_time(stamp, display_zone()[0])[:16]


def basename(path: str | None) -> str:
    """The last part of a folder path: a project's name."""
    return (path or "").rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]


def duration(seconds: Any) -> str:
    """Seconds as "1h 30m"."""
    return format_duration(seconds) or ""


def ratio(value: float | None) -> str:
    """An output/input token ratio."""
    return "n/a" if value is None else f"{value:.2f}"


FILTERS = {
    "usd": usd,
    "count": count,
    "local": local,
    "minute": minute,
    "basename": basename,
    "duration": duration,
    "ratio": ratio,
}
