"""The exporter's settings: `otel.json` in the data folder, then the standard
`OTEL_*` variables, which win as they do for every OpenTelemetry SDK.

Nothing here imports OpenTelemetry, so `cs otel status` and the hot path of
`cs log-ai` stay light.
"""

import getpass
import json
import os
import socket
from pathlib import Path
from typing import Any

from cs_core import InvalidInputError, data_home

CONFIG_FILE = "otel.json"
DEFAULT_ENDPOINT = "http://localhost:4318"
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME = "codesession"
TEAM_ATTRIBUTE = "codesession.team"
USER_ATTRIBUTE = "user.name"
HOST_ATTRIBUTE = "host.name"


def config_path() -> Path:
    """Return the settings file of the current data folder."""
    return data_home() / CONFIG_FILE


def read_config() -> dict[str, Any]:
    """Return the saved settings; empty when there are none.

    Raises:
        InvalidInputError: The file exists but is not a JSON object.
    """
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path} must hold a JSON object")
    return data


def save_config(data: dict[str, Any]) -> None:
    """Write the settings, readable by their owner only."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def endpoint(config: dict[str, Any]) -> str:
    """Return the collector's base URL (without `/v1/...`)."""
    base = os.environ.get(ENDPOINT_ENV) or config.get("endpoint") or DEFAULT_ENDPOINT
    return str(base).rstrip("/")


def signal_url(config: dict[str, Any], signal: str) -> str:
    """Return the URL of one signal: `metrics`, `traces` or `logs`."""
    return f"{endpoint(config)}/v1/{signal}"


def identity(config: dict[str, Any]) -> dict[str, str]:
    """Return the team, user and host attributes that tell people apart.

    `OTEL_RESOURCE_ATTRIBUTES` can still override each of them.
    """
    found = {
        USER_ATTRIBUTE: config.get("user") or _login(),
        HOST_ATTRIBUTE: config.get("host") or socket.gethostname(),
    }
    if config.get("team"):
        found[TEAM_ATTRIBUTE] = config["team"]
    return {key: str(value) for key, value in found.items() if value}


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
