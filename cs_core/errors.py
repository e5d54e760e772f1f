"""Every error `cs` reports, one class per contract error code.

The tree::

    CsError                      base; carries code, message, hint and extra keys
    ├── SessionActiveError       session_active
    ├── SessionNotFoundError     session_not_found
    ├── NoActiveSessionError     no_active_session
    ├── InvalidInputError        invalid_input
    ├── MissingTokensError       missing_tokens
    ├── UnknownModelError        unknown_model
    ├── PortInUseError           port_in_use
    ├── DatabaseError            database_error
    ├── ConfigError              config_error
    ├── PluginError              plugin_error
    ├── BudgetExceededError      budget_exceeded
    └── InternalError            internal_error

Core code and plugins raise these and never print or exit; the CLI entry point turns
them into the JSON envelope or a line on stderr, with exit code 1.
"""

from typing import Any, ClassVar


class CsError(Exception):
    """Base of every error that `cs` reports to its user.

    Args:
        message: One sentence naming the bad value.
        hint: What the user can do next, shown on a second line.
        **extra: Additional keys for the JSON error object.
    """

    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, hint: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.extra = extra


class SessionActiveError(CsError):
    """A session is already active in this scope."""

    code = "session_active"


class SessionNotFoundError(CsError):
    """No session has the requested id."""

    code = "session_not_found"


class NoActiveSessionError(CsError):
    """The command needs an active session and this scope has none."""

    code = "no_active_session"


class InvalidInputError(CsError):
    """An argument or a value read from a file is out of range or malformed."""

    code = "invalid_input"


class MissingTokensError(CsError):
    """An AI call was logged without any token count."""

    code = "missing_tokens"


class UnknownModelError(CsError):
    """No price is known for a model and no cost was given."""

    code = "unknown_model"


class PortInUseError(CsError):
    """A server could not bind its port."""

    code = "port_in_use"


class DatabaseError(CsError):
    """The database is unreadable, corrupt, read-only or locked beyond the timeout."""

    code = "database_error"


class ConfigError(CsError):
    """A file in the data folder (such as pricing.json) is corrupt or unwritable."""

    code = "config_error"


class PluginError(CsError):
    """A plugin raised an exception or misbehaved; the message names the plugin."""

    code = "plugin_error"


class BudgetExceededError(CsError):
    """Spend has reached a budget limit."""

    code = "budget_exceeded"


class InternalError(CsError):
    """An unexpected failure; the message is the original exception's."""

    code = "internal_error"


ERROR_CLASSES: tuple[type[CsError], ...] = (
    SessionActiveError,
    SessionNotFoundError,
    NoActiveSessionError,
    InvalidInputError,
    MissingTokensError,
    UnknownModelError,
    PortInUseError,
    DatabaseError,
    ConfigError,
    PluginError,
    BudgetExceededError,
    InternalError,
)
