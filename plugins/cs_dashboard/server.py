"""Run Datasette under uvicorn on a socket we bind ourselves."""

import errno
import signal
import socket
from types import FrameType

import uvicorn
from datasette.app import Datasette
from datasette.plugins import pm

from cs_core import PortInUseError

from . import web
from .web.errors import DEFAULT_HANDLER

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """A uvicorn server that stops on SIGINT/SIGTERM and then just returns.

    uvicorn re-raises the signal after shutting down; `cs dashboard` should
    instead finish like any command, with exit code 0.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def serve(db_path: str, *, host: str, port: int, token: str | None) -> None:
    """Serve `db_path` with the dashboard plugin until interrupted.

    Raises:
        PortInUseError: The address is taken.
    """
    web.configure(bind_host=host, token=token)
    if not pm.is_registered(web):
        pm.register(web, name="codesession")
    # Datasette's handler prints tracebacks to stdout; ours answers instead.
    pm.set_blocked(DEFAULT_HANDLER)
    datasette = Datasette([db_path], settings={"sql_time_limit_ms": 5000})

    config = uvicorn.Config(
        datasette.app(), log_level="warning", lifespan="on", ws="none"
    )
    server = _Server(config)
    # From the moment the port listens, a signal means a clean stop, even if it
    # comes before uvicorn installs its own handlers (it checks the flag then).
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in STOP_SIGNALS}
    try:
        server.run(sockets=[_bind(host, port)])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((name, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"port {port} on {host} is in use") from None
        raise
    sock.listen(128)
    return sock
