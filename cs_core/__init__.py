"""codesession (`cs`): track what AI coding agents cost.

This module is the whole API that plugins may import. It stays light: importing it
loads no plugin, opens no database and imports no heavy library.
"""

from typing import Any

from . import events
from ._version import __version__
from .db import connect, data_home
from .errors import (
    BudgetExceededError,
    CsError,
    DatabaseError,
    InternalError,
    InvalidInputError,
    MissingTokensError,
    NoActiveSessionError,
    PluginError,
    PortInUseError,
    SessionActiveError,
    SessionNotFoundError,
    UnknownModelError,
)
from .events import Event, EventSink
from .hookspecs import PROJECT_NAME, hookimpl
from .models import (
    AlertSink,
    Commit,
    Cost,
    Dashboard,
    ExportOptions,
    FileChange,
    HeadInfo,
    ModelPrice,
    OutputFormat,
    Rates,
    RepoInfo,
    ScanResult,
    Tier,
    Usage,
    VcsBackend,
)
from .output import emit_json, envelope, format_usd, write_stderr, write_stdout
from .pricing import PriceSource, load_table, price_from_dict, table_source

__all__ = [
    "PROJECT_NAME",
    "AlertSink",
    "BudgetExceededError",
    "Commit",
    "Cost",
    "CsError",
    "Dashboard",
    "DatabaseError",
    "Event",
    "EventSink",
    "ExportOptions",
    "FileChange",
    "HeadInfo",
    "InternalError",
    "InvalidInputError",
    "MissingTokensError",
    "ModelPrice",
    "NoActiveSessionError",
    "OutputFormat",
    "PluginError",
    "PortInUseError",
    "PriceSource",
    "Rates",
    "RepoInfo",
    "ScanResult",
    "SessionActiveError",
    "SessionNotFoundError",
    "Tier",
    "UnknownModelError",
    "Usage",
    "VcsBackend",
    "__version__",
    "connect",
    "data_home",
    "emit_json",
    "envelope",
    "events",
    "format_usd",
    "hookimpl",
    "load_table",
    "price_from_dict",
    "table_source",
    "write_stderr",
    "write_stdout",
]

# Integrations (proxies, wrappers) need the session and call services, which load
# the store and the plugin manager: those names load on first use, not here.
_LAZY = {
    "CallInput": "cs_core.calls",
    "record_call": "cs_core.tracking",
    "begin_session": "cs_core.tracking",
    "finish_session": "cs_core.tracking",
    # Agent-log import machinery, for log-reader plugins (`cs import`).
    "FileResult": "cs_core.importing",
    "FoundCall": "cs_core.importing",
    "FoundSession": "cs_core.importing",
    "import_logs": "cs_core.importing",
    "log_into_active_session": "cs_core.importing",
    "normalize_timestamp": "cs_core.importing",
    # The Python API for agents (docs/agents.md).
    "TrackedSession": "cs_core.api",
    "track": "cs_core.api",
    # Time, periods and figures, for dashboards and reports.
    "display_zone": "cs_core.clock",
    "format_duration": "cs_core.clock",
    "now": "cs_core.clock",
    "parse_instant": "cs_core.clock",
    "to_iso": "cs_core.clock",
    "day_bounds": "cs_core.periods",
    "offset_changes": "cs_core.periods",
    "shifted_sql": "cs_core.periods",
    "today_bounds": "cs_core.periods",
    "Period": "cs_core.stats",
    "summary": "cs_core.stats",
    "money": "cs_core.output",
    "session_detail": "cs_core.sessions",
    "backend_for": "cs_core.sessions",
    "budgets": "cs_core.budgets",
    # Prices, for tools that show or edit them.
    "load_price_book": "cs_core.pricing",
    "parse_rate": "cs_core.pricing",
    "price_to_dict": "cs_core.pricing",
    "read_user_price_data": "cs_core.pricing",
    "save_user_price_data": "cs_core.pricing",
    "user_pricing_path": "cs_core.pricing",
    "user_price_key": "cs_core.pricing",
    "set_user_price": "cs_core.pricing",
    "remove_user_price": "cs_core.pricing",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cs_core' has no attribute '{name}'")
    import importlib

    module = importlib.import_module(_LAZY[name])
    return module if module.__name__ == f"cs_core.{name}" else getattr(module, name)
