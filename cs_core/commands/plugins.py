"""`cs plugins`: the loaded plugins, their versions and hooks."""

from typing import Any

from .. import output
from ..plugins import get_plugin_manager, hooks_of, plugin_version
from . import JsonFlag, emit


def plugins(*, json: JsonFlag = False) -> None:
    """List the loaded plugins, their version and the hooks each implements.

    Args:
        json: Print one JSON document on stdout.
    """
    pm = get_plugin_manager()
    listed = [
        {"name": name, "version": plugin_version(name), "hooks": hooks_of(plugin)}
        for name, plugin in sorted(pm.list_name_plugin())
    ]
    payload: dict[str, Any] = {"plugins": listed}
    emit(payload, json, lambda: _print_human(listed))


def _print_human(listed: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table()
    for column in ("Plugin", "Version", "Hooks"):
        table.add_column(column)
    for plugin in listed:
        table.add_row(
            plugin["name"], plugin["version"] or "-", ", ".join(plugin["hooks"])
        )
    output.console().print(table)
