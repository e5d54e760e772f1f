"""codesession (`cs`): track what AI coding agents cost.

This module is the whole API that plugins may import. It stays light: importing it
loads no plugin, opens no database and imports no heavy library.
"""

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
from .pricing import PriceSource, load_table, price_from_dict

__version__ = "3.0.0"

__all__ = [
    "PROJECT_NAME",
    "AlertSink",
    "BudgetExceededError",
    "Commit",
    "Cost",
    "CsError",
    "Dashboard",
    "DatabaseError",
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
    "hookimpl",
    "load_table",
    "price_from_dict",
]
