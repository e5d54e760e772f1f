"""`cs otel`: turn the OpenTelemetry export on or off, inspect it, flush it,
and send history recorded before it was on."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from cyclopts import App, Parameter

from cs_core import (
    InvalidInputError,
    connect,
    emit_json,
    envelope,
    events,
    write_stdout,
)

from . import SINKS
from . import config as settings

app = App(
    name="otel", help="Send calls, sessions and alerts to an OpenTelemetry collector."
)

JsonFlag = Annotated[
    bool, Parameter(name="--json", help="Print one JSON document on stdout.")
]
NAMES = [sink.name for sink in SINKS]
FLUSH_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 600.0


@app.command
def enable(
    *,
    endpoint: str | None = None,
    team: str | None = None,
    user: str | None = None,
    json: JsonFlag = False,
) -> None:
    """Start exporting this data folder's calls, sessions and alerts.

    Args:
        endpoint: The collector's OTLP/HTTP base URL (default: the
            OTEL_EXPORTER_OTLP_ENDPOINT variable, else http://localhost:4318).
        team: The team name sent as the `codesession.team` resource attribute.
        user: The person sent as `user.name` (default: the login name).
        json: Print one JSON document on stdout.
    """
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise InvalidInputError(
            f"endpoint must be an http:// or https:// URL, not '{endpoint}'"
        )
    saved = settings.read_config()
    changes = {"endpoint": endpoint, "team": team, "user": user}
    saved.update({key: value for key, value in changes.items() if value is not None})
    settings.save_config(saved)
    conn = connect()
    for sink in SINKS:
        events.enable_consumer(conn, sink.name, sink.kinds)
    _emit(_status(conn), json, _print_status)


@app.command
def disable(*, json: JsonFlag = False) -> None:
    """Stop exporting; events already waiting stay queued until re-enabled.

    Args:
        json: Print one JSON document on stdout.
    """
    conn = connect()
    for name in NAMES:
        events.disable_consumer(conn, name)
    _emit(_status(conn), json, _print_status)


@app.command
def status(*, json: JsonFlag = False) -> None:
    """Show whether the export is on, where it goes, and what is waiting.

    Args:
        json: Print one JSON document on stdout.
    """
    _emit(_status(connect()), json, _print_status)


@app.command
def flush(*, timeout: float = FLUSH_TIMEOUT_S, json: JsonFlag = False) -> None:
    """Send every waiting event now, even while backing off after a failure.

    Args:
        timeout: Seconds to spend at most.
        json: Print one JSON document on stdout.
    """
    _check_timeout(timeout)
    conn = connect()
    results = _send(conn, timeout)
    payload = {
        "flushed": [
            {
                "consumer": item.consumer,
                "delivered": item.delivered,
                "pending": item.pending,
                "error": item.error or item.skipped,
            }
            for item in results
        ],
        **_status(conn),
    }
    _emit(payload, json, _print_status)


@app.command
def backfill(
    *,
    since: str | None = None,
    timeout: float = FLUSH_TIMEOUT_S,
    json: JsonFlag = False,
) -> None:
    """Queue and send the calls, sessions and alerts recorded before the export.

    Anything already sent (or queued) is skipped, so running it again sends
    nothing twice.

    Args:
        since: Only history from this date or ISO-8601 instant on.
        timeout: Seconds to spend sending at most; the rest waits for later.
        json: Print one JSON document on stdout.
    """
    _check_timeout(timeout)
    conn = connect()
    if not _status(conn)["enabled"]:
        raise InvalidInputError(
            "the OpenTelemetry export is not enabled", hint="Run cs otel enable."
        )
    queued = {name: events.backfill(conn, name, since) for name in NAMES}
    _send(conn, timeout)
    _emit({"queued": queued, **_status(conn)}, json, _print_status)


def _check_timeout(seconds: float) -> None:
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise InvalidInputError(
            f"timeout must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds,"
            f" not {seconds:g}"
        )


def _send(conn: Any, timeout_s: float) -> list[events.Delivery]:
    from .exporter import be_patient

    be_patient()
    return events.deliver(conn, timeout_s=timeout_s, force=True, only=NAMES)


def _status(conn: Any) -> dict[str, Any]:
    config = settings.read_config()
    rows = [events.consumer(conn, name) for name in NAMES]
    consumers = [_consumer_object(row) for row in rows if row is not None]
    return {
        "enabled": any(item["enabled"] for item in consumers),
        "endpoint": settings.endpoint(config),
        "resource": settings.identity(config),
        "consumers": consumers,
    }


def _consumer_object(row: Any) -> dict[str, Any]:
    return {
        "name": row["name"],
        "kinds": row["kinds"].split(","),
        "enabled": bool(row["enabled"]),
        "pending": row["pending"],
        "delivered": row["delivered"],
        "lastDeliveryAt": row["last_delivery_at"],
        "lastError": row["last_error"],
        "retryAt": row["retry_at"],
    }


def _emit(
    payload: dict[str, Any],
    json_mode: bool,
    human: Callable[[dict[str, Any]], None],
) -> None:
    if json_mode:
        emit_json(envelope(payload))
    else:
        human(payload)


def _print_status(payload: Mapping[str, Any]) -> None:
    state = "on" if payload["enabled"] else "off"
    lines = [f"OpenTelemetry export: {state}, to {payload['endpoint']}"]
    for item in payload.get("flushed") or []:
        outcome = f"; {item['error']}" if item["error"] else ""
        lines.append(f"  sent {item['delivered']} to {item['consumer']}{outcome}")
    for name, count in (payload.get("queued") or {}).items():
        lines.append(f"  backfill queued for {name}: {sum(count.values())}")
    for item in payload["consumers"]:
        line = (
            f"  {item['name']}: {item['pending']} waiting,"
            f" {item['delivered']} delivered"
        )
        if item["lastError"]:
            line += f"; last error: {item['lastError']} (retry after {item['retryAt']})"
        lines.append(line)
    write_stdout("\n".join(lines) + "\n")
