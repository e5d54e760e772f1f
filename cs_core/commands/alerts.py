"""`cs alerts`: where budget alerts go, and the alerts that fired."""

from typing import Annotated, Any

from cyclopts import App, Parameter

from .. import budgets, output
from ..errors import InvalidInputError
from . import JsonFlag, emit, open_db, parse_limit

app = App(
    name="alerts", help="Configure where budget alerts go; list those that fired."
)


@app.command(name="add")
def add(
    kind: str,
    target: str,
    /,
    *,
    timeout: Annotated[
        float | None, Parameter(help="Seconds before the delivery is abandoned.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Send alerts somewhere: `webhook URL` or `command CMD`.

    Args:
        kind: The sink kind: webhook, command, or one a plugin adds.
        target: The webhook's URL, or the command line (alert JSON on stdin).
        timeout: Seconds before the delivery is abandoned (default 3 for a
            webhook, 10 for a command).
        json: Print one JSON document on stdout.
    """
    config: dict[str, Any] = {}
    if timeout is not None:
        if not 0 < timeout <= 300:
            raise InvalidInputError(
                f"--timeout must be above 0 and at most 300 seconds, not {timeout:g}"
            )
        config["timeout"] = timeout
    sink = budgets.add_sink(open_db(), kind.strip().lower(), target, config)
    emit({"sink": sink}, json, lambda: _print_sinks([sink]))


@app.command(name="list")
def list_sinks(*, json: JsonFlag = False) -> None:
    """List the configured alert sinks.

    The terminal sink is always on and is not listed.

    Args:
        json: Print one JSON document on stdout.
    """
    sinks = budgets.list_sinks(open_db())
    emit({"sinks": sinks}, json, lambda: _print_sinks(sinks))


@app.command(name="remove")
def remove(sink_id: int, /, *, json: JsonFlag = False) -> None:
    """Stop sending alerts to a sink.

    Args:
        sink_id: The sink's id, from cs alerts list.
        json: Print one JSON document on stdout.
    """
    sink = budgets.remove_sink(open_db(), sink_id)
    emit(
        {"removed": sink},
        json,
        lambda: output.write_stdout(f"Removed {sink['kind']} sink #{sink['id']}.\n"),
    )


@app.command(name="history")
def history(
    *,
    limit: Annotated[str | None, Parameter(name=["--limit", "-l"])] = None,
    json: JsonFlag = False,
) -> None:
    """List the alerts that fired, newest first, and where each was delivered.

    Args:
        limit: Show at most this many.
        json: Print one JSON document on stdout.
    """
    count = None if limit is None else parse_limit(limit, "--limit")
    alerts = budgets.history(open_db(), count)
    emit({"alerts": alerts}, json, lambda: _print_history(alerts))


def _print_sinks(sinks: list[dict[str, Any]]) -> None:
    if not sinks:
        output.write_stdout("No alert sinks configured (alerts go to the terminal).\n")
    for sink in sinks:
        timeout = sink["config"].get("timeout")
        extra = f" (timeout {timeout:g} s)" if timeout else ""
        output.write_stdout(f"#{sink['id']} {sink['kind']}: {sink['target']}{extra}\n")


def _print_history(alerts: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="Alerts")
    for column in ("Id", "Fired", "Threshold", "Message", "Delivered"):
        table.add_column(column)
    for alert in alerts:
        sent = [
            d["kind"] + (" ok" if d["ok"] else " failed") for d in alert["deliveries"]
        ]
        table.add_row(
            str(alert["id"]),
            alert["firedAt"],
            f"{alert['thresholdPercent']}%",
            alert["message"],
            ", ".join(sent) or "-",
        )
    output.console().print(table)
