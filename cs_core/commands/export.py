"""`cs export`: write sessions or calls as JSON, CSV or a plugin's format."""

from typing import Annotated

from cyclopts import Parameter

from .. import clock, output, plugins
from ..errors import InvalidInputError
from ..export import iter_calls, iter_sessions, open_target, session_filter
from ..models import ExportOptions
from ..stats import make_period
from . import JsonFlag, open_db, parse_limit


def export(
    *,
    format: Annotated[str, Parameter(name=["--format", "-f"])] = "json",
    calls: bool = False,
    limit: str | None = None,
    since: str | None = None,
    until: str | None = None,
    project: str | None = None,
    output_file: Annotated[str | None, Parameter(name=["--output", "-o"])] = None,
    excel: bool = False,
    timezone: str | None = None,
    json: JsonFlag = False,
) -> None:
    """Export sessions (newest first), or one row per AI call with --calls.

    Args:
        format: json, csv, or a format a plugin adds.
        calls: One row per AI call instead of per session.
        limit: At most this many sessions (or calls).
        since: Sessions started on or after this date or instant.
        until: Sessions started up to this date (inclusive) or instant.
        project: Only sessions of this repository or folder.
        output_file: Write to this file instead of stdout.
        excel: For spreadsheets: a byte-order mark and CRLF line ends.
        timezone: Time zone of --since/--until dates (default: $CODESESSION_TZ,
            $TZ, the system's).
        json: With --output, print a JSON summary of what was written.
    """
    formats = plugins.output_formats()
    writer = formats.items.get(format)
    if writer is None:
        names = ", ".join(sorted(formats.items)) or "none"
        raise InvalidInputError(f"unknown export format '{format}'; available: {names}")
    count = None if limit is None else parse_limit(limit, "--limit")
    clock.set_zone(timezone)
    zone, _ = clock.display_zone()
    where, params = session_filter(make_period(since, until, False, zone), project)
    conn = open_db()
    rows = (iter_calls if calls else iter_sessions)(conn, where, params, count)
    options = ExportOptions(kind="calls" if calls else "sessions", excel=excel)
    with open_target(output_file) as stream:
        written = plugins.call_plugin(
            formats.owners[format],
            writer.write,
            rows=rows,
            stream=stream,
            options=options,
        )
    if output_file is not None:
        _report(output_file, format, options.kind, written, json)


def _report(path: str, fmt: str, kind: str, written: int, json_mode: bool) -> None:
    if json_mode:
        output.emit_json(
            output.envelope(
                {"output": path, "format": fmt, "kind": kind, "rows": written}
            )
        )
    else:
        output.write_stderr(f"Wrote {written} {kind} to {path}")
