"""The hook specifications: everything a plugin can contribute to `cs`.

Each `register_*` hook receives a `register` callback. A plugin calls it once per thing
it contributes; the host rejects duplicate names and remembers which plugin gave what.
"""

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "codesession"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Contribute the models and prices of AI providers.

    Args:
        register: Call with a `cs_core.PriceSource` for each provider. Its
            `provider` name must be unique across all plugins.

    Returns:
        None.

    The host calls this the first time a command needs a price. An impl must not
    print, block, or read anything heavier than its own bundled price file, and
    should load that file lazily.
    """


@hookspec
def register_vcs_backends(register: Callable[[Any], None]) -> None:
    """Contribute version-control backends that scope sessions and scan work.

    Args:
        register: Call with a `cs_core.VcsBackend` for each system.

    Returns:
        None.

    The host calls this on every command that resolves a session scope, so
    `find_root` must stay cheap: no subprocess, no heavy import. The first backend
    whose `find_root` answers wins. An impl must not write to the repository.
    """


@hookspec
def register_output_formats(register: Callable[[Any], None]) -> None:
    """Contribute export formats for `cs export --format NAME`.

    Args:
        register: Call with a `cs_core.OutputFormat` for each format; its `name`
            is what `--format` takes.

    Returns:
        None.

    The host calls this when `cs export` runs. A writer must stream: it receives an
    iterator of rows and must not collect them. It writes only to the stream given.
    """


@hookspec
def register_alert_sinks(register: Callable[[Any], None]) -> None:
    """Contribute places budget alerts can be delivered to.

    Args:
        register: Call with a `cs_core.AlertSink` for each kind of sink; its `kind`
            is what `cs alerts add KIND` takes.

    Returns:
        None.

    The host calls this after a command that crossed a threshold has committed.
    A sink must bound its own run time and must not write the database.
    """


@hookspec
def register_dashboards(register: Callable[[Any], None]) -> None:
    """Contribute a web dashboard for `cs dashboard`.

    Args:
        register: Call with a `cs_core.Dashboard`.

    Returns:
        None.

    The host calls this only when `cs dashboard` runs. The first dashboard
    registered is served.
    """


@hookspec
def register_commands(register: Callable[..., None]) -> None:
    """Contribute top-level commands to the `cs` command line.

    Args:
        register: Call as `register(name, target, help=...)`. `target` is either a
            callable or an import string `"package.module:function"`, which the
            host imports only when the command runs. The function's signature and
            Google-style docstring become the command's flags and help.

    Returns:
        None.

    The host calls this when it builds the command line. Names of built-in
    commands cannot be taken.
    """


@hookspec
def register_event_sinks(register: Callable[[Any], None]) -> None:
    """Contribute consumers of recorded events: AI calls, sessions, alerts.

    Args:
        register: Call with a `cs_core.EventSink` for each consumer. Its `name`
            must be unique across plugins: events are queued under it once the
            consumer is enabled (`cs_core.events.enable_consumer`), and only
            the kinds listed in its `kinds` are queued.

    Returns:
        None.

    The host calls this after a command that recorded events has committed,
    and when a flush is asked for. It then calls `deliver(events, timeout_s)`
    with the waiting events, oldest first, and deletes them only if it returns;
    raising keeps the whole batch queued for a later try. `deliver` must return
    within `timeout_s`, must not print, and must not write the database: the
    host does the bookkeeping. Registering must stay cheap: no network, no
    heavy import.
    """
