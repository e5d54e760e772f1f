"""`cs dashboard`: serve the web dashboard a plugin registered.

The core names no web framework: it checks the port, prints where the dashboard
is, and hands the database to the first registered `Dashboard`, which serves
until interrupted.
"""

import errno
import os
import secrets
import socket
import sys
from typing import Annotated, Any

from cyclopts import Parameter

from .. import clock, output
from ..db import connect, db_path
from ..errors import InvalidInputError, PluginError, PortInUseError
from ..plugins import call_plugin, dashboards
from . import JsonFlag, emit

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
MAX_PORT = 65535


def dashboard(
    *,
    port: str = "3737",
    host: str = "127.0.0.1",
    no_open: Annotated[bool, Parameter(name="--no-open")] = False,
    timezone: str | None = None,
    json: JsonFlag = False,
) -> None:
    """Serve the dashboard on this machine and open it in the browser.

    Args:
        port: TCP port to listen on, 1 to 65535 (0: any free port).
        host: Address to listen on; anything but loopback needs the printed token.
        no_open: Do not open a browser.
        timezone: Time zone for days and hours (default: $CODESESSION_TZ, $TZ).
        json: Print url, port, pid and host as one JSON document.

    Raises:
        PortInUseError: Something already listens on the port.
        PluginError: No plugin registers a dashboard.
    """
    clock.set_zone(timezone)
    chosen = _dashboard()
    path = db_path()
    connect(path).close()  # create and migrate before the server reads it
    port_number = _check_port(host, parse_port(port))

    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    url = dashboard_url(host, port_number, token)
    payload = {"url": url, "port": port_number, "pid": os.getpid(), "host": host}
    emit(payload, json, lambda: output.write_stdout(f"Dashboard: {url}\n"))
    if token:
        output.write_stderr(
            f"Warning: listening on {host}, the dashboard may be reachable from "
            "other machines; every request needs the token in the URL above."
        )
    if not no_open:
        _open_browser(url)

    call_plugin(
        "dashboard",
        chosen.serve,
        db_path=str(path),
        host=host,
        port=port_number,
        token=token,
    )


def _dashboard() -> Any:
    registered = dashboards().items
    if not registered:
        raise PluginError(
            "no plugin registers a dashboard",
            hint="Install codesession with its bundled plugins, or a dashboard plugin.",
        )
    return next(iter(registered.values()))


def is_loopback(host: str) -> bool:
    """Tell whether `host` is one of the loopback names served without a token."""
    return host.strip("[]") in LOOPBACK_NAMES


def dashboard_url(host: str, port: int, token: str | None) -> str:
    """Return the URL to open: a wildcard address becomes one a browser can use."""
    shown = host.strip("[]")
    if shown in ("0.0.0.0", ""):
        shown = "127.0.0.1"
    elif shown == "::":
        shown = "::1"
    if ":" in shown:
        shown = f"[{shown}]"
    query = f"?token={token}" if token else ""
    return f"http://{shown}:{port}/{query}"


def parse_port(value: str) -> int:
    """Parse `--port`: a whole number up to 65535, 0 letting the system choose.

    Raises:
        InvalidInputError: Anything else, `1.5` included (never rounded).
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PORT:
        raise InvalidInputError(
            f"--port must be a whole number from 1 to {MAX_PORT}, not {value!r}"
        )
    return int(text)


def _check_port(host: str, port: int) -> int:
    """Bind the address once, so a busy port is reported before anything starts.

    Returns:
        The port; the one the system chose when `port` is 0.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        # The server sets SO_REUSEADDR too: a port in TIME_WAIT is free to it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host.strip("[]"), port))
        probe.listen(1)
        return int(probe.getsockname()[1])
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(
                f"port {port} on {host} is in use",
                hint="Choose another one with --port.",
                port=port,
            ) from None
        raise InvalidInputError(
            f"cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    finally:
        probe.close()


def _open_browser(url: str) -> None:
    """Open the URL in a graphical browser, once the server had time to start.

    On a Linux console (no display), Python's webbrowser would start a text
    browser in this terminal; the printed URL is enough there.
    """
    if sys.platform not in ("darwin", "win32") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return
    import threading
    import webbrowser  # ~10 ms, only when a browser is wanted

    timer = threading.Timer(1.0, webbrowser.open, args=(url,))
    timer.daemon = True
    timer.start()
