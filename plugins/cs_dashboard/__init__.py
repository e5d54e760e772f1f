"""The web dashboard of `cs dashboard`: a Datasette plugin with cost pages.

This module stays light, because `cs` imports every plugin to ask what it
registers: Datasette and uvicorn are imported only when the server starts.
"""

from collections.abc import Callable
from typing import Any

from cs_core import hookimpl


class DatasetteDashboard:
    """Serves the session database with Datasette and the dashboard pages."""

    name = "datasette"

    def serve(self, db_path: str, *, host: str, port: int, token: str | None) -> None:
        """Serve until SIGINT or SIGTERM, then return.

        Args:
            db_path: The SQLite database to show.
            host: Address to listen on.
            port: Port to listen on.
            token: Secret every request must carry, or None on loopback.
        """
        from .server import serve  # Datasette and uvicorn: ~350 ms to import

        serve(db_path, host=host, port=port, token=token)


@hookimpl
def register_dashboards(register: Callable[[Any], None]) -> None:
    """Register the Datasette dashboard."""
    register(DatasetteDashboard())
